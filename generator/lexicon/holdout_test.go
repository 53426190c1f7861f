package lexicon

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestHoldoutReserved(t *testing.T) {
	words := make([]string, 400)
	for i := range words {
		words[i] = fmt.Sprintf("item-%d", i)
	}
	for _, tc := range []struct {
		name  string
		share float64
		items []string
		// want is the reserved flags, or nil to check the threshold rule.
		want []bool
	}{
		{"zero share", 0, words[:5], []bool{false, false, false, false, false}},
		{"empty", 0.25, nil, []bool{}},
		{"large list", 0.25, words, nil},
		{"half", 0.5, words, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Reserved(tc.share, NSValue, tc.items)
			if tc.want != nil {
				if !slices.Equal(got, tc.want) {
					t.Fatalf("Reserved = %v, want %v", got, tc.want)
				}
				return
			}
			n := 0
			for i, r := range got {
				if r != (Unit(NSValue, tc.items[i]) < tc.share) {
					t.Fatalf("item %q: reserved=%v with unit %g", tc.items[i], r, Unit(NSValue, tc.items[i]))
				}
				if r {
					n++
				}
			}
			// 400 items at p: the count is binomial; 5 standard deviations either way.
			mean, sd := tc.share*400, math.Sqrt(400*tc.share*(1-tc.share))
			if math.Abs(float64(n)-mean) > 5*sd {
				t.Errorf("%d of 400 reserved at share %g", n, tc.share)
			}
		})
	}
}

// TestHoldoutSmallLists checks the rule for short lists: both sides keep an
// item, equal items share a side, and a one-item list follows its hash.
func TestHoldoutSmallLists(t *testing.T) {
	for k := range 200 {
		a, b, c := fmt.Sprintf("a%d", k), fmt.Sprintf("b%d", k), fmt.Sprintf("c%d", k)
		for _, list := range [][]string{{a, b}, {a, b, c}, {a, a, b}, {a, b, a, c, c}} {
			for _, share := range []float64{0.01, 0.25, 0.99} {
				got := Reserved(share, NSTemplate, list)
				side := map[string]bool{}
				for i, r := range got {
					if prev, ok := side[list[i]]; ok && prev != r {
						t.Fatalf("%v at %g: equal items on both sides: %v", list, share, got)
					}
					side[list[i]] = r
				}
				if !slices.Contains(got, true) || !slices.Contains(got, false) {
					t.Fatalf("%v at %g: one side is empty: %v", list, share, got)
				}
			}
		}
		one := Reserved(0.25, NSTemplate, []string{a})
		if one[0] != (Unit(NSTemplate, a) < 0.25) {
			t.Fatalf("one-item list %q: reserved=%v, unit %g", a, one[0], Unit(NSTemplate, a))
		}
	}
}

// TestHoldoutNested checks that an item reserved at a share stays reserved at
// a larger one, and that the namespaces hash apart.
func TestHoldoutNested(t *testing.T) {
	d, err := loadData()
	if err != nil {
		t.Fatal(err)
	}
	differ := 0
	for name, vals := range d.lists {
		small, large := Reserved(0.25, NSValue, vals), Reserved(0.5, NSValue, vals)
		for i := range vals {
			if small[i] && !large[i] {
				t.Errorf("%s: %q reserved at 0.25 but not at 0.5", name, vals[i])
			}
			if (Unit(NSValue, vals[i]) < 0.25) != (Unit(NSTemplate, vals[i]) < 0.25) {
				differ++
			}
		}
	}
	if differ == 0 {
		t.Error("the template and value namespaces reserve the same items")
	}
}

// TestSourceDrawsFromItsSide draws every generator's values from both sides
// of a split and checks each list item drawn, through the trace; the zero
// Source draws exactly what the package functions draw.
func TestSourceDrawsFromItsSide(t *testing.T) {
	d, err := loadData()
	if err != nil {
		t.Fatal(err)
	}
	gens := []string{"person_name", "contact_name", "email", "url", "street_address", "city", "company", "coupon_code",
		"flight_number", "hostname", "sensor_id", "product_name", "loyalty_number"}
	for _, test := range []bool{false, true} {
		drawn := 0
		src := Source{Holdout: Holdout{Share: 0.25, Test: test}, Trace: func(dr Draw) {
			drawn++
			at := slices.Index(dr.Items, dr.Item)
			if at < 0 || dr.Fallback || !slices.Equal(dr.Items, d.lists[dr.List]) && dr.List != "near_miss" {
				t.Fatalf("draw %+v is not an item of its whole list", dr)
			}
			if Reserved(0.25, NSValue, dr.Items)[at] != test {
				t.Fatalf("test=%v drew %s %q from the other side", test, dr.List, dr.Item)
			}
		}}
		r := rand.New(rand.NewPCG(1, 2))
		for range 300 {
			for _, g := range gens {
				if _, err := src.Value(g, r); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := src.PatternValue(`^[a-z][a-z_]{2,20}\.pdf$`, r); err != nil {
				t.Fatal(err)
			}
			if _, err := src.NearMiss([]string{"daily", "weekly", "monthly"}, r); err != nil {
				t.Fatal(err)
			}
		}
		if drawn < 300*len(gens) {
			t.Errorf("test=%v: only %d draws traced", test, drawn)
		}
	}
	a, b := rand.New(rand.NewPCG(3, 4)), rand.New(rand.NewPCG(3, 4))
	for range 200 {
		for _, g := range gens {
			x, _ := Value(g, a)
			y, _ := Source{}.Value(g, b)
			if x != y {
				t.Fatalf("%s: Value %q, zero Source %q", g, x, y)
			}
		}
	}
}

// TestSourcePart checks Part and Pick on a list of one item: the side without
// it gets nothing from Part and the whole list, flagged, from Pick.
func TestSourcePart(t *testing.T) {
	var item string
	for k := 0; ; k++ {
		if item = fmt.Sprintf("only-%d", k); Unit(NSTemplate, item) < 0.25 {
			break
		}
	}
	list := []string{item}
	var last Draw
	open := Source{Holdout: Holdout{Share: 0.25}, Trace: func(d Draw) { last = d }}
	if got := open.Part(NSTemplate, list); len(got) != 0 {
		t.Fatalf("the open side got the reserved item: %v", got)
	}
	if got := open.Pick(rand.New(rand.NewPCG(1, 1)), NSTemplate, "one", list); got != item || !last.Fallback {
		t.Fatalf("Pick = %q (draw %+v), want the fallback %q", got, last, item)
	}
	held := Source{Holdout: Holdout{Share: 0.25, Test: true}}
	if got := held.Part(NSTemplate, list); !slices.Equal(got, list) {
		t.Fatalf("the test side lacks its reserved item: %v", got)
	}
	if got := (Source{}).Pick(rand.New(rand.NewPCG(1, 1)), NSTemplate, "none", nil); got != "" {
		t.Fatalf("Pick of an empty list = %q", got)
	}
}

package review

import (
	"fmt"
	"math"
	"testing"
	"time"
)

func TestWilson(t *testing.T) {
	tests := []struct {
		k, n      int
		low, high float64
	}{
		{0, 10, 0, 0.2775},
		{5, 10, 0.2366, 0.7634},
		{10, 10, 0.7225, 1},
		{2, 20, 0.0279, 0.3010},
		{0, 0, 0, 1},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d of %d", tc.k, tc.n), func(t *testing.T) {
			low, high := Wilson(tc.k, tc.n, 1.96)
			if math.Abs(low-tc.low) > 1e-3 || math.Abs(high-tc.high) > 1e-3 {
				t.Fatalf("Wilson(%d, %d) = [%.4f, %.4f], want [%.4f, %.4f]", tc.k, tc.n, low, high, tc.low, tc.high)
			}
		})
	}
}

// kinds turns "AARE" into approve, approve, reject, edit.
func kinds(s string) []Kind {
	m := map[rune]Kind{'A': Approve, 'R': Reject, 'E': Edit}
	out := make([]Kind, 0, len(s))
	for _, c := range s {
		out = append(out, m[c])
	}
	return out
}

func TestCohensKappa(t *testing.T) {
	// The textbook 2x2 example: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no.
	// po = 35/50 = 0.7, pe = 0.5*0.6 + 0.5*0.4 = 0.5, kappa = 0.2/0.5 = 0.4.
	var a, b string
	for _, c := range []struct {
		a, b string
		n    int
	}{{"A", "A", 20}, {"A", "R", 5}, {"R", "A", 10}, {"R", "R", 15}} {
		for range c.n {
			a, b = a+c.a, b+c.b
		}
	}
	tests := []struct {
		name string
		a, b []Kind
		want float64
		ok   bool
	}{
		{"textbook 2x2", kinds(a), kinds(b), 0.4, true},
		// po = 7/10; pe = .6*.6 + .2*.2 + .2*.2 = .44; kappa = .26/.56.
		{"three categories by hand", kinds("AAAAARREEA"), kinds("AAAARREEAA"), 0.26 / 0.56, true},
		{"perfect agreement", kinds("AREAR"), kinds("AREAR"), 1, true},
		{"chance level", kinds("AARR"), kinds("ARAR"), 0, true},
		{"worse than chance", kinds("AR"), kinds("RA"), -1, true},
		{"one category only", kinds("AAA"), kinds("AAA"), 0, false},
		{"empty", nil, nil, 0, false},
		{"lengths differ", kinds("AR"), kinds("A"), 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := CohensKappa(tc.a, tc.b)
			if ok != tc.ok || (ok && math.Abs(got-tc.want) > 1e-9) {
				t.Fatalf("CohensKappa = %v, %v; want %v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestSummaryThreshold(t *testing.T) {
	tests := []struct {
		name                        string
		approve, reject, edit, left int
		threshold                   float64
		rate, errRate               float64
		released                    bool
	}{
		{"18 approve 2 reject", 18, 2, 0, 0, 0, 0.9, 0.1, true},
		{"17 approve 3 reject", 17, 3, 0, 0, 0, 0.85, 0.15, false},
		{"an edit counts as an error", 18, 1, 1, 0, 0, 0.9, 0.1, true},
		{"17 approve 3 edit", 17, 0, 3, 0, 0, 0.85, 0.15, false},
		{"27 of 30", 27, 3, 0, 0, 0, 0.9, 0.1, true},
		{"not done is not released", 19, 0, 0, 1, 0, 1, 0, false},
		{"custom threshold", 17, 3, 0, 0, 0.85, 0.85, 0.15, true},
		{"nothing decided", 0, 0, 0, 3, 0, 0, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := tc.approve + tc.reject + tc.edit + tc.left
			q := NewQueue(Config{Threshold: tc.threshold}, records(n))
			at := t0
			for i := range n - tc.left {
				kind := Approve
				switch {
				case i >= tc.approve+tc.reject:
					kind = Edit
				case i >= tc.approve:
					kind = Reject
				}
				at = at.Add(time.Minute)
				decide(t, q, dec(fmt.Sprintf("rev%d", i%3), fmt.Sprintf("r%d", i+1), kind, at))
			}
			s := q.Summary()
			decided := n - tc.left
			if s.Sampled != n || s.Decided != decided || s.Approved != tc.approve || s.Rejected != tc.reject || s.Edited != tc.edit {
				t.Fatalf("counts %+v", s)
			}
			if math.Abs(s.ApprovalRate-tc.rate) > 1e-12 || math.Abs(s.ErrorRate-tc.errRate) > 1e-12 || s.Released != tc.released {
				t.Fatalf("rate %v error rate %v released %v; want %v %v %v", s.ApprovalRate, s.ErrorRate, s.Released, tc.rate, tc.errRate, tc.released)
			}
			low, high := Wilson(tc.reject+tc.edit, decided, 1.96)
			if s.WilsonLow != low || s.WilsonHigh != high || (decided > 0 && s.WilsonHigh <= s.ErrorRate) {
				t.Fatalf("Wilson [%v, %v], want [%v, %v]", s.WilsonLow, s.WilsonHigh, low, high)
			}
			if s.RejectReasons["wrong_label"] != tc.reject || s.Kappa != nil {
				t.Fatalf("reasons %v kappa %v", s.RejectReasons, s.Kappa)
			}
			if q.Done() != (tc.left == 0) {
				t.Fatalf("Done() = %v with %d left", q.Done(), tc.left)
			}
		})
	}
}

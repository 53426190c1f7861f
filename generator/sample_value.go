package generator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/cyclecore/mlmforge/generator/lexicon"
)

// optionalP is the probability that an optional property gets a value.
const optionalP = 0.6

// sample draws a value valid against the node, strings from src.
func (n *valueNode) sample(r *rand.Rand, src lexicon.Source) (any, error) {
	if len(n.enum) > 0 {
		return n.enum[r.IntN(len(n.enum))], nil
	}
	switch n.typ {
	case "object":
		return n.sampleObject(r, src, nil, nil)
	case "array":
		return n.sampleArray(r, src)
	case "string":
		return n.sampleString(r, src)
	case "integer":
		return n.sampleInt(r), nil
	case "number":
		return n.sampleNumber(r), nil
	case "boolean":
		return r.IntN(2) == 0, nil
	}
	return nil, fmt.Errorf("property %q: cannot sample type %q", n.name, n.typ)
}

// sampleObject draws an object: every required property, every property in
// force, each other one with probability optionalP. preset values are used
// as they are (a dialogue's shared or referenced arguments).
func (n *valueNode) sampleObject(r *rand.Rand, src lexicon.Source, preset map[string]any, force map[string]bool) (map[string]any, error) {
	out := map[string]any{}
	for _, p := range n.props {
		// Draw the coin for every property, so that a preset does not shift
		// the random stream of the properties after it.
		include := r.Float64() < optionalP || n.required[p.name] || force[p.name]
		if v, ok := preset[p.name]; ok {
			out[p.name] = v
			continue
		}
		if !include {
			continue
		}
		v, err := p.sample(r, src)
		if err != nil {
			return nil, err
		}
		// Two properties with one string value ("from Wallet to Wallet")
		// read as a mistake, as repeated array items do: retry a few times.
		for try := 0; try < 5 && sameString(out, v); try++ {
			if v, err = p.sample(r, src); err != nil {
				return nil, err
			}
		}
		out[p.name] = v
	}
	n.orderPairs(out, preset, r)
	return out, nil
}

func (n *valueNode) sampleArray(r *rand.Rand, src lexicon.Source) ([]any, error) {
	if n.items == nil {
		return nil, fmt.Errorf("array %q has no items schema", n.name)
	}
	lo, hi := max(n.minItems, 1), n.maxItems
	if hi < lo {
		hi = lo + 2
	}
	count := lo + r.IntN(hi-lo+1)
	out := make([]any, 0, count)
	seen := map[string]bool{}
	for range count {
		var v any
		// Repeated scalars ("kitchen, kitchen") read as a mistake; retry a few times.
		for range 5 {
			var err error
			if v, err = n.items.sample(r, src); err != nil {
				return nil, err
			}
			if s, ok := v.(string); !ok || !seen[s] {
				break
			}
		}
		if s, ok := v.(string); ok {
			seen[s] = true
		}
		out = append(out, v)
	}
	return out, nil
}

func (n *valueNode) sampleString(r *rand.Rand, src lexicon.Source) (string, error) {
	switch {
	case n.pattern != "":
		return src.PatternValue(n.pattern, r)
	case n.birth && n.format == "date":
		return lexicon.DateIn(r, 1945, 2007), nil
	case n.format != "":
		return src.FormatValue(n.format, r)
	case n.gen != "":
		return src.Value(n.gen, r)
	}
	return "", fmt.Errorf("string %q has no value generator (enum, pattern, format or x-gen)", n.name)
}

// intBounds returns an integer's inclusive range; the loader requires both
// bounds, the fallback only guards hand-made schemas.
func (n *valueNode) intBounds() (lo, hi int) {
	lo, hi = 1, 100
	if n.hasMin {
		lo = int(math.Ceil(n.min))
	}
	if n.hasMax {
		hi = int(math.Floor(n.max))
	}
	if hi < lo {
		hi = lo
	}
	return lo, hi
}

// sampleInt draws an integer; over a wide range it favours round values
// (reminders 15 or 90 minutes before, not 83), as people state them.
func (n *valueNode) sampleInt(r *rand.Rand) int {
	lo, hi := n.intBounds()
	step := 1
	switch span := hi - lo; {
	case span >= 500:
		step = 10
	case span >= 60:
		step = 5
	}
	if step > 1 && r.IntN(10) < 7 {
		a, b := -floorDiv(-lo, step), floorDiv(hi, step) // ceil(lo/step), floor(hi/step)
		if b >= a {
			return step * (a + r.IntN(b-a+1))
		}
	}
	return lo + r.IntN(hi-lo+1)
}

// floorDiv is a/b rounded down (Go's / truncates towards zero).
func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// sampleNumber draws a decimal a text can state: money with two decimals (or
// a whole amount), other quantities with zero to two.
func (n *valueNode) sampleNumber(r *rand.Rand) float64 {
	var decimals int
	switch k := r.IntN(10); {
	case n.money && k < 7:
		decimals = 2
	case n.money:
		decimals = 0
	case k < 3:
		decimals = 0
	case k < 8:
		decimals = 1
	default:
		decimals = 2
	}
	lo, hi := 0.0, 100.0
	if n.hasMin {
		lo = n.min
	}
	if n.hasMax {
		hi = n.max
	}
	return decimalIn(r, lo, hi, decimals)
}

// decimalIn returns a number in [lo, hi] with at most the given decimals,
// computed as an integer count of units so that it marshals exactly
// ("19.99", never "19.990000000000002").
func decimalIn(r *rand.Rand, lo, hi float64, decimals int) float64 {
	for ; decimals <= 4; decimals++ {
		scale := math.Pow10(decimals)
		a, b := int64(math.Ceil(lo*scale-1e-9)), int64(math.Floor(hi*scale+1e-9))
		if b >= a {
			return float64(a+r.Int64N(b-a+1)) / scale
		}
	}
	return lo
}

// orderedPairs are sibling properties whose values must be in order (a stay
// ends after it starts); the second is moved after the first. For a pair of
// objects (a flight's departure and arrival) the dates and times they share
// are ordered.
var orderedPairs = [][2]string{
	{"start", "end"}, {"start_date", "end_date"}, {"start_time", "end_time"},
	{"check_in", "check_out"}, {"check_in_date", "check_out_date"},
	{"issue_date", "due_date"}, {"departure_date", "return_date"}, {"earliest", "latest"},
	{"departure", "arrival"}, {"pickup", "dropoff"},
}

// orderPairs moves the second value of each ordered pair a plausible span
// after the first, unless the second was preset.
func (n *valueNode) orderPairs(obj map[string]any, preset map[string]any, r *rand.Rand) {
	for _, pair := range orderedPairs {
		pa, pb := n.prop(pair[0]), n.prop(pair[1])
		if _, fixed := preset[pair[1]]; fixed || pa == nil || pb == nil {
			continue
		}
		switch a := obj[pair[0]].(type) {
		case string:
			if _, ok := obj[pair[1]].(string); ok && pa.format == pb.format {
				if v, ok := laterValue(pa.format, a, pair[1], r); ok {
					obj[pair[1]] = v
				}
			}
		case map[string]any:
			b, ok := obj[pair[1]].(map[string]any)
			if !ok {
				continue
			}
			for _, ca := range pa.props {
				cb := pb.prop(ca.name)
				av, aok := a[ca.name].(string)
				_, bok := b[ca.name].(string)
				if cb == nil || !aok || !bok || ca.format == "" || ca.format != cb.format {
					continue
				}
				if v, ok := laterValue(ca.format, av, pair[1], r); ok {
					b[ca.name] = v
				}
			}
		}
	}
}

// validateAgainst validates a Go value the way the pipeline does: marshal it
// and decode it with jsonschema.UnmarshalJSON (numbers as json.Number).
func validateAgainst(sch *jsonschema.Schema, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode value: %w", err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("decode value: %w", err)
	}
	return sch.Validate(doc)
}

// sameString reports whether v is a string that a property of obj already has.
func sameString(obj map[string]any, v any) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	for _, o := range obj {
		if o == s {
			return true
		}
	}
	return false
}

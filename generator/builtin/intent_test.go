package builtin

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/schemas"
)

func TestBuiltinIntentEveryClass(t *testing.T) {
	b, cat := btTestTeacher(t)
	for _, tax := range cat.Taxonomies {
		for _, c := range tax.Classes {
			// All slots, no slots, and each slot alone.
			sets := []map[string]string{{}, {}}
			for _, s := range c.Slots {
				sets[0][s.Name] = btSlotValue(s)
				sets = append(sets, map[string]string{s.Name: btSlotValue(s)})
			}
			for i, slots := range sets {
				s := btIntentSample(tax.ID, c.ID, slots)
				for seed := int64(0); seed < 6; seed++ {
					seed := seed + int64(i)*100
					text := btWrite(t, b, s, seed)
					what := fmt.Sprintf("%s/%s slots %v seed %d", tax.ID, c.ID, slots, seed)
					btCheckClean(t, what, text)
					for name, v := range slots {
						if !strings.Contains(strings.ToLower(text), strings.ToLower(v)) {
							t.Errorf("%s: slot %s %q missing: %q", what, name, v, text)
						}
					}
				}
			}
		}
	}
}

func TestBuiltinIntentVariety(t *testing.T) {
	b, cat := btTestTeacher(t)
	for _, tax := range cat.Taxonomies {
		for _, c := range tax.Classes {
			if len(c.Patterns) < 5 {
				continue
			}
			seen := map[string]bool{}
			for seed := int64(0); seed < 200; seed++ {
				// Like the sampler: each slot mentioned with probability 0.7.
				r := btRand(seed + 1_000_000)
				slots := map[string]string{}
				for _, s := range c.Slots {
					if r.Float64() < 0.7 {
						slots[s.Name] = btSlotValue(s)
					}
				}
				seen[btWrite(t, b, btIntentSample(tax.ID, c.ID, slots), seed)] = true
			}
			if len(seen) < 150 {
				t.Errorf("%s/%s: 200 seeds gave %d distinct inputs, want >= 150", tax.ID, c.ID, len(seen))
			}
		}
	}
}

func TestBuiltinIntentProtectsSlots(t *testing.T) {
	b, _ := btTestTeacher(t)
	// Slot values that the paraphrase rules would otherwise rewrite ("show",
	// "turn on", "what is", a typo-able word) stay verbatim.
	slots := map[string]string{"city": "Show Turn On what is Tomorrow"}
	s := btIntentSample("assistant-50", "weather_current", slots)
	for seed := int64(0); seed < 300; seed++ {
		if text := btWrite(t, b, s, seed); !strings.Contains(text, slots["city"]) {
			t.Fatalf("seed %d: slot value changed: %q", seed, text)
		}
	}
}

// BenchmarkBuiltinWrite measures LabelFirst writes per task; examples/s is
// the number the pipeline cares about (target: well over 10,000/s for intents).
func BenchmarkBuiltinWrite(b *testing.B) {
	bt, cat := btTestTeacher(b)
	cases := []struct {
		name string
		s    generator.Sample
	}{
		{"intent", btIntentSample("assistant-50", "calendar_add_event",
			map[string]string{"event": "Team sync", "day": "Friday", "time": "09:30"})},
		{"json_simple", btDocSample(b, cat, "finance.payment", btPayment)},
		{"json_medium", btDocSample(b, cat, "ecommerce.order_confirmation", btOrderConfirmation)},
		{"json_complex", btDocSample(b, cat, "travel.multi_leg_itinerary", btItinerary)},
		{"funccall_single", btFuncSample(schemas.SingleTurn, generator.TurnPlan{Function: "lights_set_brightness",
			Args: map[string]any{"room": "kitchen", "brightness": 40, "transition_seconds": 5}})},
		{"funccall_multi", btFuncSample(schemas.MultiTurn,
			generator.TurnPlan{Function: "calendar_create_event", Args: map[string]any{"title": "Budget review", "start": "2026-05-04T10:00:00Z"}},
			generator.TurnPlan{Function: "calendar_update_event", Args: map[string]any{"title": "Budget review v2"}, Refs: map[string]int{"event_id": 0}})},
	}
	ctx := context.Background()
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var seed int64
			for b.Loop() {
				seed++
				if _, err := bt.Write(ctx, generator.Request{Mode: generator.LabelFirst, Sample: c.s, Seed: seed}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "examples/s")
		})
	}
}

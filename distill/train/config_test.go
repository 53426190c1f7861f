package train

import (
	"math"
	"strings"
	"testing"
)

// TestConfigLabelSmoothing: label_smoothing outside [0, 1) is refused with
// the field named; a value inside passes.
func TestConfigLabelSmoothing(t *testing.T) {
	for _, eps := range []float64{-0.1, 1, 1.5, math.NaN()} {
		c := DefaultConfig()
		c.LabelSmoothing = eps
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "label_smoothing") {
			t.Errorf("label_smoothing %g: %v, want an error naming label_smoothing", eps, err)
		}
	}
	c := DefaultConfig()
	c.LabelSmoothing = 0.1
	if err := c.Validate(); err != nil {
		t.Errorf("label_smoothing 0.1: %v", err)
	}
}

package train

import (
	"strings"
	"testing"
)

// TestPlotTickLabels: the loss plot's log axis reads 1e-05, not
// 9.999999999999999e-05, and the step axis reads 2500, not 2500.00.
func TestPlotTickLabels(t *testing.T) {
	var logLabels []string
	for _, tk := range logTicks.Ticks(3e-8, 5) {
		if tk.Label != "" {
			logLabels = append(logLabels, tk.Label)
		}
	}
	if got := strings.Join(logLabels, " "); !strings.Contains(got, "1e-05") || !strings.Contains(got, "0.001") || strings.Contains(got, "9999") {
		t.Errorf("log axis labels %q", got)
	}
	for _, tk := range stepTicks.Ticks(0, 2750) {
		if strings.Contains(tk.Label, ".") {
			t.Errorf("step axis label %q", tk.Label)
		}
	}
}

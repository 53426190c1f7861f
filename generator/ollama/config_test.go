package ollama

import (
	"strings"
	"testing"
)

func TestNewOllamaTeacherConfig(t *testing.T) {
	for _, tc := range []struct {
		host, model, want string
	}{
		{"127.0.0.1:11434", "m", "http://127.0.0.1:11434"},
		{"https://ollama.internal/", "m", "https://ollama.internal"},
		{"", "m", "host is empty"},
		{"ftp://x", "m", "scheme must be http or https"},
		{"http://x", " ", "model is empty"},
	} {
		teacher, err := New(Config{Host: tc.host, Model: tc.model})
		got := ""
		if err != nil {
			got = err.Error()
		} else {
			got = teacher.Host()
		}
		if !strings.Contains(got, tc.want) {
			t.Errorf("host %q model %q: got %q, want %q", tc.host, tc.model, got, tc.want)
		}
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/schemas"
)

// runDatasets runs "mlmforge datasets ARGS..." against home and returns its output.
func runDatasets(t *testing.T, home string, args ...string) (string, error) {
	t.Helper()
	var buf bytes.Buffer
	cmd := newDatasetsCmd(&app{home: home, out: &buf, err: &buf})
	cmd.SetOut(&buf)
	cmd.SetErr(&buf)
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	return buf.String(), err
}

// seedDatasets commits edgeintent v1 (6 rows) and v2 (8 rows, parent v1).
func seedDatasets(t *testing.T, home string) *datasets.Store {
	t.Helper()
	s, err := datasets.Open(filepath.Join(home, "datasets"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []struct {
		name, parent string
		n            int
	}{{"v1", "", 6}, {"v2", "v1", 8}} {
		w, err := s.Create(schemas.EdgeIntent, v.name)
		if err != nil {
			t.Fatal(err)
		}
		for i := range v.n {
			split, intent := "train", []string{"set_timer", "play_music"}[i%2]
			if i%4 == 3 {
				split = "test"
			}
			err := w.Write(datasets.Record{
				ID: fmt.Sprintf("%s-%d", v.name, i), Task: "edgeintent", Split: split,
				Input: "tïmer <5 min>", Target: fmt.Sprintf(`{"intent":%q}`, intent),
				Cell: intent, Variant: "assistant-50", Intent: intent,
				Provenance: `{"teacher":"t"}`, Validation: `{}`,
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		_, err = w.Commit(datasets.CommitInfo{SpecHash: "5pec0123456789abcdef", Parent: v.parent,
			Provenance: json.RawMessage(`{"workflow":"generate-` + v.name + `"}`)})
		if err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func TestDatasetsCmd(t *testing.T) {
	home := t.TempDir()
	out, err := runDatasets(t, home, "ls")
	if err != nil || !strings.Contains(out, "no datasets yet under "+filepath.Join(home, "datasets")) {
		t.Fatalf("ls on an empty home = %q, %v", out, err)
	}
	s := seedDatasets(t, home)

	tests := []struct {
		name  string
		args  []string
		want  []string // substrings of the output
		usage bool     // a usage error is expected
		err   []string // substrings of a (non-usage or usage) error
	}{
		{name: "ls", args: []string{"ls"}, want: []string{"TASK", "VERSION", "edgeintent  v1", "test=1 train=5", "test=2 train=6", "5pec01234567 ", "v1\n"}},
		{name: "ls task", args: []string{"ls", "EdgeIntent"}, want: []string{"v2"}},
		{name: "ls empty task", args: []string{"ls", "edgejson"}, want: []string{"no datasets yet"}},
		{name: "ls unknown task", args: []string{"ls", "edgevision"}, usage: true, err: []string{"valid tasks are edgejson, edgeintent, edgefunccall"}},
		{name: "ls too many", args: []string{"ls", "a", "b"}, usage: true, err: []string{"at most 1 arg"}},
		{name: "show latest", args: []string{"show", "edgeintent"}, want: []string{
			"edgeintent@v2", "spec hash  5pec0123456789abcdef", "parent     v1", "rows       8 (test=2 train=6)",
			"test.parquet", "CELL", "play_music  2     2      4", `"workflow": "generate-v2"`, "(not reviewed yet)"}},
		{name: "show version", args: []string{"show", "edgeintent@v1"}, want: []string{"edgeintent@v1", "parent     -"}},
		{name: "show unknown version", args: []string{"show", "edgeintent@v9"}, err: []string{"versions are v1, v2"}},
		{name: "show traversal", args: []string{"show", "edgeintent@../x"}, usage: true, err: []string{"../x"}},
		{name: "show no ref", args: []string{"show"}, usage: true, err: []string{"accepts 1 arg"}},
		{name: "verify", args: []string{"verify", "edgeintent@v1"}, want: []string{"edgeintent@v1: ok (2 files, 6 rows"}},
		{name: "export split", args: []string{"export", "edgeintent@v1", "--format", "jsonl", "--split", "test"},
			want: []string{`{"id":"v1-3","task":"edgeintent","split":"test","input":"tïmer <5 min>"`}},
		{name: "export bad format", args: []string{"export", "edgeintent", "--format", "csv"}, usage: true, err: []string{"--format", `"csv"`, "jsonl"}},
		{name: "export bad split", args: []string{"export", "edgeintent", "--split", "dev"}, usage: true, err: []string{"--split", "splits are test, train"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runDatasets(t, home, tt.args...)
			var ue *usageError
			if tt.usage != errors.As(err, &ue) {
				t.Errorf("usage error = %v, want usage=%v", err, tt.usage)
			}
			if len(tt.err) > 0 && err == nil {
				t.Fatalf("no error; output:\n%s", out)
			}
			if len(tt.err) == 0 && err != nil {
				t.Fatalf("error %v; output:\n%s", err, out)
			}
			for _, sub := range tt.err {
				if !strings.Contains(err.Error(), sub) {
					t.Errorf("error %q does not mention %q", err, sub)
				}
			}
			for _, sub := range tt.want {
				if !strings.Contains(out, sub) {
					t.Errorf("output does not contain %q:\n%s", sub, out)
				}
			}
		})
	}

	t.Run("export all to file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "all.jsonl")
		out, err := runDatasets(t, home, "export", "edgeintent@v2", "--format", "jsonl", "--out", path)
		if err != nil || !strings.Contains(out, "exported 8 rows of edgeintent@v2 to "+path) {
			t.Fatalf("export --out = %q, %v", out, err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		if len(lines) != 8 || !strings.Contains(lines[0], `"split":"test"`) || !strings.Contains(lines[7], `"split":"train"`) {
			t.Errorf("exported lines (test first, then train):\n%s", data)
		}
		for _, line := range lines {
			var r datasets.Record
			if err := json.Unmarshal([]byte(line), &r); err != nil || r.Task != "edgeintent" {
				t.Errorf("line %q: %v", line, err)
			}
		}
	})

	t.Run("verify a modified file", func(t *testing.T) {
		v, err := s.Version(schemas.EdgeIntent, "v2")
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(v.Dir(), "train.parquet")
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		data[len(data)/2] ^= 1
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err = runDatasets(t, home, "verify", "edgeintent@v2")
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "sha256") {
			t.Errorf("verify of a modified file = %v, want an error naming %s", err, path)
		}
	})

	t.Run("help", func(t *testing.T) {
		for _, sub := range []string{"ls", "show", "export", "verify"} {
			out, err := runDatasets(t, home, sub, "--help")
			if err != nil || !strings.Contains(out, "Examples:") || !strings.Contains(out, "mlmforge datasets "+sub) {
				t.Errorf("%s --help = %v:\n%s", sub, err, out)
			}
		}
	})
}

package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/schemas"
)

// runImport runs "mlmforge import ARGS..." against home and returns its output.
func runImport(t *testing.T, home string, args ...string) (string, error) {
	t.Helper()
	var buf bytes.Buffer
	cmd := newImportCmd(&app{home: home, out: &buf, err: &buf})
	cmd.SetOut(&buf)
	cmd.SetErr(&buf)
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	return buf.String(), err
}

func TestImportCmd(t *testing.T) {
	t.Setenv("MLMFORGE_EXTERNAL_DATA", "")
	home, dir := t.TempDir(), t.TempDir()
	csvPath := filepath.Join(dir, "tests.csv")
	if err := os.WriteFile(csvPath, []byte("text,intent,fold\nset a timer,set_timer,train\nplay jazz,play_music,test\nplay rock,play_music,test\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	badPath := filepath.Join(dir, "bad.jsonl")
	if err := os.WriteFile(badPath, []byte(`{"input": "a", "target": {"intent": "x"}, "split": "dev"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	csvArgs := []string{"csv", "--from", csvPath, "--task", "edgeintent", "--map", "input=text,label=intent,split=fold"}
	tests := []struct {
		name  string
		args  []string
		want  []string // substrings of the output
		usage bool     // a usage error is expected
		err   []string // substrings of the error
	}{
		{name: "csv", args: csvArgs, want: []string{"imported csv into edgeintent@v1: 3 rows", "SPLIT  ROWS", "test   2", "train  1",
			"imported from csv tests.csv sha256 "}},
		{name: "csv again", args: csvArgs, want: []string{"csv already imported as edgeintent@v1", "--force writes a new version"}},
		{name: "csv force", args: append(csvArgs, "--force"), want: []string{"imported csv into edgeintent@v2: 3 rows"}},
		{name: "csv other split default", args: []string{"csv", "--from", csvPath, "--task", "edgeintent", "--map", "input=text,label=intent",
			"--split", "val", "--version", "all-val"}, want: []string{"edgeintent@all-val: 3 rows", "val    3"}},
		{name: "bad file", args: []string{"jsonl", "--from", badPath, "--task", "edgeintent"},
			err: []string{`no records found: all 1 rows are bad`, `bad.jsonl:1:52: column "split": unknown split "dev": allowed splits are train, val, test`}},
		{name: "bad file, split allowed", args: []string{"jsonl", "--from", badPath, "--task", "edgeintent", "--splits", "dev"},
			want: []string{"imported jsonl into edgeintent@", "dev    1"}},
		{name: "unknown source", args: []string{"parquet", "--from", csvPath}, usage: true, err: []string{`unknown source "parquet"`, "clinc150, snips, bfcl, csv, jsonl"}},
		{name: "no from", args: []string{"csv", "--task", "edgeintent"}, usage: true, err: []string{"--from is required"}},
		{name: "no from, no external data", args: []string{"bfcl"}, usage: true, err: []string{"--from is required"}},
		{name: "no task", args: []string{"csv", "--from", csvPath}, usage: true, err: []string{"--task is required for csv"}},
		{name: "bad map", args: []string{"csv", "--from", csvPath, "--task", "edgeintent", "--map", "text"}, usage: true,
			err: []string{"--map", "want field=column"}},
		{name: "flag of another source", args: []string{"csv", "--from", csvPath, "--task", "edgeintent", "--oos"}, usage: true,
			err: []string{"--oos applies to clinc150 only, not csv"}},
		{name: "task mismatch", args: []string{"bfcl", "--from", dir, "--task", "edgejson"}, usage: true,
			err: []string{"bfcl imports as edgefunccall"}},
		{name: "missing benchmark", args: []string{"clinc150", "--from", filepath.Join(dir, "nope")}, err: []string{"import clinc150", "nope"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runImport(t, home, tt.args...)
			var ue *usageError
			if tt.usage != errors.As(err, &ue) {
				t.Errorf("usage error = %v, want usage=%v", err, tt.usage)
			}
			if (len(tt.err) > 0) != (err != nil) {
				t.Fatalf("error %v, want %q; output:\n%s", err, tt.err, out)
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
	// What the command wrote reads back through the store.
	s, err := datasets.Open(filepath.Join(home, "datasets"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.Version(schemas.EdgeIntent, "v1")
	if err != nil {
		t.Fatal(err)
	}
	recs, err := v.Read("test")
	if err != nil || len(recs) != 2 || !strings.HasPrefix(recs[0].ID, "tests-") || recs[0].Target != `{"intent":"play_music"}` {
		t.Fatalf("read back %+v, %v", recs, err)
	}
}

// TestImportCmdExternal imports the real benchmarks from $MLMFORGE_EXTERNAL_DATA,
// without --from, and checks the counts printed.
func TestImportCmdExternal(t *testing.T) {
	if os.Getenv("MLMFORGE_EXTERNAL_DATA") == "" {
		t.Skip("MLMFORGE_EXTERNAL_DATA not set: point it at the external benchmark data (CI: /work/shared/external)")
	}
	home := t.TempDir()
	for _, tt := range []struct {
		args []string
		want []string
	}{
		// CLINC150's 23,700 rows are checked in the importer's own tests; here the
		// small benchmarks keep this package's test time down.
		// SNIPS: 13,784 training utterances (train_*_full.json) and 700 validation ones.
		{[]string{"snips"}, []string{"imported snips into edgejson@v1: 14484 rows", "test   700", "train  13784",
			"train_PlayMusic_full.json is UTF-8 with an invalid sequence: byte 150732: CESU-8 surrogate pair decoded as U+1F355"}},
		{[]string{"snips", "--task", "edgeintent"}, []string{"imported snips into edgeintent@v1: 14484 rows"}},
		{[]string{"bfcl"}, []string{"imported bfcl into edgefunccall@v1: 1240 rows", "imported from bfcl (9 files) sha256 "}},
	} {
		out, err := runImport(t, home, tt.args...)
		if err != nil {
			t.Fatalf("import %v: %v\n%s", tt.args, err, out)
		}
		for _, sub := range tt.want {
			if !strings.Contains(out, sub) {
				t.Errorf("import %v: output does not contain %q:\n%s", tt.args, sub, out)
			}
		}
	}
}

// TestImportSplitFilesBadRowsRmScore: one file per split into one version,
// bad rows skipped and reported on stderr (or --strict stopping at the first),
// ambiguous --from forms refused, datasets rm refusing a version something
// names, and mlmforge score writing eval's report for a predictions file.
func TestImportSplitFilesBadRowsRmScore(t *testing.T) {
	t.Setenv("MLMFORGE_EXTERNAL_DATA", "")
	home, dir := t.TempDir(), t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	trainCSV := write("train.csv", "text,intent\nset a timer,set_timer\nplay jazz,play_music\nwhat's up,\n")
	testCSV := write("test.csv", "text,intent\nplay rock,play_music\nwake me at 7,set_timer\nné,Set Timer.\n")
	args := []string{"csv", "--from", "train=" + trainCSV, "--from", "test=" + testCSV, "--task", "edgeintent", "--map", "input=text,label=intent"}
	out, err := runImport(t, home, args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	mustHave(t, out, "imported csv into edgeintent@v1: 5 rows", "test   3", "train  2",
		`skipped train.csv:4:11: column "intent": empty label`, "1 bad row(s) skipped",
		`warning: labels "set_timer", "Set Timer." are one class for the scorer`)
	if _, err := runImport(t, home, append(args, "--strict", "--force")...); err == nil || !strings.Contains(err.Error(), "train.csv:4:11") {
		t.Errorf("--strict: %v", err)
	}
	for _, bad := range [][]string{
		{"csv", "--from", trainCSV, "--from", testCSV, "--task", "edgeintent"},
		{"csv", "--from", "train=" + trainCSV, "--from", "train=" + testCSV, "--task", "edgeintent"},
		{"csv", "--from", "train=" + trainCSV, "--split", "val", "--task", "edgeintent"},
		{"bfcl", "--from", "test=" + dir},
	} {
		var ue *usageError
		if _, err := runImport(t, home, bad...); !errors.As(err, &ue) {
			t.Errorf("import %v: %v, want a usage error", bad, err)
		}
	}
	checkScoreAndRm(t, home, dir)
}

// checkScoreAndRm scores a predictions file against edgeintent@v1, then
// removes the version only once the score's report no longer names it.
func checkScoreAndRm(t *testing.T, home, dir string) {
	t.Helper()
	s, err := datasets.Open(filepath.Join(home, "datasets"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.Version(schemas.EdgeIntent, "v1")
	if err != nil {
		t.Fatal(err)
	}
	recs, err := v.Read("test")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for i, r := range recs[:2] { // the third record has no prediction
		raw := `{\"intent\": \"` + r.Intent + `\"}`
		if i == 1 {
			raw = "PLAY MUSIC"
		}
		lines = append(lines, `{"id": "`+r.ID+`", "output": "`+raw+`"}`)
	}
	preds := filepath.Join(dir, "other.jsonl")
	if err := os.WriteFile(preds, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(dir, "report")
	out, errOut, err := runCmd(t, home, "score", "--dataset", "edgeintent@v1", "--predictions", preds, "--model", "other:sys", "--out", report)
	if err != nil {
		t.Fatalf("score: %v\n%s%s", err, out, errOut)
	}
	mustHave(t, out+errOut, "other:sys", "edgeintent@v1/test", "1 of 3 records had no prediction", "Report: "+report)
	md, err := os.ReadFile(filepath.Join(report, "report.md"))
	if err != nil || !strings.Contains(string(md), "| other:sys | — | unknown |") {
		t.Fatalf("report.md: %v\n%s", err, md)
	}
	if err := os.MkdirAll(filepath.Join(home, "reports"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(report, filepath.Join(home, "reports", "score-x")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCmd(t, home, "datasets", "rm", "edgeintent@v1"); err == nil || !strings.Contains(err.Error(), "report "+filepath.Join(home, "reports", "score-x")) {
		t.Fatalf("rm of a reported version: %v", err)
	}
	if err := os.RemoveAll(filepath.Join(home, "reports")); err != nil {
		t.Fatal(err)
	}
	if out, _, err := runCmd(t, home, "datasets", "rm", "edgeintent@v1"); err != nil || !strings.Contains(out, "removed edgeintent@v1 (5 rows)") {
		t.Fatalf("rm: %v %s", err, out)
	}
	if _, _, err := runCmd(t, home, "score", "--dataset", "edgeintent@v1", "--predictions", preds); err == nil {
		t.Error("score on a removed version")
	}
}

// runCmd runs "mlmforge ARGS..." in process against home.
func runCmd(t *testing.T, home string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCmd(&out, &errOut)
	root.SetArgs(append([]string{"--home", home}, args...))
	err := root.Execute()
	return out.String(), errOut.String(), err
}

func mustHave(t *testing.T, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("output lacks %q:\n%s", w, text)
		}
	}
}

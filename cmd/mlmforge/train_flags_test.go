package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// flagCase is a command line that must be refused before any workflow or
// embedded server starts, with an error containing want.
type flagCase struct {
	args []string
	want string
}

// checkRefused runs each case in a fresh home and checks the error names
// the flag, is a usage error (exit 2), and that no Temporal server was
// started for it (the home has no temporal/ directory).
func checkRefused(t *testing.T, cases []flagCase) {
	t.Helper()
	for _, tc := range cases {
		home := t.TempDir()
		_, _, err := runCmd(t, home, tc.args...)
		var ue *usageError
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.As(err, &ue) {
			t.Errorf("%v: error %v, want a usage error containing %q", tc.args, err, tc.want)
		}
		if _, err := os.Stat(filepath.Join(home, "temporal")); err == nil {
			t.Errorf("%v: a Temporal server was started before the flags were checked", tc.args)
		}
	}
}

// TestTrainFlagsFailFast (issue 14 item 7): train refuses bad flags before
// a workflow starts, naming the flag. The remote cases give --address a
// closed port: reaching it would fail differently.
func TestTrainFlagsFailFast(t *testing.T) {
	remote := func(extra ...string) []string {
		return append([]string{"train", "--preset", "tiny-intent", "--dataset", "edgeintent@v1", "--address", "127.0.0.1:1"}, extra...)
	}
	local := func(extra ...string) []string { return append([]string{"train"}, extra...) }
	checkRefused(t, []flagCase{
		{local("--preset", "nope", "--dataset", "edgeintent@v1"), "--preset: "},
		{remote("--method", "lora"), `--method: method "lora" does not apply to a encoder`},
		{remote("--method", "dpo"), `--method: method "dpo"`},
		{local("--preset", "tiny-json", "--dataset", "edgejson@v1", "--method", "lora"), "--base: methods lora and full need a base model"},
		{local("--preset", "tiny-json", "--dataset", "edgejson@v1", "--base", "/nonexistent/base.gguf", "--method", "lora"), "--base /nonexistent/base.gguf: no such file or directory"},
		{[]string{"train", "--preset", "tiny-json", "--dataset", "edgejson@v1", "--base", "x.gguf"}, "--base: methods lora and full"},
		{local("--preset", "tiny-intent", "--dataset", "edgeintent@../../etc"), `--dataset: dataset ref "edgeintent@../../etc": invalid version name`},
		{local("--preset", "tiny-intent", "--dataset", "edgejson@v1"), "--dataset edgejson@v1: preset tiny-intent is for edgeintent, not edgejson"},
		{local("--preset", "tiny-intent", "--dataset", "edgeintent@v9"), "--dataset: "},
		{local("--preset", "tiny-intent", "--dataset", "edgeintent@v1", "--datasets", "edgejson@v1"), "--dataset and --datasets"},
		{local("--preset", "tiny-balanced", "--dataset", "edgeintent@v1"), "--dataset: preset tiny-balanced trains several tasks"},
		{remote("--steps", "-5"), "--steps -5: want 0 to 10000000"},
		{remote("--steps", "1000000000"), "--steps 1000000000: want 0 to 10000000"},
		{remote("--batch-size", "-1"), "--batch-size -1: want 0 to 4096"},
		{remote("--grad-accum", "-2"), "--grad-accum -2: want 0 to 1024"},
		{remote("--seq-len", "100000"), "--seq-len 100000: want 0 to 64"},
		{remote("--checkpoint-every", "-1"), "--checkpoint-every -1: want 0 to"},
		{remote("--validate-every", "-3"), "--validate-every -3: want -1 to"},
		{remote("--patience", "-2"), "--patience -2: want -1 to"},
		{remote("--scramble-copies", "-4"), "--scramble-copies -4: want -1 to 100"},
		{remote("--heartbeat-timeout", "-1"), "--heartbeat-timeout -1: want 0 to 86400"},
		{remote("--lr", "-0.1"), "--lr -0.1: want 0 to 1"},
		{remote("--lr", "NaN"), "--lr NaN: want 0 to 1"},
		{remote("--kd-alpha", "2"), "--kd-alpha 2: want 0 to 1"},
		{remote("--kd-temperature", "-1"), "--kd-temperature -1: want 0 to 100"},
		{remote("--weights", "edgeintent=2"), "--weights edgeintent: not a task of --datasets"},
		{[]string{"train", "--preset", "tiny-balanced", "--datasets", "edgeintent@v1,edgejson@v1", "--weights", "edgejson=-1",
			"--address", "127.0.0.1:1"}, "--weights edgejson=-1: want a positive number"},
		{[]string{"train", "--preset", "tiny-balanced", "--datasets", "edgeintent@v1,edgejson@../x", "--address", "127.0.0.1:1"}, "--datasets: "},
	})
}

// TestEvalFlagsFailFast (issue 14 item 7): eval refuses bad flags before a
// workflow starts, naming the flag.
func TestEvalFlagsFailFast(t *testing.T) {
	remote := func(extra ...string) []string {
		return append([]string{"eval", "--models", "student:/w/ck", "--dataset", "edgeintent@v1", "--address", "127.0.0.1:1"}, extra...)
	}
	checkRefused(t, []flagCase{
		{[]string{"eval", "--models", "ollama:"}, `--models "ollama:": want ollama:<tag>`},
		{[]string{"eval", "--models", "student:/nonexistent/ck", "--dataset", "edgeintent@v1"}, "--models student:/nonexistent/ck: not a student checkpoint"},
		{remote("--shard-size", "0"), "--shard-size 0: want 1 to 10000"},
		{remote("--shard-size", "-5"), "--shard-size -5: want 1 to 10000"},
		{remote("--parallel", "-3"), "--parallel -3: want 1 to 64"},
		{remote("--limit", "-1"), "--limit -1: want 0 (all) to"},
		{remote("--split", "../x"), `--split: invalid split name "../x"`},
		{[]string{"eval", "--models", "ollama:m", "--dataset", "edgeintent@../../etc", "--address", "127.0.0.1:1"}, `--dataset: dataset ref "edgeintent@../../etc": invalid version name`},
		{[]string{"eval", "--models", "ollama:m", "--dataset", "edgeintent@v4"}, "--dataset: "},
	})
}

// TestImportFlagsFailFast (issue 14 item 7): import refuses a bad version
// name, split names and a missing file before it reads anything, naming the flag.
func TestImportFlagsFailFast(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.csv")
	if err := os.WriteFile(good, []byte("text,intent\nturn on the lights,lights_on\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := []string{"import", "csv", "--task", "edgeintent", "--map", "input=text,label=intent"}
	for _, tc := range []flagCase{
		{append(base, "--from", good, "--version", "../../etc"), `--version: invalid version name "../../etc"`},
		{append(base, "--from", good, "--splits", "train,Bad Split"), `--splits: invalid split name "Bad Split"`},
		{append(base, "--from", good, "--split", "dev"), "--split dev: not one of --splits"},
		{append(base, "--from", "train="+good, "--from", "test="+filepath.Join(dir, "tset.csv")), "--from " + filepath.Join(dir, "tset.csv") + ": no such file or directory"},
	} {
		home := t.TempDir()
		_, _, err := runCmd(t, home, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want it to contain %q", tc.args, err, tc.want)
		}
		if entries, _ := os.ReadDir(filepath.Join(home, "datasets", "edgeintent")); len(entries) > 0 {
			t.Errorf("%v: wrote %d entries under datasets/edgeintent", tc.args, len(entries))
		}
	}
}

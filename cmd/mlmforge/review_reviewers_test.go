package main

import (
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/review"
)

// TestReviewerCommandsOnFreshHome (issue 14 item 3): the README's first
// review command works on a home that has no review directory yet; a
// rotated token replaces the old one; a removed reviewer's token no longer
// logs in. The commands are the real CLI in child processes.
func TestReviewerCommandsOnFreshHome(t *testing.T) {
	home := t.TempDir()
	// Nothing listens at --address: the gates cannot be told, which is a warning, not a failure.
	cli := func(args ...string) (string, string) {
		t.Helper()
		out, errOut, code := runCLI(t, append([]string{"--home", home, "review", "--address", "127.0.0.1:1"}, args...)...)
		if code != 0 {
			t.Fatalf("review %v: exit %d, stderr %q", args, code, errOut)
		}
		return strings.TrimSpace(out), errOut
	}
	first, _ := cli("add-reviewer", "alice")
	revs, err := review.OpenReviewers(review.StorePath(home))
	if err != nil {
		t.Fatal(err)
	}
	if name, ok := revs.Check(first); !ok || name != "alice" {
		t.Fatalf("the printed token %q does not log in as alice", first)
	}
	second, errOut := cli("rotate-token", "alice")
	if second == first || !strings.Contains(errOut, "pick the change up") {
		t.Fatalf("rotate-token printed %q (first %q), stderr %q: want a new token and a warning that no gate was told", second, first, errOut)
	}
	if _, ok := revs.Check(first); ok {
		t.Fatal("the old token still logs in after rotate-token")
	}
	if name, ok := revs.Check(second); !ok || name != "alice" {
		t.Fatal("the rotated token does not log in")
	}
	cli("remove-reviewer", "alice")
	if _, ok := revs.Check(second); ok {
		t.Fatal("a removed reviewer's token still logs in")
	}
	if _, errOut, code := runCLI(t, "--home", home, "review", "remove-reviewer", "alice"); code == 0 {
		t.Fatalf("removing an unknown reviewer succeeded (stderr %q)", errOut)
	}
}

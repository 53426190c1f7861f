package review

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReviewersStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "reviewers.json")
	r, err := OpenReviewers(path)
	if err != nil {
		t.Fatal(err)
	}
	tokA, err := r.Add("alice")
	if err != nil {
		t.Fatal(err)
	}
	tokB, err := r.Add("bob@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if len(tokA) != 64 || tokA == tokB {
		t.Fatalf("tokens %q %q: want two distinct 64-hex-digit tokens", tokA, tokB)
	}
	for _, bad := range []string{"alice", "", "a b", "<script>", "../x", strings.Repeat("x", 65)} {
		if _, err := r.Add(bad); err == nil {
			t.Errorf("Add(%q) accepted", bad)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{tokA, tokB} {
		if strings.Contains(string(data), tok) {
			t.Fatalf("the store holds a token:\n%s", data)
		}
		if !strings.Contains(string(data), hashToken(tok)) {
			t.Fatalf("the store lacks a token's hash:\n%s", data)
		}
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %v (%v), want 0600", fi.Mode(), err)
	}
	re, err := OpenReviewers(path)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		token, name string
		ok          bool
	}{
		{tokA, "alice", true},
		{tokB, "bob@example.org", true},
		{"", "", false},
		{tokA[:63], "", false},
		{hashToken(tokA), "", false}, // the stored hash is not a token
	}
	for _, tt := range tests {
		if name, ok := re.Check(tt.token); name != tt.name || ok != tt.ok {
			t.Errorf("Check(%.8q...) = %q, %v; want %q, %v", tt.token, name, ok, tt.name, tt.ok)
		}
	}
	if _, err := re.Add("alice"); err == nil {
		t.Error("a reopened store accepts a duplicate")
	}
	if got, err := re.Names(); err != nil || len(got) != 2 {
		t.Errorf("Names = %v, %v", got, err)
	}
}

// TestReviewersFreshHome is the README's sequence on a home that has no
// review directory yet: add-reviewer must create it.
func TestReviewersFreshHome(t *testing.T) {
	path := filepath.Join(t.TempDir(), "home", "review", "reviewers.json")
	r, err := OpenReviewers(path)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := r.Add("alice")
	if err != nil {
		t.Fatalf("add-reviewer on a fresh home: %v", err)
	}
	if name, ok := r.Check(tok); !ok || name != "alice" {
		t.Fatalf("Check = %q, %v", name, ok)
	}
}

// TestReviewersSeeOtherProcesses: a store opened by a long-running process
// (the UI of mlmforge dev) sees reviewers added, removed and rotated through
// another handle (the CLI) without reopening.
func TestReviewersSeeOtherProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "review", "reviewers.json")
	ui, err := OpenReviewers(path)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := OpenReviewers(path)
	if err != nil {
		t.Fatal(err)
	}
	tokA, err := cli.Add("alice")
	if err != nil {
		t.Fatal(err)
	}
	if name, ok := ui.Check(tokA); !ok || name != "alice" {
		t.Fatalf("a reviewer added after the UI started cannot log in: %q, %v", name, ok)
	}
	tokB, err := cli.Add("bob")
	if err != nil {
		t.Fatal(err)
	}
	newA, err := cli.Rotate("alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ui.Check(tokA); ok {
		t.Fatal("alice's old token still logs in after rotation")
	}
	if name, ok := ui.Check(newA); !ok || name != "alice" {
		t.Fatalf("alice's new token: %q, %v", name, ok)
	}
	if err := cli.Remove("bob"); err != nil {
		t.Fatal(err)
	}
	if _, ok := ui.Check(tokB); ok {
		t.Fatal("a removed reviewer still logs in")
	}
	if err := cli.Remove("bob"); err == nil {
		t.Fatal("removing an unknown reviewer succeeded")
	}
	keys, err := ui.Keys()
	if err != nil || len(keys) != 1 || keys[0].Name != "alice" || keys[0].PublicKey != PublicKeyHex(KeyFromToken(newA)) {
		t.Fatalf("keys %+v, %v: want alice's new key only", keys, err)
	}
}

func TestOpenReviewersBadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "reviewers.json")
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenReviewers(path); err == nil {
		t.Fatal("a corrupt store opened")
	}
}

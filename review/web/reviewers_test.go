package web

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
	if got := re.Names(); len(got) != 2 {
		t.Errorf("Names = %v", got)
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

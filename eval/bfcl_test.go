package eval

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// bfclDir returns MLMFORGE_EXTERNAL_DATA/bfcl or skips.
func bfclDir(t *testing.T) string {
	t.Helper()
	root := os.Getenv("MLMFORGE_EXTERNAL_DATA")
	if root == "" {
		t.Skip("MLMFORGE_EXTERNAL_DATA not set: BFCL data unavailable")
	}
	return filepath.Join(root, "bfcl")
}

// TestBFCLGoldAnswers checks the AST checker against the real BFCL data:
// the concrete gold call built from each possible answer must pass, and a
// plainly wrong answer (no call, or a call for an irrelevant request) must fail.
func TestBFCLGoldAnswers(t *testing.T) {
	dir := bfclDir(t)
	counts := map[string]int{"simple_python": 400, "multiple": 200, "parallel": 200, "parallel_multiple": 200}
	for cat, want := range counts {
		t.Run(cat, func(t *testing.T) {
			entries, err := LoadBFCLEntries(filepath.Join(dir, "BFCL_v4_"+cat+".json"))
			if err != nil {
				t.Fatal(err)
			}
			golds, err := LoadBFCLGold(filepath.Join(dir, "possible_answer", "BFCL_v4_"+cat+".json"))
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != want || len(golds) != want {
				t.Fatalf("%d entries, %d golds, want %d", len(entries), len(golds), want)
			}
			byID := map[string]BFCLGold{}
			for _, g := range golds {
				byID[g.ID] = g
			}
			pass := 0
			for _, e := range entries {
				g, ok := byID[e.ID]
				if !ok {
					t.Fatalf("entry %s has no gold", e.ID)
				}
				calls := GoldCalls(e.Function, g.GroundTruth)
				if r := CheckAST(cat, e.Function, calls, g.GroundTruth); r.Valid {
					pass++
				} else {
					t.Errorf("%s: gold rejected: %s %s (calls %v)", e.ID, r.ErrorType, r.Error, calls)
				}
				if r := CheckAST(cat, e.Function, nil, g.GroundTruth); r.Valid {
					t.Errorf("%s: no call accepted", e.ID)
				}
				if strings.Contains(cat, "parallel") && len(calls) > 1 {
					rev := append([]BFCLCall(nil), calls...)
					for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
						rev[i], rev[j] = rev[j], rev[i]
					}
					if r := CheckAST(cat, e.Function, rev, g.GroundTruth); !r.Valid {
						t.Errorf("%s: reversed parallel calls rejected: %s", e.ID, r.Error)
					}
				}
			}
			if pass != want {
				t.Errorf("gold accuracy %d/%d, want 100%%", pass, want)
			}
		})
	}
	t.Run("irrelevance", func(t *testing.T) {
		entries, err := LoadBFCLEntries(filepath.Join(dir, "BFCL_v4_irrelevance.json"))
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 240 {
			t.Fatalf("%d entries, want 240", len(entries))
		}
		for _, e := range entries {
			if r := CheckAST("irrelevance", e.Function, nil, nil); !r.Valid {
				t.Errorf("%s: no call rejected: %s", e.ID, r.Error)
			}
			call := []BFCLCall{{Name: e.Function[0].Name, Args: map[string]any{}}}
			if r := CheckAST("irrelevance", e.Function, call, nil); r.Valid {
				t.Errorf("%s: a call accepted on an irrelevant request", e.ID)
			}
		}
	})
}

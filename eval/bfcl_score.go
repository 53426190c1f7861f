package eval

import (
	"slices"
	"strings"
)

// BFCLMetrics are the Berkeley Function Calling Leaderboard's own figures for
// imported BFCL records (records whose Meta holds the BFCL case): every
// example is judged by CheckAST against every acceptable value of its
// possible answer, with BFCL's empty-output semantics (see bfclVerdict).
type BFCLMetrics struct {
	// N is the number of BFCL examples.
	N int `json:"n"`
	// AST is BFCL's AST accuracy over the examples of the call categories
	// (simple, multiple, parallel, parallel_multiple and their live_ forms).
	AST Rate `json:"ast"`
	// IrrelevanceDetection is the share of irrelevance examples (the
	// functions cannot serve the request) answered without a call.
	IrrelevanceDetection Rate `json:"irrelevance_detection"`
	// RelevanceDetection is the share of relevance examples (some function
	// serves the request) answered with at least one call.
	RelevanceDetection Rate `json:"relevance_detection"`
	// ByCategory is the accuracy of each BFCL category.
	ByCategory map[string]Rate `json:"by_category"`
}

// Headline returns the figure that summarizes the examples and its name:
// AST accuracy when there are call examples, else irrelevance detection,
// else relevance detection. An irrelevance-only set is never "AST 0".
func (m *BFCLMetrics) Headline() (name string, value float64) {
	switch {
	case m.AST.Total > 0:
		return "bfcl_ast", m.AST.Rate
	case m.IrrelevanceDetection.Total > 0:
		return "irrelevance_detection", m.IrrelevanceDetection.Rate
	}
	return "relevance_detection", m.RelevanceDetection.Rate
}

// bfclAcc sums BFCL verdicts.
type bfclAcc struct {
	n               int
	ast, irrel, rel Rate
	byCategory      map[string]*Rate
}

func (a *bfclAcc) add(category string, valid bool) {
	a.n++
	switch bfclKind(category) {
	case "irrelevance":
		a.irrel.add(valid)
	case "relevance":
		a.rel.add(valid)
	default:
		a.ast.add(valid)
	}
	if a.byCategory == nil {
		a.byCategory = map[string]*Rate{}
	}
	if a.byCategory[category] == nil {
		a.byCategory[category] = &Rate{}
	}
	a.byCategory[category].add(valid)
}

func (a *bfclAcc) metrics() *BFCLMetrics {
	if a == nil || a.n == 0 {
		return nil
	}
	m := &BFCLMetrics{N: a.n, AST: a.ast, IrrelevanceDetection: a.irrel, RelevanceDetection: a.rel,
		ByCategory: make(map[string]Rate, len(a.byCategory))}
	for c, r := range a.byCategory {
		m.ByCategory[c] = *r
	}
	return m
}

// bfclKind is how CheckAST dispatches a category: "irrelevance",
// "relevance" or "call".
func bfclKind(category string) string {
	switch {
	case strings.Contains(category, "irrelevance"):
		return "irrelevance"
	case strings.Contains(category, "relevance"):
		return "relevance"
	}
	return "call"
}

// verdict judges a BFCL example as BFCL's AST evaluation does. Output
// that does not decode (parseError set) holds no call: it is right on an
// irrelevance example and wrong everywhere else
// ("ast_decoder:decoder_failed"); the calls of every parsed turn are checked
// together, as one BFCL answer.
func (b *bfclRecord) verdict(turns []Turn, parseError string) ASTResult {
	var out []BFCLCall
	for _, t := range turns {
		for _, c := range t.Calls {
			out = append(out, BFCLCall{Name: c.Name, Args: c.Arguments})
		}
	}
	if parseError != "" {
		if bfclKind(b.category) == "irrelevance" {
			return astValid
		}
		return astFail("ast_decoder:decoder_failed", "output does not decode as function calls: %s", parseError)
	}
	return CheckAST(b.category, b.funcs, out, b.answers)
}

// keepAST stores an example's AST verdict: the first failing one, else the
// last.
func keepAST(res *ExampleResult, r ASTResult) {
	if res.AST == nil || res.AST.Valid {
		res.AST = &r
	}
}

// Categories lists the categories present, in name order.
func (m *BFCLMetrics) Categories() []string {
	out := make([]string, 0, len(m.ByCategory))
	for c := range m.ByCategory {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

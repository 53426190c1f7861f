package review

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode"

	"github.com/cyclecore/mlmforge/datasets"
)

// DiffOp is one piece of a diff: kept ("="), removed ("-") or added ("+") text.
type DiffOp struct {
	Op   string `json:"op"`
	Text string `json:"text"`
}

// maxDiffTokens bounds the LCS table of Diff (tokens of old x new); longer
// texts are shown as one removal and one addition.
const maxDiffTokens = 4000

// Diff is a word-level diff of two texts: the shortest edit by longest common
// subsequence over words and the spaces between them, adjacent pieces of
// one kind merged. Concatenating the "=" and "-" texts gives old, the "="
// and "+" texts give new.
func Diff(old, new string) []DiffOp {
	a, b := tokens(old), tokens(new)
	if len(a)*len(b) > maxDiffTokens*maxDiffTokens/4 || len(a) > maxDiffTokens || len(b) > maxDiffTokens {
		return merge(nil, []DiffOp{{"-", old}, {"+", new}})
	}
	// lcs[i][j] is the LCS length of a[i:] and b[j:].
	lcs := make([][]int32, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int32, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var ops []DiffOp
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			ops = merge(ops, []DiffOp{{"=", a[i]}})
			i, j = i+1, j+1
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			ops = merge(ops, []DiffOp{{"-", a[i]}})
			i++
		default:
			ops = merge(ops, []DiffOp{{"+", b[j]}})
			j++
		}
	}
	return ops
}

// tokens cuts text into runs of spaces and runs of anything else.
func tokens(s string) []string {
	var out []string
	start, space := 0, false
	for i, r := range s {
		if i == 0 {
			space = unicode.IsSpace(r)
			continue
		}
		if unicode.IsSpace(r) != space {
			out = append(out, s[start:i])
			start, space = i, !space
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// merge appends ops, joining a piece to the previous one of the same kind
// and dropping empty pieces.
func merge(dst, ops []DiffOp) []DiffOp {
	for _, op := range ops {
		if op.Text == "" {
			continue
		}
		if n := len(dst); n > 0 && dst[n-1].Op == op.Op {
			dst[n-1].Text += op.Text
			continue
		}
		dst = append(dst, op)
	}
	return dst
}

// WordDiff renders a diff in git's word-diff style: [-removed-]{+added+}.
func WordDiff(ops []DiffOp) string {
	var b strings.Builder
	for _, op := range ops {
		switch op.Op {
		case "-":
			b.WriteString("[-" + op.Text + "-]")
		case "+":
			b.WriteString("{+" + op.Text + "+}")
		default:
			b.WriteString(op.Text)
		}
	}
	return b.String()
}

// EditDiff is what an edit changed: word diffs of the input and of the
// target (indented JSON), each nil when the edit left that part alone.
type EditDiff struct {
	Input  []DiffOp `json:"input,omitempty"`
	Target []DiffOp `json:"target,omitempty"`
}

// DiffEdit is the diff of an edit decision against the original record.
func DiffEdit(rec datasets.Record, d Decision) EditDiff {
	var out EditDiff
	if d.Kind != Edit {
		return out
	}
	input, target := edited(rec, d)
	if input != rec.Input {
		out.Input = Diff(rec.Input, input)
	}
	if canonicalJSON(target) != canonicalJSON(json.RawMessage(rec.Target)) {
		out.Target = Diff(indentJSON(rec.Target), indentJSON(string(target)))
	}
	return out
}

// indentJSON indents JSON text; text that is not JSON is returned as is.
func indentJSON(s string) string {
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(s), "", "  "); err != nil {
		return s
	}
	return b.String()
}

package importer

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/cyclecore/mlmforge/eval"
	"github.com/cyclecore/mlmforge/schemas"
)

// checkLabels warns about EdgeIntent labels the scorer will not read as
// written: it compares labels in their normal form (eval.NormLabel: lower
// case, words joined by "_", a final "." dropped), so labels that differ
// only there are one class, and a label with spaces, hyphens or a trailing
// dot is scored as its normal form.
func checkLabels(b *builder) {
	if b.d.Task != schemas.EdgeIntent {
		return
	}
	byNorm := map[string][]string{}
	var odd []string
	for _, r := range b.d.Records {
		l := r.Intent
		if l == "" {
			continue
		}
		n := eval.NormLabel(l)
		if !slices.Contains(byNorm[n], l) {
			byNorm[n] = append(byNorm[n], l)
			if strings.ContainsAny(l, " -\t") || strings.HasSuffix(l, ".") {
				odd = append(odd, l)
			}
		}
	}
	for _, n := range slices.Sorted(maps.Keys(byNorm)) {
		if ls := byNorm[n]; len(ls) > 1 {
			b.warn("labels %s are one class for the scorer (all read as %q): merge or rename them", quoteAll(ls), n)
		}
	}
	slices.Sort(odd)
	for _, l := range odd {
		b.warn("label %q holds spaces, hyphens or a trailing dot: the scorer reads it, and model answers, as %q", l, eval.NormLabel(l))
	}
}

func quoteAll(ls []string) string {
	q := make([]string, len(ls))
	for i, l := range ls {
		q[i] = fmt.Sprintf("%q", l)
	}
	return strings.Join(q, ", ")
}

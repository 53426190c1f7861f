package eval

import (
	"sort"
	"strconv"

	"github.com/cyclecore/mlmforge/generator"
)

// Field-level comparison of two JSON values, the unit of FieldF1 and ParamF1
// (docs/metrics.md, "Fields"). Both values are flattened into leaves
// "path=value" whose paths are unambiguous JSONPath: $ is the root, an object
// member is ["name"] with the name quoted as a Go string literal (so a key
// holding '.', '[' or '"' cannot imitate nesting: {"a.b": 1} is $["a.b"],
// {"a": {"b": 1}} is $["a"]["b"]), and an array contributes
//
//   - its scalar elements as a multiset under [*] (order ignored, duplicates
//     count);
//   - its object and array elements field by field under [i]: each predicted
//     element is paired with the gold element it shares the most leaves with
//     (a maximum-weight matching, so order does not matter), both sides of a
//     pair use the gold element's index i, and an unpaired predicted element
//     gets an index past the gold array, where none of its leaves can match.
//
// An empty object or array is one leaf ({} or []); a scalar is one leaf, its
// canonical form.

// fieldLeaves returns the leaves of pred and of gold at path, paired as above.
// Either value may be absent (present false): its side then has no leaves.
func fieldLeaves(pred, gold any, hasPred, hasGold bool, path string, pl, gl []string) ([]string, []string) {
	pm, pObj := pred.(map[string]any)
	gm, gObj := gold.(map[string]any)
	pa, pArr := pred.([]any)
	ga, gArr := gold.([]any)
	switch {
	case hasPred && hasGold && pObj && gObj && len(pm) > 0 && len(gm) > 0:
		for _, k := range unionKeys(pm, gm) {
			pv, okP := pm[k]
			gv, okG := gm[k]
			pl, gl = fieldLeaves(pv, gv, okP, okG, path+"["+strconv.Quote(k)+"]", pl, gl)
		}
		return pl, gl
	case hasPred && hasGold && pArr && gArr && len(pa) > 0 && len(ga) > 0:
		return arrayLeaves(pa, ga, path, pl, gl)
	}
	if hasPred {
		pl = oneSide(pred, path, pl)
	}
	if hasGold {
		gl = oneSide(gold, path, gl)
	}
	return pl, gl
}

// oneSide flattens one value with nothing to pair against: objects by
// member, arrays with scalars under [*] and containers under [i].
func oneSide(v any, path string, out []string) []string {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			return append(out, path+"={}")
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = oneSide(x[k], path+"["+strconv.Quote(k)+"]", out)
		}
		return out
	case []any:
		if len(x) == 0 {
			return append(out, path+"=[]")
		}
		for i, e := range x {
			if isContainer(e) {
				out = oneSide(e, path+"["+strconv.Itoa(i)+"]", out)
			} else {
				out = append(out, path+"[*]="+canonical(e, true))
			}
		}
		return out
	}
	return append(out, path+"="+canonical(v, true))
}

func isContainer(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return true
	}
	return false
}

// arrayLeaves pairs the container elements of two arrays and flattens them;
// scalar elements go to the [*] multiset.
func arrayLeaves(pa, ga []any, path string, pl, gl []string) ([]string, []string) {
	var pc, gc []int // indexes of container elements
	for i, e := range pa {
		if isContainer(e) {
			pc = append(pc, i)
		} else {
			pl = append(pl, path+"[*]="+canonical(e, true))
		}
	}
	for j, e := range ga {
		if isContainer(e) {
			gc = append(gc, j)
		} else {
			gl = append(gl, path+"[*]="+canonical(e, true))
		}
	}
	if len(pc)*len(gc) > maxPairings {
		// Too many candidate pairs to weigh (hostile output): pair by position.
		return positionalLeaves(pa, ga, pc, gc, path, pl, gl)
	}
	weights := make([][]int, len(pc))
	for i, pi := range pc {
		weights[i] = make([]int, len(gc))
		for j, gj := range gc {
			p, g := fieldLeaves(pa[pi], ga[gj], true, true, "", nil, nil)
			weights[i][j] = countMatches(p, g)
		}
	}
	pairOf := maxWeightMatching(weights, len(gc))
	paired := make([]bool, len(gc))
	extra := len(ga)
	for i, pi := range pc {
		if j := pairOf[i]; j >= 0 {
			paired[j] = true
			pl, gl = fieldLeaves(pa[pi], ga[gc[j]], true, true, path+"["+strconv.Itoa(gc[j])+"]", pl, gl)
			continue
		}
		pl = oneSide(pa[pi], path+"["+strconv.Itoa(extra)+"]", pl)
		extra++
	}
	for j, gj := range gc {
		if !paired[j] {
			gl = oneSide(ga[gj], path+"["+strconv.Itoa(gj)+"]", gl)
		}
	}
	return pl, gl
}

// maxPairings bounds the element pairs an array comparison weighs.
const maxPairings = 1 << 14

// positionalLeaves pairs the k-th container element of pred with the k-th
// of gold.
func positionalLeaves(pa, ga []any, pc, gc []int, path string, pl, gl []string) ([]string, []string) {
	for k, pi := range pc {
		if k < len(gc) {
			pl, gl = fieldLeaves(pa[pi], ga[gc[k]], true, true, path+"["+strconv.Itoa(gc[k])+"]", pl, gl)
		} else {
			pl = oneSide(pa[pi], path+"["+strconv.Itoa(len(ga)+k)+"]", pl)
		}
	}
	for k := len(pc); k < len(gc); k++ {
		gl = oneSide(ga[gc[k]], path+"["+strconv.Itoa(gc[k])+"]", gl)
	}
	return pl, gl
}

// countMatches is the size of the multiset intersection of two leaf lists.
func countMatches(pred, gold []string) int {
	counts := make(map[string]int, len(gold))
	for _, k := range gold {
		counts[k]++
	}
	n := 0
	for _, k := range pred {
		if counts[k] > 0 {
			counts[k]--
			n++
		}
	}
	return n
}

// unionKeys lists the keys of both objects, sorted.
func unionKeys(a, b map[string]any) []string {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// jsonFieldPRF compares two JSON values field by field.
func jsonFieldPRF(pred, gold any) prf {
	p, g := fieldLeaves(pred, gold, true, true, "$", nil, nil)
	return multisetPRF(p, g)
}

// callFieldPRF compares the arguments of two call lists field by field:
// calls are grouped by function name, each name's calls paired as array
// elements, so the leaves read $["function"][i]["param"]. Calls without
// arguments contribute no leaf; n is the number of leaves on both sides.
func callFieldPRF(pred, gold []generator.Call) (m prf, n int) {
	p, g := fieldLeaves(callsByName(pred), callsByName(gold), true, true, "$", nil, nil)
	return multisetPRF(p, g), len(p) + len(g)
}

// callsByName maps each function to the arguments of its calls.
func callsByName(calls []generator.Call) map[string]any {
	out := map[string]any{}
	for _, c := range calls {
		if len(c.Arguments) == 0 {
			continue
		}
		list, _ := out[c.Name].([]any)
		out[c.Name] = append(list, c.Arguments)
	}
	return out
}

// maxWeightMatching pairs rows (predicted elements) with columns (gold
// elements) maximizing the total weight, by the Hungarian algorithm on the
// square matrix padded with zeros; it returns each row's column, -1 for rows
// left unpaired or paired with weight 0. Arrays longer than maxHungarian
// pair greedily by descending weight instead (O(n^2 log n)).
func maxWeightMatching(w [][]int, cols int) []int {
	rows := len(w)
	out := make([]int, rows)
	for i := range out {
		out[i] = -1
	}
	if rows == 0 || cols == 0 {
		return out
	}
	var assign []int
	if n := max(rows, cols); n <= maxHungarian {
		assign = hungarian(w, rows, cols)
	} else {
		assign = greedyMatching(w, rows, cols)
	}
	for i, j := range assign {
		if j >= 0 && j < cols && w[i][j] > 0 {
			out[i] = j
		}
	}
	return out
}

// maxHungarian bounds the O(n^3) exact matching.
const maxHungarian = 200

// hungarian solves the assignment problem minimizing cost = maxW - w on the
// n x n padded matrix (potentials u, v; e-maxx formulation). It returns each
// row's column.
func hungarian(w [][]int, rows, cols int) []int {
	n := max(rows, cols)
	maxW := 0
	for _, r := range w {
		for _, x := range r {
			maxW = max(maxW, x)
		}
	}
	cost := func(i, j int) int {
		if i < rows && j < cols {
			return maxW - w[i][j]
		}
		return maxW
	}
	const inf = int(^uint(0) >> 2)
	u, v := make([]int, n+1), make([]int, n+1)
	p, way := make([]int, n+1), make([]int, n+1) // p[j]: row (1-based) assigned to column j
	for i := 1; i <= n; i++ {
		p[0] = i
		j0 := 0
		minv := make([]int, n+1)
		used := make([]bool, n+1)
		for j := range minv {
			minv[j] = inf
		}
		for p[j0] != 0 {
			used[j0] = true
			i0, delta, j1 := p[j0], inf, 0
			for j := 1; j <= n; j++ {
				if used[j] {
					continue
				}
				if cur := cost(i0-1, j-1) - u[i0] - v[j]; cur < minv[j] {
					minv[j], way[j] = cur, j0
				}
				if minv[j] < delta {
					delta, j1 = minv[j], j
				}
			}
			for j := 0; j <= n; j++ {
				if used[j] {
					u[p[j]] += delta
					v[j] -= delta
				} else {
					minv[j] -= delta
				}
			}
			j0 = j1
		}
		for j0 != 0 {
			j1 := way[j0]
			p[j0] = p[j1]
			j0 = j1
		}
	}
	out := make([]int, rows)
	for i := range out {
		out[i] = -1
	}
	for j := 1; j <= n; j++ {
		if r := p[j] - 1; r >= 0 && r < rows {
			out[r] = j - 1
		}
	}
	return out
}

// greedyMatching pairs the heaviest remaining (row, column) first.
func greedyMatching(w [][]int, rows, cols int) []int {
	type edge struct{ i, j, w int }
	var edges []edge
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			if w[i][j] > 0 {
				edges = append(edges, edge{i, j, w[i][j]})
			}
		}
	}
	sort.SliceStable(edges, func(a, b int) bool { return edges[a].w > edges[b].w })
	out := make([]int, rows)
	for i := range out {
		out[i] = -1
	}
	colUsed := make([]bool, cols)
	for _, e := range edges {
		if out[e.i] < 0 && !colUsed[e.j] {
			out[e.i], colUsed[e.j] = e.j, true
		}
	}
	return out
}

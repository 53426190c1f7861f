package eval

import (
	"fmt"
	"sort"
	"strings"
)

// BFCLCall is one model call as BFCL's checker sees it: a function name and
// its arguments (decoded JSON; json.Number numbers keep int and float apart).
type BFCLCall struct {
	// Name is the called function.
	Name string `json:"name"`
	// Args maps parameter names to values.
	Args map[string]any `json:"arguments"`
}

// ASTResult is the verdict of the AST checker. ErrorType uses BFCL's names
// (e.g. "simple_function_checker:missing_required", "type_error:simple").
type ASTResult struct {
	// Valid is true when the output is accepted.
	Valid bool `json:"valid"`
	// ErrorType names the first failed rule.
	ErrorType string `json:"error_type,omitempty"`
	// Error explains it.
	Error string `json:"error,omitempty"`
}

var astValid = ASTResult{Valid: true}

func astFail(kind, format string, args ...any) ASTResult {
	return ASTResult{ErrorType: kind, Error: fmt.Sprintf(format, args...)}
}

// pyTypeOf maps BFCL type names to the Python type the checker expects.
var pyTypeOf = map[string]string{
	"string": "str", "integer": "int", "float": "float", "boolean": "bool",
	"array": "list", "tuple": "list", "dict": "dict", "any": "str",
}

// CheckAST applies BFCL's ast_checker to one test case, following the
// upstream rules (bfcl_eval/eval_checker/ast_eval/ast_checker.py, Python):
// a category containing "parallel" matches the calls to the gold calls in any
// order (see checkParallel); one containing "multiple"
// needs one call that picks the gold function among funcs; "irrelevance"
// needs no call at all and "relevance" at least one; anything else ("simple",
// "simple_python") needs exactly one call to funcs[0]. See checkCall for the
// per-call rules.
func CheckAST(category string, funcs []BFCLFunction, output []BFCLCall, answers []BFCLAnswer) ASTResult {
	switch {
	case strings.Contains(category, "irrelevance"):
		if len(output) != 0 {
			return astFail("irrelevance:made_call", "made %d call(s) on an irrelevant request", len(output))
		}
		return astValid
	case strings.Contains(category, "relevance"):
		if len(output) == 0 {
			return astFail("relevance:no_call", "made no call on a relevant request")
		}
		return astValid
	}
	out := make([]BFCLCall, len(output))
	for i, c := range output {
		out[i] = BFCLCall{Name: c.Name, Args: pyArgs(c.Args)}
	}
	ans := make([]BFCLAnswer, len(answers))
	for i, a := range answers {
		ans[i] = pyAnswer(a)
	}
	switch {
	case strings.Contains(category, "parallel"):
		return checkParallel(funcs, out, ans)
	case strings.Contains(category, "multiple"):
		if len(out) != len(ans) {
			return astFail("multiple_function_checker:wrong_count", "wrong number of functions: %d, want %d", len(out), len(ans))
		}
		if len(ans) == 0 {
			return astValid
		}
		return checkCall(findDescription(funcs, answerName(ans[0])), out[0], ans[0])
	}
	if len(out) != 1 || len(ans) != 1 || len(funcs) == 0 {
		return astFail("simple_function_checker:wrong_count", "wrong number of functions: %d, want 1", len(out))
	}
	return checkCall(&funcs[0], out[0], ans[0])
}

// checkParallel is BFCL's parallel_function_checker_no_order with one
// deliberate difference: upstream pairs gold calls with model calls greedily
// (each gold call takes the first model call it accepts), which rejects a
// valid answer in another order when one gold call accepts several values
// (BFCL parallel_178). Here the pairing is a maximum bipartite matching, so
// every order of a correct answer passes; whatever upstream accepts still passes.
func checkParallel(funcs []BFCLFunction, out []BFCLCall, ans []BFCLAnswer) ASTResult {
	if len(out) != len(ans) {
		return astFail("parallel_function_checker_no_order:wrong_count", "wrong number of functions: %d, want %d", len(out), len(ans))
	}
	ok := make([][]bool, len(ans))
	var last ASTResult
	for i, a := range ans {
		fd := findDescription(funcs, answerName(a))
		ok[i] = make([]bool, len(out))
		matched := false
		for j := range out {
			r := checkCall(fd, out[j], a)
			ok[i][j] = r.Valid
			matched = matched || r.Valid
			if !r.Valid {
				last = r
			}
		}
		if !matched {
			return astFail("parallel_function_checker_no_order:cannot_find_match",
				"no model call matches gold call %d (%s); last error: %s", i, answerName(a), last.Error)
		}
	}
	if n := maxMatching(ok, len(out)); n < len(ans) {
		return astFail("parallel_function_checker_no_order:cannot_find_match",
			"only %d of %d gold calls can be matched to distinct model calls", n, len(ans))
	}
	return astValid
}

// maxMatching is the size of a maximum matching of the bipartite graph
// ok[gold][model] (Kuhn's augmenting paths; parallel answers are small).
func maxMatching(ok [][]bool, nOut int) int {
	owner := make([]int, nOut)
	for j := range owner {
		owner[j] = -1
	}
	var try func(i int, seen []bool) bool
	try = func(i int, seen []bool) bool {
		for j := 0; j < nOut; j++ {
			if !ok[i][j] || seen[j] {
				continue
			}
			seen[j] = true
			if owner[j] < 0 || try(owner[j], seen) {
				owner[j] = i
				return true
			}
		}
		return false
	}
	n := 0
	for i := range ok {
		if try(i, make([]bool, nOut)) {
			n++
		}
	}
	return n
}

func findDescription(funcs []BFCLFunction, name string) *BFCLFunction {
	for i := range funcs {
		if funcs[i].Name == name {
			return &funcs[i]
		}
	}
	return nil
}

// answerName is the function name of a gold call (its single key).
func answerName(a BFCLAnswer) string {
	for k := range a {
		return k
	}
	return ""
}

func pyArgs(args map[string]any) map[string]any {
	out := make(map[string]any, len(args))
	for k, v := range args {
		out[k] = toPy(v)
	}
	return out
}

func pyAnswer(a BFCLAnswer) BFCLAnswer {
	out := make(BFCLAnswer, len(a))
	for name, params := range a {
		p := make(map[string][]any, len(params))
		for k, vals := range params {
			conv := make([]any, len(vals))
			for i, v := range vals {
				conv[i] = toPy(v)
			}
			p[k] = conv
		}
		out[name] = p
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// checkCall is BFCL's simple_function_checker: the function name matches;
// every required parameter is present; every given parameter is documented
// and appears in the gold answer; each value passes the type check (an int is
// accepted for a float, never the reverse; bool is not an int) and is one of
// the acceptable values (strings compared after standardizeString, lists and
// dicts element by element); every gold parameter without "" among its
// acceptable values is given.
func checkCall(fd *BFCLFunction, out BFCLCall, ans BFCLAnswer) ASTResult {
	if fd == nil {
		return astFail("simple_function_checker:no_description", "no function description for gold function %q", answerName(ans))
	}
	want := ans[answerName(ans)]
	if out.Name != fd.Name {
		return astFail("simple_function_checker:wrong_func_name", "function name %q not found in model output (got %q)", fd.Name, out.Name)
	}
	for _, p := range fd.Parameters.Required {
		if _, ok := out.Args[p]; !ok {
			return astFail("simple_function_checker:missing_required", "missing required parameter %q", p)
		}
	}
	for _, p := range sortedKeys(out.Args) {
		pd := fd.Parameters.Properties[p]
		acc, inAnswer := want[p]
		if pd == nil || !inAnswer {
			return astFail("simple_function_checker:unexpected_param", "unexpected parameter %q", p)
		}
		if r := checkParam(p, out.Args[p], pd, acc); !r.Valid {
			return r
		}
	}
	for _, p := range sortedKeys(want) {
		if _, ok := out.Args[p]; !ok && !containsOptional(want[p]) {
			return astFail("simple_function_checker:missing_optional", "parameter %q not provided and not marked as optional", p)
		}
	}
	return astValid
}

// checkParam checks one parameter value against its doc and acceptable values.
func checkParam(param string, value any, pd *BFCLParam, acc []any) ASTResult {
	expected, ok := pyTypeOf[pd.Type]
	if !ok {
		return astFail("type_error:unsupported", "parameter %q has unsupported type %q", param, pd.Type)
	}
	nested := ""
	if (pd.Type == "array" || pd.Type == "tuple") && pd.Items != nil {
		nested = pyTypeOf[pd.Items.Type]
	}
	if n, isInt := value.(int64); isInt && pd.Type == "float" {
		value = float64(n) // Python's int -> float promotion, which BFCL allows
	}
	isVariable, r := typeCheck(param, value, acc, pd.Type, expected, nested)
	if !r.Valid {
		return r
	}
	if !isVariable {
		switch {
		case expected == "dict":
			return dictChecker(param, value.(map[string]any), acc)
		case expected == "list" && nested == "dict":
			return listDictChecker(param, value.([]any), acc)
		case expected == "str":
			return stringChecker(param, value.(string), acc)
		case expected == "list":
			return listChecker(param, value.([]any), acc)
		}
	}
	if !pyIn(value, acc) {
		return astFail("value_error:others", "invalid value for parameter %q: %v, want one of %v", param, value, acc)
	}
	return astValid
}

// possibleAnswerType is the Python type of the first acceptable value that
// is not "", or "" when all are.
func possibleAnswerType(acc []any) string {
	for _, a := range acc {
		if s, ok := a.(string); ok && s == "" {
			continue
		}
		return pyType(a)
	}
	return ""
}

// typeCheck is BFCL's type_checker. When the gold values have another type
// than the doc declares, the gold value is a variable name and a value of the
// gold's type is accepted (isVariable). Arrays check their items' types one
// level deep, without int -> float promotion.
func typeCheck(param string, value any, acc []any, desc, expected, nested string) (isVariable bool, r ASTResult) {
	pat := possibleAnswerType(acc)
	isVariable = pat != "" && pat != expected
	got := pyType(value)
	if got == expected {
		if nested == "" {
			return isVariable, astValid
		}
		items, _ := value.([]any)
		for _, candidate := range acc {
			flag := true
			if lst, ok := candidate.([]any); ok {
				for _, it := range items {
					if _, ir := typeCheck(param, it, lst, nested, nested, ""); !ir.Valid {
						flag = false
						break
					}
				}
			}
			if flag {
				return isVariable, astValid
			}
		}
		return pat != "" && got == pat, astFail("type_error:nested",
			"nested type checking failed for parameter %q: want %s of %s", param, desc, nested)
	}
	if pat != "" && got == pat {
		return true, astValid
	}
	return isVariable, astFail("type_error:simple", "incorrect type for parameter %q: want %s, got %s", param, desc, got)
}

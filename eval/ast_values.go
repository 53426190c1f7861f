package eval

// The value checkers of BFCL's ast_checker.py: strings, lists, dicts and
// lists of dicts, each against the list of acceptable values.

func stringChecker(param, value string, acc []any) ASTResult {
	v := standardizeString(value)
	for _, a := range acc {
		if s, ok := a.(string); ok && standardizeString(s) == v {
			return astValid
		}
	}
	return astFail("value_error:string", "invalid value for parameter %q: %q, want one of %v (case insensitive)", param, value, acc)
}

func listChecker(param string, value []any, acc []any) ASTResult {
	v := standardizeAll(value)
	for _, a := range acc {
		var lst []any
		switch x := a.(type) {
		case []any:
			lst = standardizeAll(x)
		case string:
			// Python iterates a string's characters; "" becomes [].
			for _, r := range x {
				lst = append(lst, standardizeString(string(r)))
			}
			if lst == nil {
				lst = []any{}
			}
		default:
			continue
		}
		if pyEqual(v, lst) {
			return astValid
		}
	}
	return astFail("value_error:list/tuple", "invalid value for parameter %q: %v, want one of %v", param, value, acc)
}

// dictChecker is BFCL's dict_checker: some acceptable dict (each key mapped
// to its acceptable values) has every key of the value, accepts each value
// (strings standardized) and has no required key the value lacks.
func dictChecker(param string, value map[string]any, acc []any) ASTResult {
	res := astFail("dict_checker:unclear", "no acceptable dict for parameter %q", param)
	for _, a := range acc {
		if s, ok := a.(string); ok && s == "" {
			continue
		}
		pa, ok := a.(map[string]any)
		if !ok {
			continue
		}
		if r := dictMatch(value, pa); !r.Valid {
			res = r
			continue
		}
		return astValid
	}
	return res
}

func dictMatch(value, pa map[string]any) ASTResult {
	for _, k := range sortedKeys(value) {
		lst, ok := pa[k]
		if !ok {
			return astFail("value_error:dict_key", "unexpected dict key %q", k)
		}
		v := value[k]
		if s, ok := v.(string); ok {
			v = standardizeString(s)
		}
		if !pyIn(v, standardizeAll(asList(lst))) {
			return astFail("value_error:dict_value", "invalid value for dict key %q: %v", k, value[k])
		}
	}
	for _, k := range sortedKeys(pa) {
		if _, ok := value[k]; !ok && !containsOptional(asList(pa[k])) {
			return astFail("value_error:dict_key", "missing dict key %q", k)
		}
	}
	return astValid
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// listDictChecker is BFCL's list_dict_checker: the dicts must match some
// acceptable list of dicts position by position.
func listDictChecker(param string, value []any, acc []any) ASTResult {
	res := astFail("list_dict_checker:unclear", "no acceptable list of dicts for parameter %q", param)
	for _, a := range acc {
		var lst []any
		switch x := a.(type) {
		case []any:
			lst = x
		case string:
			if x != "" {
				continue
			}
		default:
			continue
		}
		if len(lst) != len(value) {
			res = astFail("value_error:list_dict_count", "wrong number of dicts for parameter %q", param)
			continue
		}
		ok := true
		for i := range value {
			m, _ := value[i].(map[string]any)
			if r := dictChecker(param, m, []any{lst[i]}); !r.Valid {
				res, ok = r, false
				break
			}
		}
		if ok {
			return astValid
		}
	}
	return res
}

package builtin

import (
	"fmt"
	"strings"
)

// btSentences are prose templates for one field: {l} is the label, {L} the
// label capitalized, {v} the value.
var btSentences = []string{
	"The {l} is {v}.", "{L}: {v}.", "{L} is {v}.", "{v} is listed as the {l}.", "We have {v} as the {l}.",
	"{L} - {v}.", "For the record, the {l} is {v}.",
}

// sentence writes a leaf (or a list of scalars) as a sentence.
func (dw *btDoc) sentence(n *btNode, v any) string {
	label := dw.label(n)
	var val string
	switch x := v.(type) {
	case bool:
		if rest, ok := strings.CutPrefix(n.Desc, "True if "); ok && x && btChance(dw.r, 0.6) {
			return btCapitalize(strings.TrimRight(rest, ". ")) + "."
		}
		return btCapitalize(label) + ": " + dw.leaf(n, x) + "."
	case []any:
		vals := make([]string, len(x))
		for i, it := range x {
			vals[i] = dw.leaf(btItemNode(n), it)
		}
		val = btJoinList(dw, vals)
		if len(x) == 0 {
			val = "none"
		}
	default:
		val = dw.leaf(n, v)
	}
	s := strings.NewReplacer("{l}", label, "{L}", btCapitalize(label), "{v}", val).Replace(dw.w.template(dw.r, "field-sentence", btSentences))
	return strings.Replace(s, "..", ".", 1)
}

// prose writes the fields as sentences in paragraphs; lists of objects
// become line blocks between the paragraphs.
func (dw *btDoc) prose(root *btNode, obj map[string]any) string {
	var blocks, para []string
	flush := func() {
		if len(para) > 0 {
			blocks = append(blocks, strings.Join(para, " "))
			para = nil
		}
	}
	for _, p := range dw.order(root, obj) {
		switch x := obj[p.Name].(type) {
		case map[string]any:
			s, subs := dw.inline(p, x, "", nil)
			para = append(para, btCapitalize(dw.label(p))+": "+s+".")
			if len(subs) > 0 {
				flush()
				blocks = append(blocks, strings.Join(dw.subItems(nil, subs, 0), "\n"))
			}
		case []any:
			if btObjects(x) {
				flush()
				blocks = append(blocks, strings.Join(dw.items(nil, p, x, 0, dw.label(p)), "\n"))
				continue
			}
			para = append(para, dw.sentence(p, x))
		default:
			para = append(para, dw.sentence(p, x))
		}
		if len(para) >= 3 && btChance(dw.r, 0.35) {
			flush()
		}
	}
	flush()
	return strings.Join(blocks, "\n\n")
}

// log writes the fields as key=value pairs, one line for the top level and
// one per list item, as a device or gateway would print them.
func (dw *btDoc) log(root *btNode, obj map[string]any) string {
	sep := btPick(dw.r, []string{" ", " ", " | ", ", "})
	var head, rows []string
	for _, p := range dw.order(root, obj) {
		v := obj[p.Name]
		if arr, ok := v.([]any); ok && btObjects(arr) {
			for i, it := range arr {
				var pairs []string
				dw.logPairs(btItemNode(p), it, "", &pairs)
				rows = append(rows, fmt.Sprintf("%s[%d] %s", p.Name, i, strings.Join(pairs, sep)))
			}
			continue
		}
		dw.logPairs(p, v, p.Name, &head)
	}
	prefix := btPick(dw.r, []string{"", "", "INFO ", "[info] ", "level=info ", "DEBUG "})
	return strings.Join(append([]string{prefix + strings.Join(head, sep)}, rows...), "\n")
}

// logPairs appends the key=value pairs of a value under key.
func (dw *btDoc) logPairs(n *btNode, v any, key string, out *[]string) {
	switch x := v.(type) {
	case map[string]any:
		for _, c := range dw.order(n, x) {
			dw.logPairs(c, x[c.Name], btJoinPath(key, c.Name), out)
		}
	case []any:
		if btObjects(x) {
			for i, it := range x {
				dw.logPairs(btItemNode(n), it, fmt.Sprintf("%s[%d]", key, i), out)
			}
			return
		}
		vals := make([]string, len(x))
		for i, it := range x {
			vals[i] = dw.leaf(btItemNode(n), it)
		}
		*out = append(*out, key+"="+btLogQuote(strings.Join(vals, ",")))
	default:
		*out = append(*out, key+"="+btLogQuote(dw.leaf(n, v)))
	}
}

// btLogQuote quotes a log value that holds spaces, without escaping, so
// the value stays verbatim.
func btLogQuote(s string) string {
	if s == "" || strings.ContainsAny(s, " ,|") {
		return `"` + s + `"`
	}
	return s
}

// sms writes the fields inline in one short paragraph.
func (dw *btDoc) sms(root *btNode, obj map[string]any) string {
	text, subs := dw.inline(root, obj, "", nil)
	lines := []string{btCapitalize(text) + "."}
	return strings.Join(dw.subItems(lines, subs, 0), "\n")
}

// signature writes the values of a flat record one per line, as in an
// email signature or a business card, with short tags for phone and email.
func (dw *btDoc) signature(root *btNode, obj map[string]any) string {
	var lines []string
	// A signature keeps the schema's order (name first): a shuffled card reads wrong.
	for _, p := range root.Props {
		v, ok := obj[p.Name]
		if !ok {
			continue
		}
		val := dw.leaf(p, v)
		switch _, isBool := v.(bool); {
		case p.Format == "email" || p.Gen == "email":
			val = btPick(dw.r, []string{"", "E: ", "Email: ", "email: "}) + val
		case p.Format == "phone" || p.Gen == "phone":
			val = btPick(dw.r, []string{"", "T: ", "Tel: ", "Mobile: ", "Phone: "}) + val
		case isBool:
			val = btCapitalize(dw.label(p)) + ": " + val
		}
		lines = append(lines, val)
	}
	return strings.Join(lines, "\n")
}

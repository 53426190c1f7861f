package builtin

import (
	"fmt"
	"strings"
)

// render writes the body of a document: every field of obj, in the
// document's style.
func (dw *btDoc) render(root *btNode, obj map[string]any) string {
	switch dw.style {
	case "log":
		return dw.log(root, obj)
	case "sms":
		return dw.sms(root, obj)
	case "signature":
		return dw.signature(root, obj)
	case "prose":
		return dw.prose(root, obj)
	}
	var lines []string
	for _, p := range dw.order(root, obj) {
		v := obj[p.Name]
		if dw.style == "mixed" && !btCompound(v) && btChance(dw.r, 0.5) {
			lines = append(lines, dw.sentence(p, v))
			continue
		}
		lines = dw.field(lines, p, v, 0, "")
	}
	return strings.Join(lines, "\n")
}

// btCompound reports whether a value is an object or a list.
func btCompound(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return true
	}
	return false
}

// btIndent is the indentation of a nesting depth.
func btIndent(depth int) string { return strings.Repeat("  ", depth) }

// line writes "Label: value" at a depth.
func (dw *btDoc) line(depth int, label, value string) string {
	lead := btIndent(depth)
	if dw.style == "bullets" || (depth > 0 && dw.itemStyle == 1) {
		lead += dw.bullet
	}
	if dw.style == "form" {
		return lead + strings.ToUpper(label) + dw.sep + value
	}
	return lead + btCapitalize(label) + dw.sep + value
}

// head writes the heading of a section (a nested object or a list).
func (dw *btDoc) head(depth int, label string) string {
	if dw.style == "form" {
		return btIndent(depth) + "[" + strings.ToUpper(label) + "]"
	}
	lead := btIndent(depth)
	if dw.style == "bullets" || (depth > 0 && dw.itemStyle == 1) {
		lead += dw.bullet
	}
	return lead + btCapitalize(label) + ":"
}

// field writes one property as lines: a leaf as "Label: value", an object
// as a section (or flattened, or as one comma-separated line), a list as
// its items.
func (dw *btDoc) field(lines []string, n *btNode, v any, depth int, parent string) []string {
	label := btJoinLabel(parent, dw.label(n))
	switch x := v.(type) {
	case map[string]any:
		props := dw.order(n, x)
		if dw.flatten {
			for _, c := range props {
				lines = dw.field(lines, c, x[c.Name], depth, label)
			}
			return lines
		}
		if btAllLeaves(x) && btChance(dw.r, 0.3) {
			vals := make([]string, len(props))
			for i, c := range props {
				vals[i] = dw.leaf(c, x[c.Name])
			}
			return append(lines, dw.line(depth, label, strings.Join(vals, ", ")))
		}
		lines = append(lines, dw.head(depth, label))
		for _, c := range props {
			lines = dw.field(lines, c, x[c.Name], depth+1, "")
		}
		return lines
	case []any:
		return dw.items(lines, n, x, depth, label)
	}
	return append(lines, dw.line(depth, label, dw.leaf(n, v)))
}

// btJoinLabel prefixes a nested field's label with its parent's, unless the
// label already says it ("departure" + "departure terminal").
func btJoinLabel(parent, label string) string {
	if parent == "" {
		return label
	}
	last := strings.ToLower(parent[strings.LastIndexByte(parent, ' ')+1:])
	if strings.Contains(strings.ToLower(label), last) {
		return label
	}
	return parent + " " + label
}

// btAllLeaves reports whether an object holds only non-boolean leaves, so
// that its values can be listed without labels ("12 Main St, Springfield").
func btAllLeaves(obj map[string]any) bool {
	for _, v := range obj {
		if _, isBool := v.(bool); isBool || btCompound(v) || v == nil {
			return false
		}
	}
	return true
}

// btObjects reports whether a list holds objects.
func btObjects(arr []any) bool {
	for _, it := range arr {
		if _, ok := it.(map[string]any); ok {
			return true
		}
	}
	return false
}

// items writes a list: scalars on one line, objects as numbered lines,
// compact bullets ("2 x Blue Widget (SKU ABC-123, unit price 9.99)"),
// blocks or a table.
func (dw *btDoc) items(lines []string, n *btNode, arr []any, depth int, label string) []string {
	if len(arr) == 0 {
		return append(lines, dw.line(depth, label, "none"))
	}
	item := n.Items
	if item == nil {
		item = &btNode{}
	}
	if !btObjects(arr) {
		vals := make([]string, len(arr))
		for i, it := range arr {
			vals[i] = dw.leaf(item, it)
		}
		return append(lines, dw.line(depth, label, btJoinList(dw, vals)))
	}
	if (dw.style == "table" || btChance(dw.r, 0.15)) && btFlatItems(arr) {
		return dw.table(lines, item, arr, depth, label)
	}
	one := btCapitalize(btSingular(btHumanize(n.Name)))
	lines = append(lines, dw.head(depth, label))
	for i, it := range arr {
		obj, _ := it.(map[string]any)
		switch dw.itemStyle {
		case 2:
			lines = append(lines, fmt.Sprintf("%s%s %d", btIndent(depth+1), one, i+1))
			for _, c := range dw.order(item, obj) {
				lines = dw.field(lines, c, obj[c.Name], depth+2, "")
			}
			continue
		case 1:
			text, subs := dw.compact(item, obj)
			lines = append(lines, btIndent(depth+1)+dw.bullet+text)
			lines = dw.subItems(lines, subs, depth+2)
		default:
			text, subs := dw.inline(item, obj, "", nil)
			lines = append(lines, fmt.Sprintf("%s%s %d: %s", btIndent(depth+1), one, i+1, text))
			lines = dw.subItems(lines, subs, depth+2)
		}
	}
	return lines
}

// btSub is a list of objects found inside an inlined object, written after it.
type btSub struct {
	n     *btNode
	arr   []any
	label string
}

// subItems writes the lists found while inlining an item.
func (dw *btDoc) subItems(lines []string, subs []btSub, depth int) []string {
	for _, s := range subs {
		lines = dw.items(lines, s.n, s.arr, depth, s.label)
	}
	return lines
}

// inline writes an object on one line, "label value, label value", nested
// objects flattened; lists of objects are returned to be written after it.
func (dw *btDoc) inline(n *btNode, obj map[string]any, parent string, skip map[string]bool) (string, []btSub) {
	var parts []string
	var subs []btSub
	for _, c := range dw.order(n, obj) {
		if skip[c.Name] {
			continue
		}
		label := btJoinLabel(parent, dw.label(c))
		switch x := obj[c.Name].(type) {
		case map[string]any:
			s, sub := dw.inline(c, x, label, nil)
			parts = append(parts, s)
			subs = append(subs, sub...)
		case []any:
			if btObjects(x) {
				subs = append(subs, btSub{n: c, arr: x, label: label})
				continue
			}
			vals := make([]string, len(x))
			for i, it := range x {
				vals[i] = dw.leaf(btItemNode(c), it)
			}
			parts = append(parts, label+" "+btJoinList(dw, vals))
		default:
			parts = append(parts, label+" "+dw.leaf(c, x))
		}
	}
	return strings.Join(parts, ", "), subs
}

// btItemNode is a list's item schema, or a blank one.
func btItemNode(n *btNode) *btNode {
	if n.Items != nil {
		return n.Items
	}
	return &btNode{}
}

// compact writes an item as "2 x Blue Widget (SKU ABC-123, unit price 9.99)"
// when it has a name, else inline.
func (dw *btDoc) compact(n *btNode, obj map[string]any) (string, []btSub) {
	var qty, name *btNode
	for _, c := range n.Props {
		v, ok := obj[c.Name]
		if !ok || btCompound(v) {
			continue
		}
		switch {
		case qty == nil && strings.Contains(c.Name, "quantity"):
			qty = c
		case name == nil && c.Type == "string" && !c.isEnum() &&
			(strings.Contains(c.Name, "name") || strings.Contains(c.Name, "description") || strings.Contains(c.Name, "title")):
			name = c
		}
	}
	if name == nil {
		return dw.inline(n, obj, "", nil)
	}
	skip := map[string]bool{name.Name: true}
	text := dw.leaf(name, obj[name.Name])
	if qty != nil {
		skip[qty.Name] = true
		text = dw.leaf(qty, obj[qty.Name]) + " x " + text
	}
	rest, subs := dw.inline(n, obj, "", skip)
	if rest != "" {
		text += " (" + rest + ")"
	}
	return text, subs
}

// btFlatItems reports whether every item is an object of leaves only.
func btFlatItems(arr []any) bool {
	for _, it := range arr {
		obj, ok := it.(map[string]any)
		if !ok {
			return false
		}
		for _, v := range obj {
			if btCompound(v) {
				return false
			}
		}
	}
	return true
}

// table writes flat items as a table with a header row.
func (dw *btDoc) table(lines []string, item *btNode, arr []any, depth int, label string) []string {
	var cols []*btNode
	for _, c := range item.Props {
		for _, it := range arr {
			if _, ok := it.(map[string]any)[c.Name]; ok {
				cols = append(cols, c)
				break
			}
		}
	}
	head := make([]string, len(cols))
	for i, c := range cols {
		head[i] = btCapitalize(dw.label(c))
	}
	lines = append(lines, dw.head(depth, label), btIndent(depth)+strings.Join(head, " | "))
	for _, it := range arr {
		obj := it.(map[string]any)
		row := make([]string, len(cols))
		for i, c := range cols {
			row[i] = "-"
			if v, ok := obj[c.Name]; ok {
				row[i] = dw.leaf(c, v)
			}
		}
		lines = append(lines, btIndent(depth)+strings.Join(row, " | "))
	}
	return lines
}

// btJoinList joins list values: "a", "a and b", "a, b and c".
func btJoinList(dw *btDoc, vals []string) string {
	if len(vals) < 2 {
		return strings.Join(vals, "")
	}
	return strings.Join(vals[:len(vals)-1], ", ") + btPick(dw.r, []string{" and ", ", and ", " & "}) + vals[len(vals)-1]
}

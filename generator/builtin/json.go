package builtin

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/cyclecore/mlmforge/generator"
)

// btDocData is documents.json: how the documents of each EdgeJSON
// schema open and close, what filler they carry and which layouts suit them.
type btDocData struct {
	// Generic serves schemas without an entry (and fills an entry's gaps).
	Generic btFrame `json:"generic"`
	// Schemas maps a schema id to its frame.
	Schemas map[string]btFrame `json:"schemas"`
}

// btFrame is the non-field text of one kind of document. None of it holds a
// digit, a date or an address, so nothing in it competes with a field value.
type btFrame struct {
	// Openers are first lines (subject, greeting); "" means none. {title} and
	// {title_lower} are the schema's title.
	Openers []string `json:"openers"`
	// Closers are last lines (sign-off); "" means none.
	Closers []string `json:"closers"`
	// Distractors are sentences unrelated to any field.
	Distractors []string `json:"distractors"`
	// Styles are the layouts the document may take, repeated to weight them:
	// lines, bullets, prose, mixed, table, form, log, sms, signature.
	Styles []string `json:"styles"`
}

// writeDocument verbalizes an EdgeJSON sample: a document of the schema's
// kind that states every leaf of the target object.
//
// In a held-out run the layout, opener, closer, distractors and field
// sentences come from the side's part of their lists.
func (b *Teacher) writeDocument(r *rand.Rand, d *btWriter, s generator.Sample) (string, error) {
	id := s.Cell.SchemaID
	root, ok := b.docs[id]
	if !ok {
		if err := b.prepErr["schema "+id]; err != nil {
			return "", err
		}
		return "", fmt.Errorf("unknown EdgeJSON schema %q", id)
	}
	sch, err := b.cat.Schema(id)
	if err != nil {
		return "", err
	}
	v, err := btDecode(s.Target)
	if err != nil {
		return "", fmt.Errorf("decode target: %w", err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return "", fmt.Errorf("target is not a JSON object")
	}
	frame := d.docs.frame(id)
	dw := newBTDoc(r, d, d.template(r, "style:"+id, frame.Styles), root)
	body := dw.render(root, obj)

	var blocks []string
	if btChance(r, 0.75) {
		o := strings.NewReplacer("{title}", sch.Title, "{title_lower}", strings.ToLower(sch.Title)).Replace(d.template(r, "opener:"+id, frame.Openers))
		if o != "" {
			blocks = append(blocks, o)
		}
	}
	distract := btDistractors(r, d.part(frame.Distractors), r.IntN(3))
	for _, x := range distract {
		d.noteTemplate("distractor:"+id, frame.Distractors, x)
	}
	if len(distract) > 0 && btChance(r, 0.5) {
		blocks = append(blocks, distract[0])
		distract = distract[1:]
	}
	blocks = append(blocks, body)
	blocks = append(blocks, distract...)
	if btChance(r, 0.6) {
		if c := d.template(r, "closer:"+id, frame.Closers); c != "" {
			blocks = append(blocks, c)
		}
	}
	sep := "\n\n"
	if btChance(r, 0.4) {
		sep = "\n"
	}
	return strings.Join(blocks, sep), nil
}

// frame returns the frame of a schema, its gaps filled from the generic one.
func (dd *btDocData) frame(id string) btFrame {
	f, ok := dd.Schemas[id]
	if !ok {
		return dd.Generic
	}
	if len(f.Openers) == 0 {
		f.Openers = dd.Generic.Openers
	}
	if len(f.Closers) == 0 {
		f.Closers = dd.Generic.Closers
	}
	if len(f.Styles) == 0 {
		f.Styles = dd.Generic.Styles
	}
	f.Distractors = append(append([]string(nil), f.Distractors...), dd.Generic.Distractors...)
	return f
}

// btDistractors draws n different distractor sentences.
func btDistractors(r *rand.Rand, list []string, n int) []string {
	if n > len(list) {
		n = len(list)
	}
	idx := r.Perm(len(list))[:n]
	out := make([]string, n)
	for i, j := range idx {
		out[i] = list[j]
	}
	return out
}

// btDoc renders one document body. Its fields are the layout choices drawn
// once per document, so that a document is consistent in itself while
// documents of one schema differ in structure.
type btDoc struct {
	r *rand.Rand
	// w draws the field sentences from the side's part of btSentences.
	w *btWriter
	// style is the layout (see btFrame.Styles).
	style string
	// labelMode names fields: 0 humanized name, 1 short description, 2 Title Case, 3 raw name.
	labelMode int
	// sep goes between a label and its value in lines; bullet starts list lines.
	sep, bullet string
	// flatten writes nested objects as "parent child: value" lines, not sections.
	flatten bool
	// itemStyle lays out array items: 0 numbered lines, 1 compact bullets, 2 blocks.
	itemStyle int
	// spaceEnums writes enum codes with spaces ("next day" for "next_day").
	spaceEnums bool
}

// newBTDoc draws a document's layout choices.
func newBTDoc(r *rand.Rand, w *btWriter, style string, root *btNode) *btDoc {
	dw := &btDoc{
		r:          r,
		w:          w,
		style:      style,
		labelMode:  r.IntN(3),
		sep:        btPick(r, []string{": ", ": ", ": ", " - ", ": "}),
		bullet:     btPick(r, []string{"- ", "* ", "• "}),
		flatten:    btChance(r, 0.3),
		itemStyle:  r.IntN(3),
		spaceEnums: btChance(r, 0.5),
	}
	switch style {
	case "log":
		dw.labelMode = 3
	case "form":
		dw.sep = ": "
	case "signature":
		if btNested(root) {
			dw.style = "lines"
		}
	}
	return dw
}

// btNested reports whether an object schema has object or array properties.
func btNested(n *btNode) bool {
	for _, p := range n.Props {
		if p.Type == "object" || p.Type == "array" {
			return true
		}
	}
	return false
}

// order returns the properties of n present in obj: usually in schema order,
// sometimes shuffled or with one field moved to the front. Keys the schema
// does not know come last, as generic nodes.
func (dw *btDoc) order(n *btNode, obj map[string]any) []*btNode {
	var props []*btNode
	for _, p := range n.Props {
		if _, ok := obj[p.Name]; ok {
			props = append(props, p)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if n.prop(k) == nil {
			props = append(props, &btNode{Name: k, Path: btJoinPath(n.Path, k), Desc: btHumanize(k)})
		}
	}
	switch dw.r.IntN(4) {
	case 0:
		dw.r.Shuffle(len(props), func(i, j int) { props[i], props[j] = props[j], props[i] })
	case 1:
		if len(props) > 1 {
			i := dw.r.IntN(len(props))
			props = append([]*btNode{props[i]}, append(props[:i:i], props[i+1:]...)...)
		}
	}
	return props
}

// label names a field, in lower case except for proper abbreviations.
func (dw *btDoc) label(n *btNode) string {
	mode := dw.labelMode
	if mode < 3 && btChance(dw.r, 0.2) {
		mode = dw.r.IntN(3)
	}
	switch mode {
	case 1:
		if d := btShortDesc(n.Desc); d != "" && n.Type != "boolean" {
			return d
		}
	case 2:
		words := strings.Fields(btHumanize(n.Name))
		for i, w := range words {
			words[i] = btCapitalize(w)
		}
		return strings.Join(words, " ")
	case 3:
		return n.Name
	}
	return btHumanize(n.Name)
}

// btShortDesc cuts a description to a label of at most four words ("Order
// number exactly as written in the email" -> "order number"), or "" when the
// description does not make a short label.
func btShortDesc(desc string) string {
	d := desc
	for _, cut := range []string{",", " (", " as ", " exactly", " — ", " assigned", " selected", " applied", " all ", " given", " stated"} {
		if i := strings.Index(d, cut); i > 0 {
			d = d[:i]
		}
	}
	d = strings.TrimRight(d, ". ")
	if d == "" || len(strings.Fields(d)) > 4 {
		return ""
	}
	if len(d) > 1 && !(d[1] >= 'A' && d[1] <= 'Z') {
		d = strings.ToLower(d[:1]) + d[1:]
	}
	return d
}

// leaf renders a leaf value: verbatim, dates and times in an accepted
// spelling, enum codes possibly with spaces, booleans as yes / no.
func (dw *btDoc) leaf(n *btNode, v any) string {
	switch x := v.(type) {
	case bool:
		return btPick(dw.r, map[bool][]string{true: {"yes", "Yes", "true"}, false: {"no", "No", "false"}}[x])
	case string:
		if text, ok := btFormatText(dw.r, n.Format, x); ok {
			return text
		}
		if n.isEnum() && dw.spaceEnums {
			return strings.ReplaceAll(x, "_", " ")
		}
		return x
	}
	return btText(v)
}

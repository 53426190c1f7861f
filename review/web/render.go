package web

import (
	"bytes"
	"encoding/json"
	"html/template"
	"slices"
	"strings"
	"unicode"
)

// Segment is a piece of a record's input; Mark is set on the pieces that
// ground a leaf value of the target. Templates print Text escaped.
type Segment struct {
	Text string
	Mark bool
}

// Span is a half-open range [Start, End) of rune offsets in the input.
type Span struct{ Start, End int }

// leaves returns the string and number leaves of a JSON value, numbers as
// written; object keys, booleans and null are not leaves.
func leaves(target string) []string {
	dec := json.NewDecoder(strings.NewReader(target))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil
	}
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		case string:
			if strings.TrimSpace(x) != "" {
				out = append(out, x)
			}
		case json.Number:
			out = append(out, x.String())
		}
	}
	walk(v)
	return out
}

// GroundingSpans finds every case-insensitive occurrence of each leaf value
// of target in input and returns them merged (overlapping or touching spans
// joined), sorted, in rune offsets. Matching is rune by rune with
// unicode.ToLower, so offsets stay valid for any UTF-8 input.
func GroundingSpans(input, target string) []Span {
	in := lowerRunes(input)
	var spans []Span
	for _, leaf := range leaves(target) {
		needle := lowerRunes(leaf)
		for i := 0; i+len(needle) <= len(in); i++ {
			if slices.Equal(in[i:i+len(needle)], needle) {
				spans = append(spans, Span{i, i + len(needle)})
			}
		}
	}
	slices.SortFunc(spans, func(a, b Span) int { return a.Start - b.Start })
	var merged []Span
	for _, s := range spans {
		if n := len(merged); n > 0 && s.Start <= merged[n-1].End {
			merged[n-1].End = max(merged[n-1].End, s.End)
			continue
		}
		merged = append(merged, s)
	}
	return merged
}

func lowerRunes(s string) []rune {
	r := []rune(s)
	for i := range r {
		r[i] = unicode.ToLower(r[i])
	}
	return r
}

// Highlight cuts input into segments, marking the grounding spans of target.
func Highlight(input, target string) []Segment {
	runes := []rune(input)
	var out []Segment
	pos := 0
	for _, s := range GroundingSpans(input, target) {
		if s.Start > pos {
			out = append(out, Segment{Text: string(runes[pos:s.Start])})
		}
		out = append(out, Segment{Text: string(runes[s.Start:s.End]), Mark: true})
		pos = s.End
	}
	if pos < len(runes) || len(out) == 0 {
		out = append(out, Segment{Text: string(runes[pos:])})
	}
	return out
}

// prettyJSON indents JSON text; text that is not JSON is returned as is.
func prettyJSON(s string) string {
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(s), "", "  "); err != nil {
		return s
	}
	return b.String()
}

// Markdown renders a small, safe subset of Markdown: "#" headings, "-", "*"
// and "1." list items, paragraphs separated by blank lines, and **bold**.
// Everything else is text: it is HTML-escaped before any tag is added, so
// raw HTML in guidelines shows as text.
func Markdown(src string) template.HTML {
	var b strings.Builder
	var para []string
	list := "" // "ul", "ol" or "" when no list is open
	flushPara := func() {
		if len(para) > 0 {
			b.WriteString("<p>" + inline(strings.Join(para, " ")) + "</p>\n")
			para = nil
		}
	}
	closeList := func() {
		if list != "" {
			b.WriteString("</" + list + ">\n")
			list = ""
		}
	}
	openList := func(kind string) {
		flushPara()
		if list != kind {
			closeList()
			b.WriteString("<" + kind + ">\n")
			list = kind
		}
	}
	for _, line := range strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n") {
		t := strings.TrimSpace(line)
		switch {
		case t == "":
			flushPara()
			closeList()
		case headingLevel(t) > 0:
			flushPara()
			closeList()
			n := headingLevel(t)
			tag := string(rune('0' + n))
			b.WriteString("<h" + tag + ">" + inline(strings.TrimSpace(t[n:])) + "</h" + tag + ">\n")
		case strings.HasPrefix(t, "- ") || strings.HasPrefix(t, "* "):
			openList("ul")
			b.WriteString("<li>" + inline(strings.TrimSpace(t[2:])) + "</li>\n")
		case orderedItem(t) > 0:
			openList("ol")
			b.WriteString("<li>" + inline(strings.TrimSpace(t[orderedItem(t):])) + "</li>\n")
		default:
			closeList()
			para = append(para, t)
		}
	}
	flushPara()
	closeList()
	return template.HTML(b.String()) // #nosec: every piece of text went through inline's escaping
}

// headingLevel is n for a line starting with n '#' (1-6) and a space, else 0.
func headingLevel(t string) int {
	n := 0
	for n < len(t) && t[n] == '#' {
		n++
	}
	if n == 0 || n > 6 || n >= len(t) || t[n] != ' ' {
		return 0
	}
	return n
}

// orderedItem is the length of a "12. " prefix, else 0.
func orderedItem(t string) int {
	n := 0
	for n < len(t) && t[n] >= '0' && t[n] <= '9' {
		n++
	}
	if n == 0 || n+1 >= len(t) || t[n] != '.' || t[n+1] != ' ' {
		return 0
	}
	return n + 2
}

// inline escapes text and turns balanced **pairs** into <strong>.
func inline(text string) string {
	parts := strings.Split(template.HTMLEscapeString(text), "**")
	if len(parts)%2 == 0 { // an unbalanced ** stays literal
		parts[len(parts)-2] += "**" + parts[len(parts)-1]
		parts = parts[:len(parts)-1]
	}
	var b strings.Builder
	for i, p := range parts {
		if i%2 == 1 {
			b.WriteString("<strong>" + p + "</strong>")
		} else {
			b.WriteString(p)
		}
	}
	return b.String()
}

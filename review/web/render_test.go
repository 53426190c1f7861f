package web

import (
	"html/template"
	"slices"
	"strings"
	"testing"
)

func TestGroundingSpans(t *testing.T) {
	tests := []struct {
		name, input, target string
		want                []string // the marked substrings, in order
	}{
		{"string and number", "Set a timer for 10 minutes named Pasta", `{"minutes":10,"name":"pasta"}`, []string{"10", "Pasta"}},
		{"every occurrence", "2 cups, then 2 more", `{"n":2}`, []string{"2", "2"}},
		{"overlapping leaves merge", "turn on kitchen lights", `{"room":"kitchen","what":"kitchen lights"}`, []string{"kitchen lights"}},
		{"nested arrays", "call Bob and bob", `{"calls":[{"args":{"who":"BOB"}}]}`, []string{"Bob", "bob"}},
		{"keys, booleans and null are not leaves", "intent true null", `{"intent":true,"x":null}`, nil},
		{"unicode case folding keeps offsets", "Öffne STRAßE jetzt", `{"s":"straße","o":"öffne"}`, []string{"Öffne", "STRAßE"}},
		{"number as written", "temperature 21.50 degrees", `{"t":21.50}`, []string{"21.50"}},
		{"not JSON", "anything", `not json`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, s := range Highlight(tt.input, tt.target) {
				if s.Mark {
					got = append(got, s.Text)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("marked %q, want %q", got, tt.want)
			}
			var all strings.Builder
			for _, s := range Highlight(tt.input, tt.target) {
				all.WriteString(s.Text)
			}
			if all.String() != tt.input {
				t.Fatalf("segments join to %q, want the input", all.String())
			}
		})
	}
}

func TestMarkdown(t *testing.T) {
	tests := []struct {
		name, src string
		want      template.HTML
	}{
		{"paragraphs", "one\ntwo\n\nthree", "<p>one two</p>\n<p>three</p>\n"},
		{"heading", "## Labels", "<h2>Labels</h2>\n"},
		{"not a heading", "#hashtag", "<p>#hashtag</p>\n"},
		{"bullets", "- a\n* **b**", "<ul>\n<li>a</li>\n<li><strong>b</strong></li>\n</ul>\n"},
		{"ordered", "1. a\n2. b\ntext", "<ol>\n<li>a</li>\n<li>b</li>\n</ol>\n<p>text</p>\n"},
		{"raw HTML is text", `<img src=x onerror="alert(1)">`, "<p>&lt;img src=x onerror=&#34;alert(1)&#34;&gt;</p>\n"},
		{"unbalanced bold", "a ** b", "<p>a ** b</p>\n"},
		{"link syntax is text", "[x](javascript:alert(1))", "<p>[x](javascript:alert(1))</p>\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Markdown(tt.src); got != tt.want {
				t.Fatalf("Markdown(%q) = %q, want %q", tt.src, got, tt.want)
			}
		})
	}
}

package validate

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file holds the normalizers grounding (grounding.go) is built on:
// matching on word boundaries and reading numbers, dates, times and phone
// numbers out of free text (text folding and words are in
// generator/internal/words, shared with dedup). Every reader is lenient about
// surface form and strict about value: "1,200" reads as 1200, and a phone
// number with one digit changed is a different number.

// stemWord strips one common English inflection so that enum words match
// their inflected forms: "declined" and "decline" both give "declin".
func stemWord(w string) string {
	for _, suf := range []string{"ing", "ed", "ly", "es", "s", "e"} {
		if strings.HasSuffix(w, suf) && len(w)-len(suf) >= 3 {
			return w[:len(w)-len(suf)]
		}
	}
	return w
}

// sameNumber compares two numbers read from different sources (JSON, text)
// with a relative tolerance for float rounding.
func sameNumber(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

var (
	// numRe reads a decimal number with optional thousands commas and an optional
	// "k" suffix ("1,200", "19.99", "1.2k"). Group 1 is the number, group 2 the suffix.
	numRe = regexp.MustCompile(`(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(\s?k\b)?`)
	// spacedNumRe reads numbers grouped by spaces ("1 200"), which are ambiguous
	// with two numbers side by side; both readings are kept.
	spacedNumRe = regexp.MustCompile(`\b\d{1,3}(?: \d{3})+\b`)
)

// numberWords are the number words grounding understands: 0-19 and the tens,
// which compose ("twenty five", "twenty-five").
var numberWords = map[string]int{
	"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
	"six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
	"thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
	"eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
	"sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "dozen": 12,
}

// textNumbers returns every number the lowercased text states: digits in any
// of the forms numRe and spacedNumRe read, a minus sign directly before digits,
// and number words (toks are the text's wordTokens). "a" and "an" are not
// read as 1: nearly every text has them, so a hallucinated 1 would always pass.
func textNumbers(lower string, toks []string) []float64 {
	var out []float64
	for _, m := range numRe.FindAllStringSubmatchIndex(lower, -1) {
		// Digits glued to a letter or a digit run ("abc123", "v2") still count:
		// ordinals like "3rd" and units like "5km" are common.
		v, err := strconv.ParseFloat(strings.ReplaceAll(lower[m[2]:m[3]], ",", ""), 64)
		if err != nil {
			continue
		}
		if m[2] > 0 && lower[m[2]-1] == '-' && (m[2] == 1 || !isAlnumByte(lower[m[2]-2])) {
			v = -v
		}
		out = append(out, v)
		if m[4] >= 0 {
			out = append(out, v*1000)
		}
	}
	for _, m := range spacedNumRe.FindAllString(lower, -1) {
		if v, err := strconv.ParseFloat(strings.ReplaceAll(m, " ", ""), 64); err == nil {
			out = append(out, v)
		}
	}
	for i, t := range toks {
		n, ok := numberWords[t]
		if !ok {
			continue
		}
		out = append(out, float64(n))
		if n >= 20 && n%10 == 0 && i+1 < len(toks) {
			if u, ok := numberWords[toks[i+1]]; ok && u >= 1 && u <= 9 {
				out = append(out, float64(n+u))
			}
		}
	}
	return out
}

// isAlnumByte reports whether an ASCII byte is a letter or digit.
func isAlnumByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// civilDate is a calendar date as read from text; Year is 0 when the text
// gives only a day and month ("March 14").
type civilDate struct{ Year, Month, Day int }

// months maps month names and abbreviations to their numbers.
var months = map[string]int{
	"january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
	"may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
	"september": 9, "sep": 9, "sept": 9, "october": 10, "oct": 10, "november": 11, "nov": 11,
	"december": 12, "dec": 12,
}

const monthAlt = `(january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)`

var (
	isoDateRe   = regexp.MustCompile(`\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})`)
	numDateRe   = regexp.MustCompile(`\b(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{4}|\d{2}))?\b`)
	monthDayRe  = regexp.MustCompile(`\b` + monthAlt + `\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s*(\d{4})\b)?`)
	dayMonthRe  = regexp.MustCompile(`\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?` + monthAlt + `\b\.?(?:,?\s*(\d{4})\b)?`)
	yearRe      = regexp.MustCompile(`\b(1[89]\d\d|2\d\d\d)\b`)
	valueDateRe = regexp.MustCompile(`^(\d{4})-(\d{2})-(\d{2})$`)
)

// atoi converts a regexp group; empty groups are 0.
func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// yearOf reads a 2- or 4-digit year; 2-digit years are in 2000-2099.
func yearOf(s string) int {
	if s == "" {
		return 0
	}
	y := atoi(s)
	if len(s) == 2 {
		y += 2000
	}
	return y
}

// textDates returns every date the lowercased text states, in every reading:
// "03/04/2026" gives both 3 April and 4 March. Impossible readings (month 14)
// are dropped; out-of-range days are kept so that an invalid value such as
// 30 February can still be found.
func textDates(lower string) []civilDate {
	var out []civilDate
	add := func(y, m, d int) {
		if m >= 1 && m <= 12 && d >= 1 && d <= 31 {
			out = append(out, civilDate{y, m, d})
		}
	}
	for _, g := range isoDateRe.FindAllStringSubmatch(lower, -1) {
		add(atoi(g[1]), atoi(g[2]), atoi(g[3]))
	}
	for _, m := range numDateRe.FindAllStringSubmatchIndex(lower, -1) {
		if m[0] >= 2 && strings.IndexByte("/.-", lower[m[0]-1]) >= 0 && lower[m[0]-2] >= '0' && lower[m[0]-2] <= '9' {
			continue // the tail of an ISO date, already read
		}
		a, b, y := atoi(lower[m[2]:m[3]]), atoi(lower[m[4]:m[5]]), 0
		if m[6] >= 0 {
			y = yearOf(lower[m[6]:m[7]])
		}
		add(y, b, a)
		add(y, a, b)
	}
	for _, g := range monthDayRe.FindAllStringSubmatch(lower, -1) {
		add(atoi(g[3]), months[g[1]], atoi(g[2]))
	}
	for _, g := range dayMonthRe.FindAllStringSubmatch(lower, -1) {
		add(atoi(g[3]), months[g[2]], atoi(g[1]))
	}
	return out
}

// textYears returns the four-digit years the text mentions anywhere.
func textYears(lower string) map[int]bool {
	ys := map[int]bool{}
	for _, y := range yearRe.FindAllString(lower, -1) {
		ys[atoi(y)] = true
	}
	return ys
}

// clockTime is a time of day read from text. Suffix is "am", "pm" or "" (no
// meridiem: "7:30" may mean 07:30 or 19:30). Sec is -1 when not stated.
type clockTime struct {
	Hour, Min, Sec int
	Suffix         string
}

var (
	textTimeRe  = regexp.MustCompile(`(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?(?:\s*(a\.?m\b\.?|p\.?m\b\.?|o'?clock\b|o’clock\b))?`)
	valueTimeRe = regexp.MustCompile(`^(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:z|[+-]\d{2}:?\d{2})?$`)
	// valueDateTimeRe splits an RFC 3339 date-time (or one without seconds or offset).
	valueDateTimeRe = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2})[t ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(z|[+-]\d{2}:?\d{2})?$`)
	noonRe          = regexp.MustCompile(`\b(noon|midday|midnight)\b`)
)

// textTimes returns every time of day the lowercased text states: "9:30",
// "09:30:15", "9:30 am", "7pm", "7 o'clock", "noon", "midnight". A bare
// number ("at 7") is not a time: it would make every number a time.
func textTimes(lower string) []clockTime {
	var out []clockTime
	for _, m := range textTimeRe.FindAllStringSubmatchIndex(lower, -1) {
		if m[0] > 0 && (lower[m[0]-1] >= '0' && lower[m[0]-1] <= '9' || lower[m[0]-1] == ':') {
			continue
		}
		if m[1] < len(lower) && lower[m[1]] >= '0' && lower[m[1]] <= '9' {
			continue
		}
		hasMin, suffix := m[4] >= 0, ""
		if m[8] >= 0 {
			switch lower[m[8]] {
			case 'a':
				suffix = "am"
			case 'p':
				suffix = "pm"
			}
		}
		if !hasMin && m[8] < 0 {
			continue
		}
		t := clockTime{Hour: atoi(lower[m[2]:m[3]]), Sec: -1, Suffix: suffix}
		if hasMin {
			t.Min = atoi(lower[m[4]:m[5]])
		}
		if m[6] >= 0 {
			t.Sec = atoi(lower[m[6]:m[7]])
		}
		if t.Hour <= 24 && t.Min < 60 {
			out = append(out, t)
		}
	}
	for _, w := range noonRe.FindAllString(lower, -1) {
		if w == "midnight" {
			out = append(out, clockTime{Hour: 0, Sec: -1})
		} else {
			out = append(out, clockTime{Hour: 12, Sec: -1})
		}
	}
	return out
}

// matches reports whether the stated time t is the 24-hour time h:m:s. A
// time without am/pm also matches twelve hours later ("7:30" for 19:30),
// because people rarely say "19:30"; the reverse is not true.
func (t clockTime) matches(h, m, s int) bool {
	if t.Min != m || (t.Sec >= 0 && t.Sec != s) || (t.Sec < 0 && s != 0) {
		return false
	}
	switch t.Suffix {
	case "am":
		return t.Hour <= 12 && t.Hour%12 == h
	case "pm":
		return t.Hour <= 12 && t.Hour%12+12 == h
	}
	return t.Hour == h || (t.Hour >= 1 && t.Hour <= 11 && t.Hour+12 == h)
}

// digitRun is a run of digits in a text and whether it continues the previous
// run: only phone-number separators (space, dash, dot, parentheses, slash) lie
// between them.
type digitRun struct {
	digits string
	joined bool
}

var phoneSepRe = regexp.MustCompile(`^[\s().\-/]{1,3}$`)

// textDigitRuns splits the text into digit runs for phone and digit-sequence
// matching.
func textDigitRuns(s string) []digitRun {
	var out []digitRun
	last := -1
	for i := 0; i < len(s); {
		if s[i] < '0' || s[i] > '9' {
			i++
			continue
		}
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		joined := last >= 0 && phoneSepRe.MatchString(s[last:i])
		out = append(out, digitRun{s[i:j], joined})
		last, i = j, j
	}
	return out
}

// onlyDigits returns the digits of s.
func onlyDigits(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// samePhone compares two digit sequences as phone numbers: equal, or equal
// once a country code of 1-3 digits is added in front of the national number
// (whose trunk "0" is dropped), as in "+44 20 7946 0958" and "020 7946 0958".
func samePhone(a, b string) bool {
	a, b = strings.TrimPrefix(a, "00"), strings.TrimPrefix(b, "00")
	if a == b {
		return true
	}
	if len(a) < len(b) {
		a, b = b, a
	}
	for _, short := range []string{b, strings.TrimPrefix(b, "0")} {
		extra := len(a) - len(short)
		if len(short) >= 7 && extra >= 1 && extra <= 3 && strings.HasSuffix(a, short) {
			return true
		}
	}
	return false
}

// containsOnBoundary reports whether needle occurs in hay without being glued
// to a letter or digit on either side, so that "5" is not found in "15".
func containsOnBoundary(hay, needle string) bool {
	for off := 0; off <= len(hay)-len(needle); {
		i := strings.Index(hay[off:], needle)
		if i < 0 {
			return false
		}
		start, end := off+i, off+i+len(needle)
		if boundaryBefore(hay, start, needle) && boundaryAfter(hay, end, needle) {
			return true
		}
		_, size := utf8.DecodeRuneInString(hay[start:])
		off = start + size
	}
	return false
}

// isWordRune reports whether r is part of a word.
func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// boundaryBefore reports whether a match of needle at hay[start:] starts a word
// (or needle itself starts with punctuation).
func boundaryBefore(hay string, start int, needle string) bool {
	first, _ := utf8.DecodeRuneInString(needle)
	if start == 0 || !isWordRune(first) {
		return true
	}
	prev, _ := utf8.DecodeLastRuneInString(hay[:start])
	return !isWordRune(prev)
}

// boundaryAfter reports whether a match of needle ending at hay[:end] ends a word.
func boundaryAfter(hay string, end int, needle string) bool {
	last, _ := utf8.DecodeLastRuneInString(needle)
	if end == len(hay) || !isWordRune(last) {
		return true
	}
	next, _ := utf8.DecodeRuneInString(hay[end:])
	return !isWordRune(next)
}

// numberLiteralIn reports whether the number text occurs in lower as a whole
// number: "1200" is not in "1200.50" or "1,1200".
func numberLiteralIn(lower, text string) bool {
	digit := func(i int) bool { return i >= 0 && i < len(lower) && lower[i] >= '0' && lower[i] <= '9' }
	for off := 0; ; off++ {
		i := strings.Index(lower[off:], text)
		if i < 0 {
			return false
		}
		start, end := off+i, off+i+len(text)
		glued := (start >= 2 && (lower[start-1] == '.' || lower[start-1] == ',') && digit(start-2)) ||
			(end+1 < len(lower) && (lower[end] == '.' || lower[end] == ',') && digit(end+1))
		if !glued && boundaryBefore(lower, start, text) && boundaryAfter(lower, end, text) {
			return true
		}
		off = start
	}
}

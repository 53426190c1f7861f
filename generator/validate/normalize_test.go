package validate

import (
	"reflect"
	"slices"
	"testing"

	"github.com/cyclecore/mlmforge/generator/internal/words"
)

func TestNormalizeStem(t *testing.T) {
	tests := []struct{ a, b string }{
		{"declined", "decline"},
		{"accepted", "accept"},
		{"conferencing", "conference"},
		{"lights", "light"},
		{"weekly", "week"},
	}
	for _, tc := range tests {
		t.Run(tc.a, func(t *testing.T) {
			if stemWord(tc.a) != stemWord(tc.b) {
				t.Errorf("stem(%q) = %q, stem(%q) = %q; want equal", tc.a, stemWord(tc.a), tc.b, stemWord(tc.b))
			}
		})
	}
	if stemWord("on") != "on" || stemWord("is") != "is" {
		t.Error("short words must not be stemmed")
	}
}

func TestNormalizeNumbers(t *testing.T) {
	tests := []struct {
		text string
		want []float64
	}{
		{"1,200 and 19.99", []float64{1200, 19.99}},
		{"about 1.2k", []float64{1.2, 1200}},
		{"1 200", []float64{1, 200, 1200}},
		{"-5 and 5-10", []float64{-5, 5, 10}},
		{"twenty five and seven", []float64{20, 25, 5, 7}},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			got := textNumbers(tc.text, words.Tokens(tc.text))
			for _, w := range tc.want {
				if !slices.ContainsFunc(got, func(g float64) bool { return sameNumber(g, w) }) {
					t.Errorf("textNumbers(%q) = %v, missing %v", tc.text, got, w)
				}
			}
		})
	}
}

func TestNormalizeDates(t *testing.T) {
	tests := []struct {
		text string
		want []civilDate
	}{
		{"2026-03-14", []civilDate{{2026, 3, 14}}},
		{"march 14th, 2026", []civilDate{{2026, 3, 14}}},
		{"the 14th of march", []civilDate{{0, 3, 14}}},
		{"03/04/26", []civilDate{{2026, 4, 3}, {2026, 3, 4}}},
		{"14/03", []civilDate{{0, 3, 14}}},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			if got := textDates(tc.text); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("textDates(%q) = %v, want %v", tc.text, got, tc.want)
			}
		})
	}
}

func TestNormalizeTimes(t *testing.T) {
	tests := []struct {
		text string
		want []clockTime
	}{
		{"at 9:30", []clockTime{{9, 30, -1, ""}}},
		{"at 9:30:15 pm", []clockTime{{9, 30, 15, "pm"}}},
		{"7am or 7 p.m.", []clockTime{{7, 0, -1, "am"}, {7, 0, -1, "pm"}}},
		{"2026-03-14t09:30", []clockTime{{9, 30, -1, ""}}},
		{"at 7 with 3 people", nil},
		{"midnight", []clockTime{{0, 0, -1, ""}}},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			if got := textTimes(tc.text); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("textTimes(%q) = %v, want %v", tc.text, got, tc.want)
			}
		})
	}
}

func TestNormalizePhones(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"4155550100", "4155550100", true},
		{"14155550100", "4155550100", true},
		{"442079460958", "02079460958", true},
		{"00442079460958", "442079460958", true},
		{"4155550101", "4155550100", false},
		{"99994155550100", "4155550100", false},
		{"123456", "23456", false},
	}
	for _, tc := range tests {
		t.Run(tc.a+"_"+tc.b, func(t *testing.T) {
			if got := samePhone(tc.a, tc.b); got != tc.want {
				t.Errorf("samePhone(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
			}
		})
	}
}

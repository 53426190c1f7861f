package validate

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestGrounded(t *testing.T) {
	tests := []struct {
		name  string
		input string
		value any
		want  bool
		how   string // normalizer expected when want is true
	}{
		// Strings.
		{"exact", "My order ORD-1234 never arrived", "ORD-1234", true, "exact"},
		{"case", "my order ord-1234 never arrived", "ORD-1234", true, "case"},
		{"diacritics fold", "flying to zurich tomorrow", "Zürich", true, "case"},
		{"punctuation and spacing", "order ORD 1234 please", "ORD-1234", true, "normalized"},
		{"glued", "order ORD1234 please", "ORD-1234", true, "normalized"},
		{"multi-word", "ship it to new   york, please", "New York", true, "normalized"},
		{"not inside a word", "the card ending 14821", "4821", false, ""},
		{"substring of a word", "meet at the warehouse", "war", false, ""},
		{"different string", "my order ORD-1235 never arrived", "ORD-1234", false, ""},
		{"missing name", "please call the front desk", "Alice Moreau", false, ""},
		{"empty string", "anything at all", "", true, "empty"},
		// Enum codes.
		{"enum words", "use express shipping please", "express_shipping", true, "enum-words"},
		{"enum inflected", "I have declined the invitation", "decline", true, "enum-words"},
		{"enum inflected -ing", "room with video conferencing", "video_conference", true, "enum-words"},
		{"enum glued", "pay with giftcard", "gift_card", true, "enum-words"},
		{"enum absent", "standard shipping please", "express_shipping", false, ""},
		{"enum words out of order", "shipping express please", "express_shipping", false, ""},
		// Numbers.
		{"integer", "set it to 1200 units", 1200.0, true, "exact"},
		{"thousands comma", "the budget is 1,200 dollars", 1200.0, true, "number"},
		{"thousands space", "the budget is 1 200 dollars", 1200.0, true, "number"},
		{"trailing zeros", "total 1200.00 due", 1200.0, true, "number"},
		{"k suffix", "around 1.2k followers", 1200.0, true, "number"},
		{"currency", "it costs $19.99 now", 19.99, true, "exact"},
		{"json.Number", "it costs $19.99 now", json.Number("19.99"), true, "exact"},
		{"int", "dim to 40 percent", 40, true, "exact"},
		{"word", "for three people", 3.0, true, "number"},
		{"compound word", "twenty-five minutes", 25.0, true, "number"},
		{"percent", "brightness 45%", 45.0, true, "exact"},
		{"ordinal", "check the 3rd item", 3.0, true, "number"},
		{"negative", "it is -5 outside", -5.0, true, "exact"},
		{"different number", "set it to 1250 units", 1200.0, false, ""},
		{"decimal is not integer", "set it to 1200.50", 1200.0, false, ""},
		{"sign matters", "it is -5 outside", 5.0, false, ""},
		{"numeric string", "the card ending 4821", "4821", true, "exact"},
		{"numeric string other form", "limit of 1,500", "1500", true, "number"},
		{"long digit string", "account 1234 5678", "12345678", true, "digits"},
		// Dates.
		{"iso date", "due on 2026-03-14.", "2026-03-14", true, "exact"},
		{"month day year", "due March 14, 2026", "2026-03-14", true, "date"},
		{"day month year", "due 14 March 2026", "2026-03-14", true, "date"},
		{"ordinal day of month", "on the 14th of March, 2026", "2026-03-14", true, "date"},
		{"d/m/y", "due 14/03/2026", "2026-03-14", true, "date"},
		{"m/d/y", "due 03/14/2026", "2026-03-14", true, "date"},
		{"abbreviated, year elsewhere", "for the 2026 season: opens Mar 14", "2026-03-14", true, "date"},
		{"no year anywhere", "opens Mar 14", "2026-03-14", false, ""},
		{"wrong year", "opens March 14, 2025", "2026-03-14", false, ""},
		{"different date", "due March 15, 2026", "2026-03-14", false, ""},
		// Times and date-times.
		{"time exact", "wake me at 07:30", "07:30", true, "exact"},
		{"time no leading zero", "wake me at 7:30", "07:30", true, "time"},
		{"time am", "wake me at 7:30 am", "07:30", true, "time"},
		{"time pm", "dinner at 7:30 p.m.", "19:30", true, "time"},
		{"time spoken evening", "dinner at 7:30", "19:30", true, "time"},
		{"time hour only", "meet at 7pm", "19:00", true, "time"},
		{"time noon", "lunch at noon", "12:00", true, "time"},
		{"time seconds", "at 7:30", "07:30:00", true, "time"},
		{"time am is not pm", "dinner at 7:30 am", "19:30", false, ""},
		{"time different", "wake me at 8:30", "07:30", false, ""},
		{"date-time", "dentist on March 14, 2026 at 9:30 am", "2026-03-14T09:30:00Z", true, "date-time"},
		{"date-time iso", "starts 2026-03-14 09:30", "2026-03-14T09:30:00+01:00", true, "date-time"},
		{"date-time wrong time", "dentist on March 14, 2026 at 10:30 am", "2026-03-14T09:30:00Z", false, ""},
		{"date-time no time", "dentist on March 14, 2026", "2026-03-14T09:30:00Z", false, ""},
		// Phones, emails, URLs.
		{"phone formatted", "call me on (415) 555-0100", "+1 415 555 0100", true, "phone"},
		{"phone plain in text", "call me on 4155550100", "+1-415-555-0100", true, "phone"},
		{"phone trunk zero", "ring 020 7946 0958", "+44 20 7946 0958", true, "phone"},
		{"phone one digit changed", "call me on (415) 555-0101", "+1 415 555 0100", false, ""},
		{"email case", "write to Ana.Silva@Example.com", "ana.silva@example.com", true, "case"},
		{"email not by words", "write to ana silva at example com", "ana.silva@example.com", false, ""},
		{"url", "see https://example.com/docs", "https://example.com/docs", true, "exact"},
		{"url not by words", "see example com docs", "https://example.com/docs", false, ""},
		// Exempt and composite.
		{"boolean exempt", "nothing here", true, true, "exempt"},
		{"null exempt", "nothing here", nil, true, "exempt"},
		{"object by leaves", "Ana at Acme", map[string]any{"name": "Ana", "company": "Acme"}, true, "leaves"},
		{"object missing a leaf", "Ana at Acme", map[string]any{"name": "Ana", "company": "Initech"}, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, how := Grounded(tc.input, tc.value)
			if got != tc.want || how != tc.how {
				t.Errorf("Grounded(%q, %#v) = %v, %q; want %v, %q", tc.input, tc.value, got, how, tc.want, tc.how)
			}
		})
	}
}

func TestGroundingLeaves(t *testing.T) {
	var doc any
	if err := json.Unmarshal([]byte(`{"order_id":"A1","items":[{"sku":"X","qty":2},{"sku":"Y","qty":1}],"gift":false,"notes":null,"tags":[],"meta":{}}`), &doc); err != nil {
		t.Fatal(err)
	}
	want := []Leaf{
		{"$.gift", false},
		{"$.items[0].qty", 2.0},
		{"$.items[0].sku", "X"},
		{"$.items[1].qty", 1.0},
		{"$.items[1].sku", "Y"},
		{"$.notes", nil},
		{"$.order_id", "A1"},
	}
	if got := Leaves(doc); !reflect.DeepEqual(got, want) {
		t.Errorf("Leaves = %v\nwant %v", got, want)
	}
	// Go values that are not encoding/json's generic types are converted.
	got := Leaves(map[string][]int{"n": {1, 2}})
	if want := []Leaf{{"$.n[0]", 1.0}, {"$.n[1]", 2.0}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Leaves(typed map) = %v, want %v", got, want)
	}
	if got := Leaves("x"); !reflect.DeepEqual(got, []Leaf{{"$", "x"}}) {
		t.Errorf("Leaves(scalar) = %v", got)
	}
}

package eval

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// decodeJSON parses exactly one JSON value. Numbers stay json.Number so that
// 5 and 5.0 remain distinguishable (the BFCL type checks need it) and large
// integers keep their digits; trailing data other than whitespace is an error.
func decodeJSON(data string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if rest := strings.TrimSpace(data[dec.InputOffset():]); rest != "" {
		return nil, fmt.Errorf("trailing data after the JSON value at offset %d", dec.InputOffset())
	}
	return v, nil
}

// stripFence removes one surrounding Markdown code fence (```json ... ```),
// which chat models add even when told not to.
func stripFence(s string) string {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "```") {
		return s
	}
	s = s[3:]
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	} else {
		s = ""
	}
	s = strings.TrimSpace(s)
	return strings.TrimSpace(strings.TrimSuffix(s, "```"))
}

// extractJSON parses model output that should be one JSON value: the whole
// text after stripping whitespace and a code fence, or failing that the
// span from the first '{' to the last '}' (a model that wraps its object in
// prose). Anything else is an error that says where parsing stopped.
func extractJSON(raw string) (any, error) {
	v, _, err := extractJSONText(raw)
	return v, err
}

// extractJSONText is extractJSON that also returns the JSON text it parsed.
func extractJSONText(raw string) (any, string, error) {
	s := stripFence(raw)
	if s == "" {
		return nil, "", errors.New("empty output")
	}
	v, err := decodeJSON(s)
	if err == nil {
		return v, s, nil
	}
	if i, j := strings.IndexByte(s, '{'), strings.LastIndexByte(s, '}'); i >= 0 && j > i && (i > 0 || j < len(s)-1) {
		if v2, err2 := decodeJSON(s[i : j+1]); err2 == nil {
			return v2, s[i : j+1], nil
		}
	}
	return nil, "", fmt.Errorf("not valid JSON: %w", err)
}

// canonNumber formats a JSON number literal canonically: the shortest
// decimal that round-trips its float64 value, so 1, 1.0, 1.00 and 1e0 are all
// "1" and -0 is "0". A literal outside float64's range keeps its text.
func canonNumber(lit string) string {
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil {
		return strings.ToLower(lit)
	}
	if f == 0 {
		return "0"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// canonical returns v's canonical text, a comparison key in JSON's shape:
// object keys sorted, no insignificant whitespace, numbers by canonNumber,
// strings quoted by strconv.Quote. With unordered set, array elements are sorted by their own
// canonical text at every depth (multiset semantics).
func canonical(v any, unordered bool) string {
	var b bytes.Buffer
	writeCanonical(&b, v, unordered)
	return b.String()
}

func writeCanonical(b *bytes.Buffer, v any, unordered bool) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case json.Number:
		b.WriteString(canonNumber(string(x)))
	case float64:
		b.WriteString(canonNumber(strconv.FormatFloat(x, 'g', -1, 64)))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case int:
		b.WriteString(strconv.Itoa(x))
	case string:
		writeString(b, x)
	case []any:
		writeArray(b, x, unordered)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, k)
			b.WriteByte(':')
			writeCanonical(b, x[k], unordered)
		}
		b.WriteByte('}')
	default:
		// Values here come from JSON decoding; anything else is encoded as-is.
		enc, err := json.Marshal(x)
		if err != nil {
			enc = []byte(strconv.Quote(fmt.Sprint(x)))
		}
		b.Write(enc)
	}
}

func writeArray(b *bytes.Buffer, xs []any, unordered bool) {
	b.WriteByte('[')
	if !unordered {
		for i, e := range xs {
			if i > 0 {
				b.WriteByte(',')
			}
			writeCanonical(b, e, false)
		}
	} else {
		parts := make([]string, len(xs))
		for i, e := range xs {
			parts[i] = canonical(e, true)
		}
		sort.Strings(parts)
		b.WriteString(strings.Join(parts, ","))
	}
	b.WriteByte(']')
}

// writeString quotes s. The canonical text is only a comparison key, so
// Go's quoting (injective, and much faster than encoding/json) serves.
func writeString(b *bytes.Buffer, s string) {
	var buf [64]byte
	b.Write(strconv.AppendQuote(buf[:0], s))
}

// prf holds precision, recall and F1 of one comparison.
type prf struct{ p, r, f float64 }

// multisetPRF compares two multisets of keys. Two empty sets agree perfectly.
func multisetPRF(pred, gold []string) prf {
	if len(pred) == 0 && len(gold) == 0 {
		return prf{1, 1, 1}
	}
	counts := make(map[string]int, len(gold))
	for _, k := range gold {
		counts[k]++
	}
	match := 0
	for _, k := range pred {
		if counts[k] > 0 {
			counts[k]--
			match++
		}
	}
	return prfOf(match, len(pred), len(gold))
}

// prfOf computes precision, recall and F1 from counts, 0 where undefined.
func prfOf(match, npred, ngold int) prf {
	var out prf
	if npred > 0 {
		out.p = float64(match) / float64(npred)
	}
	if ngold > 0 {
		out.r = float64(match) / float64(ngold)
	}
	if out.p+out.r > 0 {
		out.f = 2 * out.p * out.r / (out.p + out.r)
	}
	return out
}

// ratio divides, giving 0 for an empty denominator.
func ratio(num float64, den int) float64 {
	if den == 0 {
		return 0
	}
	return num / float64(den)
}

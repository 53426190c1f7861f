package importer

import (
	"fmt"
	"unicode/utf8"
)

// decodeText turns a benchmark file's bytes into UTF-8 and says how.
//
// A valid UTF-8 file is returned as it is (encoding ""). A file with invalid
// bytes but no valid multi-byte UTF-8 sequence is Latin-1 throughout (some
// SNIPS releases are) and is decoded byte by byte ("latin-1"). A UTF-8 file with
// a few bad sequences keeps every valid character: a CESU-8 surrogate pair (an
// emoji written as two 3-byte surrogates, as in SNIPS's train_PlayMusic_full.json)
// becomes the code point it encodes, any other invalid byte becomes U+FFFD, and
// each repair is listed with its byte offset, so the provenance says exactly
// what changed. Decoding such a file as Latin-1 would garble every other
// non-ASCII character in it ("MÃºsica" for "Música").
func decodeText(data []byte) (out []byte, encoding string, repairs []string) {
	if utf8.Valid(data) {
		return data, "", nil
	}
	if !hasMultiByteUTF8(data) {
		out = make([]byte, 0, len(data)+len(data)/8)
		for _, c := range data {
			out = utf8.AppendRune(out, rune(c))
		}
		return out, "latin-1", nil
	}
	out = make([]byte, 0, len(data))
	for i := 0; i < len(data); {
		r, w := utf8.DecodeRune(data[i:])
		if r != utf8.RuneError || w > 1 {
			out = append(out, data[i:i+w]...)
			i += w
			continue
		}
		if cp, ok := cesu8Pair(data[i:]); ok {
			out = utf8.AppendRune(out, cp)
			repairs = append(repairs, fmt.Sprintf("byte %d: CESU-8 surrogate pair decoded as U+%04X", i, cp))
			i += 6
			continue
		}
		out = utf8.AppendRune(out, utf8.RuneError)
		repairs = append(repairs, fmt.Sprintf("byte %d: invalid byte 0x%02x replaced by U+FFFD", i, data[i]))
		i++
	}
	return out, "utf-8", repairs
}

// hasMultiByteUTF8 reports whether data holds at least one valid multi-byte
// UTF-8 sequence.
func hasMultiByteUTF8(data []byte) bool {
	for i := 0; i < len(data); {
		if data[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, w := utf8.DecodeRune(data[i:])
		if r != utf8.RuneError || w > 1 {
			return true
		}
		i++
	}
	return false
}

// cesu8Pair decodes a high and a low surrogate, each written as a 3-byte UTF-8
// sequence (ED A0-AF xx, ED B0-BF xx), into the supplementary code point.
func cesu8Pair(b []byte) (rune, bool) {
	surrogate := func(b []byte, lo, hi byte) (rune, bool) {
		if len(b) < 3 || b[0] != 0xED || b[1] < lo || b[1] > hi || b[2]&0xC0 != 0x80 {
			return 0, false
		}
		return 0xD000 | rune(b[1]&0x3F)<<6 | rune(b[2]&0x3F), true
	}
	h, ok := surrogate(b, 0xA0, 0xAF)
	if !ok {
		return 0, false
	}
	l, ok := surrogate(b[3:], 0xB0, 0xBF)
	if !ok {
		return 0, false
	}
	return 0x10000 + (h-0xD800)<<10 + (l - 0xDC00), true
}

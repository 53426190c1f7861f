package tokenizer

import (
	"fmt"
	"strings"
)

// byteToRune is GPT-2's bytes_to_unicode table: printable Latin-1 bytes map to
// themselves and the other 68 bytes to U+0100.., so that every byte string is a
// printable string without whitespace (tokenizer.json stores vocab keys in it).
var byteToRune [256]rune

// runeToByte inverts byteToRune.
var runeToByte = map[rune]byte{}

func init() {
	n := 0
	for b := range 256 {
		printable := (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)
		if printable {
			byteToRune[b] = rune(b)
		} else {
			byteToRune[b] = rune(256 + n)
			n++
		}
		runeToByte[byteToRune[b]] = byte(b)
	}
}

// byteLevelEncode maps raw bytes to their byte-level string ("Ġhello" for " hello").
func byteLevelEncode(raw string) string {
	var sb strings.Builder
	sb.Grow(len(raw) * 2)
	for i := 0; i < len(raw); i++ {
		sb.WriteRune(byteToRune[raw[i]])
	}
	return sb.String()
}

// byteLevelDecode maps a byte-level string back to raw bytes; it fails on a
// rune outside the table, which no byte-level vocabulary entry contains.
func byteLevelDecode(s string) (string, error) {
	buf := make([]byte, 0, len(s))
	for i, r := range s {
		b, ok := runeToByte[r]
		if !ok {
			return "", fmt.Errorf("character %q at byte %d is not a byte-level symbol", r, i)
		}
		buf = append(buf, b)
	}
	return string(buf), nil
}

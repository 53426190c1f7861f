package importer

import (
	"reflect"
	"testing"
)

func TestDecodeText(t *testing.T) {
	for _, tt := range []struct {
		name, in, want, encoding string
		repairs                  []string
	}{
		{"utf-8", "Música 🍕", "Música 🍕", "", nil},
		{"latin-1 throughout", "Beyonc\xe9 caf\xe9", "Beyoncé café", "latin-1", nil},
		// U+1F355 written as the surrogates D83C DF55, each as a 3-byte sequence.
		{"cesu-8 pair in utf-8", "Música \xed\xa0\xbc\xed\xbd\x95!", "Música 🍕!", "utf-8",
			[]string{"byte 8: CESU-8 surrogate pair decoded as U+1F355"}},
		{"stray byte in utf-8", "Música \xff!", "Música \uFFFD!", "utf-8",
			[]string{"byte 8: invalid byte 0xff replaced by U+FFFD"}},
		{"lone high surrogate", "é \xed\xa0\xbcx", "é \uFFFD\uFFFD\uFFFDx", "utf-8",
			[]string{"byte 3: invalid byte 0xed replaced by U+FFFD", "byte 4: invalid byte 0xa0 replaced by U+FFFD",
				"byte 5: invalid byte 0xbc replaced by U+FFFD"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, enc, rep := decodeText([]byte(tt.in))
			if string(out) != tt.want || enc != tt.encoding || !reflect.DeepEqual(rep, tt.repairs) {
				t.Errorf("decodeText(%q) = %q, %q, %q; want %q, %q, %q", tt.in, out, enc, rep, tt.want, tt.encoding, tt.repairs)
			}
		})
	}
}

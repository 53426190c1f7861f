package constrain

import (
	"testing"
)

// TestGoldTargetsAccepted: every gold answer of the three tasks passes the
// reference validator and the recognizer.
func TestGoldTargetsAccepted(t *testing.T) {
	cases := goldCases(t, 120)
	for _, c := range cases {
		if err := validate(t, c.schema, c.answer); err != nil {
			t.Fatalf("%s: reference validator rejects gold %s: %v", c.name, c.answer, err)
		}
		sc, err := Compile(c.schema)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if err := sc.Check([]byte(c.answer)); err != nil {
			t.Errorf("%s: recognizer rejects gold %s: %v", c.name, c.answer, err)
		}
	}
	t.Logf("%d gold answers", len(cases))
}

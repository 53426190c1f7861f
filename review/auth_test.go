package review

import "testing"

func TestSignatures(t *testing.T) {
	s := NewSigner("alice", "token-a")
	pub := PublicKeyHex(s.Key)
	body := []byte(`{"record_id":"r1","kind":"approve"}`)
	sig := s.Sign("dataset-1", "review.decide", body)
	if !VerifySignature(pub, "dataset-1", "review.decide", body, sig) {
		t.Fatal("a valid signature does not verify")
	}
	other := PublicKeyHex(KeyFromToken("token-b"))
	tests := []struct {
		name, pub, queue, update, body, sig string
	}{
		{"another reviewer's key", other, "dataset-1", "review.decide", string(body), sig},
		{"another dataset", pub, "dataset-2", "review.decide", string(body), sig},
		{"another update", pub, "dataset-1", "review.undo", string(body), sig},
		{"changed body", pub, "dataset-1", "review.decide", `{"record_id":"r1","kind":"reject"}`, sig},
		{"no signature", pub, "dataset-1", "review.decide", string(body), ""},
		{"garbage signature", pub, "dataset-1", "review.decide", string(body), "zz"},
		{"garbage key", "nothex", "dataset-1", "review.decide", string(body), sig},
	}
	for _, tc := range tests {
		if VerifySignature(tc.pub, tc.queue, tc.update, []byte(tc.body), tc.sig) {
			t.Errorf("%s: verified", tc.name)
		}
	}
	if KeyFromToken("token-a").Equal(KeyFromToken("token-b")) || !KeyFromToken("token-a").Equal(s.Key) {
		t.Error("keys do not derive deterministically from tokens")
	}
}

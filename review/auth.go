package review

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
)

// Requests to a review gate are signed. A reviewer's token (what he logs in
// with, or passes to the CLI) derives an Ed25519 key; the reviewers store
// keeps only its public half, and the Dataset workflow checks every lease,
// decision, adjudication and undo against it in the update validator. The
// signature, not the token, travels in the update, so the workflow history
// (readable by anyone who reaches the Temporal port) holds nothing that lets
// one act as a reviewer.

// keyDomain separates these keys from any other use of a token.
const keyDomain = "mlmforge review key v1\x00"

// sigDomain separates signed review requests from other signed messages.
const sigDomain = "mlmforge review request v1\x00"

// KeyFromToken derives a reviewer's signing key from his token.
func KeyFromToken(token string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte(keyDomain + token))
	return ed25519.NewKeyFromSeed(seed[:])
}

// PublicKeyHex is the hex public key of a signing key.
func PublicKeyHex(key ed25519.PrivateKey) string {
	return hex.EncodeToString(key.Public().(ed25519.PublicKey))
}

// Signer signs a reviewer's requests to review gates.
type Signer struct {
	// Reviewer is the name requests are made as.
	Reviewer string
	// Key is KeyFromToken of his token.
	Key ed25519.PrivateKey
}

// NewSigner returns the signer of a reviewer's token.
func NewSigner(reviewer, token string) Signer {
	return Signer{Reviewer: reviewer, Key: KeyFromToken(token)}
}

// signedMessage binds a request body to its gate (queue) and update name, so
// a signature cannot be replayed on another dataset or as another request.
func signedMessage(queue, update string, body []byte) []byte {
	msg := make([]byte, 0, len(sigDomain)+len(queue)+len(update)+len(body)+2)
	msg = append(msg, sigDomain...)
	msg = append(msg, queue...)
	msg = append(msg, 0)
	msg = append(msg, update...)
	msg = append(msg, 0)
	return append(msg, body...)
}

// Sign signs body (the request without its signature) for update on queue.
func (s Signer) Sign(queue, update string, body []byte) string {
	if len(s.Key) != ed25519.PrivateKeySize {
		return ""
	}
	return hex.EncodeToString(ed25519.Sign(s.Key, signedMessage(queue, update, body)))
}

// VerifySignature reports whether sig is a valid signature of body for update
// on queue by the holder of the hex public key.
func VerifySignature(publicKeyHex, queue, update string, body []byte, sig string) bool {
	pub, err := hex.DecodeString(publicKeyHex)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return false
	}
	raw, err := hex.DecodeString(sig)
	if err != nil || len(raw) != ed25519.SignatureSize {
		return false
	}
	return ed25519.Verify(ed25519.PublicKey(pub), signedMessage(queue, update, body), raw)
}

package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"time"
)

// Reviewers is a file-backed store of the people allowed to review. The file
// (JSON, mode 0600) holds each reviewer's name, the hex sha256 of his token
// and when he was added: never the token, so a leaked file lets nobody in.
// Tokens are 32 random bytes, so an unsalted hash is enough.
type Reviewers struct {
	mu   sync.Mutex
	path string
	now  func() time.Time
	list []reviewerEntry
}

// reviewerEntry is one reviewer in the file.
type reviewerEntry struct {
	// Name is the reviewer's name, as recorded in decisions.
	Name string `json:"name"`
	// TokenSHA256 is the hex sha256 of the reviewer's token.
	TokenSHA256 string `json:"token_sha256"`
	// CreatedAt is when the reviewer was added.
	CreatedAt time.Time `json:"created_at"`
}

// reviewersFile is the file's layout.
type reviewersFile struct {
	Reviewers []reviewerEntry `json:"reviewers"`
}

// nameRE is what a reviewer name may look like: it ends up in decision logs
// and Parquet files, so no spaces or markup.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// OpenReviewers opens the store at path; a missing file is an empty store
// (created on the first Add).
func OpenReviewers(path string) (*Reviewers, error) {
	r := &Reviewers{path: path, now: time.Now}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open reviewers %s: %w", path, err)
	}
	var f reviewersFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("open reviewers %s: %w", path, err)
	}
	r.list = f.Reviewers
	return r, nil
}

// Add adds a reviewer and returns his token (64 hex digits), which is shown
// once and not stored. It refuses a bad or duplicate name.
func (r *Reviewers) Add(name string) (token string, err error) {
	if !nameRE.MatchString(name) {
		return "", fmt.Errorf("add reviewer %q: want a name matching %s", name, nameRE)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if slices.ContainsFunc(r.list, func(e reviewerEntry) bool { return e.Name == name }) {
		return "", fmt.Errorf("add reviewer %q: already exists", name)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("add reviewer %q: %w", name, err)
	}
	token = hex.EncodeToString(raw[:])
	list := append(slices.Clone(r.list), reviewerEntry{Name: name, TokenSHA256: hashToken(token), CreatedAt: r.now().UTC()})
	if err := r.save(list); err != nil {
		return "", fmt.Errorf("add reviewer %q: %w", name, err)
	}
	r.list = list
	return token, nil
}

// Names lists the reviewers' names in the order they were added.
func (r *Reviewers) Names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.list))
	for i, e := range r.list {
		out[i] = e.Name
	}
	return out
}

// Check returns the name of the reviewer whose token this is. It compares
// the token's hash with every entry in constant time.
func (r *Reviewers) Check(token string) (name string, ok bool) {
	if token == "" {
		return "", false
	}
	sum := []byte(hashToken(token))
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.list {
		if subtle.ConstantTimeCompare(sum, []byte(e.TokenSHA256)) == 1 && !ok {
			name, ok = e.Name, true
		}
	}
	return name, ok
}

// save writes list atomically: a temporary file in the same directory,
// renamed over the store.
func (r *Reviewers) save(list []reviewerEntry) error {
	data, err := json.MarshalIndent(reviewersFile{Reviewers: list}, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(r.path), ".reviewers-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), r.path)
}

// hashToken is the hex sha256 of a token.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

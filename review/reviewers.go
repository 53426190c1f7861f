package review

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

	"github.com/cyclecore/mlmforge/internal/atomicfile"
)

// Reviewers is a file-backed store of the people allowed to review. The file
// (JSON, mode 0600) holds each reviewer's name, the hex sha256 of his token,
// the public key his token derives (KeyFromToken), and when he was added:
// never the token, so a leaked file lets nobody in. Tokens are 32 random
// bytes, so an unsalted hash is enough.
//
// Every read looks at the file again when it changed (size, mtime), so a
// reviewer added, removed or rotated by another process (mlmforge review
// add-reviewer while mlmforge dev runs) counts at once, without a restart.
type Reviewers struct {
	mu    sync.Mutex
	path  string
	now   func() time.Time
	list  []reviewerEntry
	stamp fileStamp
}

// fileStamp is what tells a changed store file from the one last read: every
// save renames a new file into place, so the file identity changes even when
// a rotation keeps the size and the clock is coarse.
type fileStamp struct {
	info os.FileInfo
}

// same reports whether fi is the file last read, unchanged.
func (s fileStamp) same(fi os.FileInfo) bool {
	return s.info != nil && os.SameFile(s.info, fi) && s.info.Size() == fi.Size() && s.info.ModTime().Equal(fi.ModTime())
}

// reviewerEntry is one reviewer in the file.
type reviewerEntry struct {
	// Name is the reviewer's name, as recorded in decisions.
	Name string `json:"name"`
	// TokenSHA256 is the hex sha256 of the reviewer's token.
	TokenSHA256 string `json:"token_sha256"`
	// PublicKey is the hex Ed25519 public key of KeyFromToken(token): what
	// review gates check signed requests with. Empty for reviewers added
	// before requests were signed: rotate their token.
	PublicKey string `json:"public_key,omitempty"`
	// CreatedAt is when the reviewer was added; RotatedAt when his token last changed.
	CreatedAt time.Time  `json:"created_at"`
	RotatedAt *time.Time `json:"rotated_at,omitempty"`
}

// reviewersFile is the file's layout.
type reviewersFile struct {
	Reviewers []reviewerEntry `json:"reviewers"`
}

// ReviewerKey is a reviewer's name and public key, what a review gate needs
// to check his signed requests.
type ReviewerKey struct {
	Name      string `json:"name"`
	PublicKey string `json:"public_key"`
}

// NameRE is what a reviewer name may look like: it ends up in decision logs
// and Parquet files, so no spaces or markup.
var NameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// OpenReviewers opens the store at path; a missing file (or directory) is an
// empty store, created on the first Add.
func OpenReviewers(path string) (*Reviewers, error) {
	r := &Reviewers{path: path, now: time.Now}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// Path returns the store's file.
func (r *Reviewers) Path() string { return r.path }

// reload reads the file again if it changed since the last read; the caller
// holds r.mu.
func (r *Reviewers) reload() error {
	fi, err := os.Stat(r.path)
	if errors.Is(err, os.ErrNotExist) {
		r.list, r.stamp = nil, fileStamp{}
		return nil
	}
	if err != nil {
		return fmt.Errorf("open reviewers %s: %w", r.path, err)
	}
	if r.stamp.same(fi) {
		return nil
	}
	data, err := os.ReadFile(r.path)
	if err != nil {
		return fmt.Errorf("open reviewers %s: %w", r.path, err)
	}
	var f reviewersFile
	if err := json.Unmarshal(data, &f); err != nil {
		return fmt.Errorf("open reviewers %s: %w", r.path, err)
	}
	r.list, r.stamp = f.Reviewers, fileStamp{info: fi}
	return nil
}

// newToken draws a token and its entry for name.
func (r *Reviewers) newToken(name string) (string, reviewerEntry, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", reviewerEntry{}, err
	}
	token := hex.EncodeToString(raw[:])
	e := reviewerEntry{Name: name, TokenSHA256: hashToken(token), PublicKey: PublicKeyHex(KeyFromToken(token)),
		CreatedAt: r.now().UTC()}
	return token, e, nil
}

// Add adds a reviewer and returns his token (64 hex digits), which is shown
// once and not stored. It refuses a bad or duplicate name. The store's
// directory is created if missing.
func (r *Reviewers) Add(name string) (token string, err error) {
	if !NameRE.MatchString(name) {
		return "", fmt.Errorf("add reviewer %q: want a name matching %s", name, NameRE)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.reload(); err != nil {
		return "", err
	}
	if slices.ContainsFunc(r.list, func(e reviewerEntry) bool { return e.Name == name }) {
		return "", fmt.Errorf("add reviewer %q: already exists (rotate-token gives a new token)", name)
	}
	token, e, err := r.newToken(name)
	if err != nil {
		return "", fmt.Errorf("add reviewer %q: %w", name, err)
	}
	if err := r.save(append(slices.Clone(r.list), e)); err != nil {
		return "", fmt.Errorf("add reviewer %q: %w", name, err)
	}
	return token, nil
}

// Remove revokes a reviewer: his token stops working for logins at once and
// for running review gates when they next load the store.
func (r *Reviewers) Remove(name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.reload(); err != nil {
		return err
	}
	i := slices.IndexFunc(r.list, func(e reviewerEntry) bool { return e.Name == name })
	if i < 0 {
		return fmt.Errorf("remove reviewer %q: no such reviewer", name)
	}
	if err := r.save(slices.Delete(slices.Clone(r.list), i, i+1)); err != nil {
		return fmt.Errorf("remove reviewer %q: %w", name, err)
	}
	return nil
}

// Rotate gives a reviewer a new token (returned, shown once); the old one
// stops working.
func (r *Reviewers) Rotate(name string) (token string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.reload(); err != nil {
		return "", err
	}
	i := slices.IndexFunc(r.list, func(e reviewerEntry) bool { return e.Name == name })
	if i < 0 {
		return "", fmt.Errorf("rotate token of %q: no such reviewer", name)
	}
	token, e, err := r.newToken(name)
	if err != nil {
		return "", fmt.Errorf("rotate token of %q: %w", name, err)
	}
	now := e.CreatedAt
	e.CreatedAt, e.RotatedAt = r.list[i].CreatedAt, &now
	list := slices.Clone(r.list)
	list[i] = e
	if err := r.save(list); err != nil {
		return "", fmt.Errorf("rotate token of %q: %w", name, err)
	}
	return token, nil
}

// Names lists the reviewers' names in the order they were added.
func (r *Reviewers) Names() ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.reload(); err != nil {
		return nil, err
	}
	out := make([]string, len(r.list))
	for i, e := range r.list {
		out[i] = e.Name
	}
	return out, nil
}

// Keys lists the reviewers that can sign requests, in the order they were added.
func (r *Reviewers) Keys() ([]ReviewerKey, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.reload(); err != nil {
		return nil, err
	}
	var out []ReviewerKey
	for _, e := range r.list {
		if e.PublicKey != "" {
			out = append(out, ReviewerKey{Name: e.Name, PublicKey: e.PublicKey})
		}
	}
	return out, nil
}

// Check returns the name of the reviewer whose token this is, reading the
// file again if it changed. It compares the token's hash with every entry in
// constant time. A store that cannot be read checks no token.
func (r *Reviewers) Check(token string) (name string, ok bool) {
	if token == "" {
		return "", false
	}
	sum := []byte(hashToken(token))
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.reload(); err != nil {
		return "", false
	}
	for _, e := range r.list {
		if subtle.ConstantTimeCompare(sum, []byte(e.TokenSHA256)) == 1 && !ok {
			name, ok = e.Name, true
		}
	}
	return name, ok
}

// save writes list atomically (atomicfile.WriteFile) and makes it the current list;
// the caller holds r.mu.
func (r *Reviewers) save(list []reviewerEntry) error {
	data, err := json.MarshalIndent(reviewersFile{Reviewers: list}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(r.path), 0o700); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(r.path, append(data, '\n'), 0o600); err != nil {
		return err
	}
	r.list, r.stamp = list, fileStamp{}
	return r.reload()
}

// hashToken is the hex sha256 of a token.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// StorePath is the reviewers store of an mlmforge home.
func StorePath(home string) string { return filepath.Join(home, "review", "reviewers.json") }

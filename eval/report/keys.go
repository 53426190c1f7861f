package report

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// maxKeyLen bounds a job key, so that predictions/<key>.parquet stays a legal
// file name (255 bytes) with room to spare.
const maxKeyLen = 150

// identity is everything that tells two jobs apart.
func (j *Job) identity() string {
	d := j.Dataset
	return strings.Join([]string{j.Model.Ref, d.Task, d.Name, d.Version, d.Split,
		fmt.Sprint(j.Variant.Shots), fmt.Sprint(j.Variant.Constrained)}, "\x00")
}

// baseKey is the readable key: model__task__dataset__variant.
func (j *Job) baseKey() string {
	d := j.Dataset
	ds := d.Name
	if d.Version != "" {
		ds += "@" + d.Version
	}
	if d.Split != "" {
		ds += "-" + d.Split
	}
	v := fmt.Sprintf("%dshot", j.Variant.Shots)
	if j.Variant.Constrained {
		v += "-constrained"
	}
	parts := []string{sanitize(j.Model.Ref), d.Task}
	if s := sanitize(ds); s != "" {
		parts = append(parts, s)
	}
	return strings.Join(append(parts, v), "__")
}

// sanitize keeps [A-Za-z0-9._@-], turns every other run of characters into one
// '-', and trims '-' and '.' from the ends (no hidden files, no "..").
func sanitize(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '@' || r == '-'
		switch {
		case ok:
			b.WriteRune(r)
			dash = false
		case !dash:
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.Trim(b.String(), "-.")
}

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:4])
}

// assignKeys gives every job its key. Keys derive from the job alone, except
// that jobs whose readable keys collide (models "a/b" and "a:b") all get a
// hash of their identity appended. Two jobs with one identity are an error.
func assignKeys(jobs []Job) error {
	byKey := map[string][]int{}
	seen := map[string]int{}
	for i := range jobs {
		id := jobs[i].identity()
		if k, dup := seen[id]; dup {
			return fmt.Errorf("results %d and %d: same model %s, dataset %s and variant %s", k, i,
				jobs[i].Model.Ref, jobs[i].Dataset.Label(), jobs[i].VariantLabel)
		}
		seen[id] = i
		key := jobs[i].baseKey()
		if len(key) > maxKeyLen {
			key = key[:maxKeyLen-9] + "-" + shortHash(id)
		}
		jobs[i].Key = key
		byKey[key] = append(byKey[key], i)
	}
	for k, idx := range byKey {
		if len(idx) > 1 {
			for _, i := range idx {
				jobs[i].Key = k + "-" + shortHash(jobs[i].identity())
			}
		}
	}
	return nil
}

package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/schemas"
)

// CLINC150Variant is the Variant of CLINC150 records.
const CLINC150Variant = "clinc150"

// CLINC150OOS is CLINC150's out-of-scope class.
const CLINC150OOS = "oos"

// clinc150Splits are data_full.json's keys in import order. In-scope rows keep
// their split name; out-of-scope rows go to oos_train, oos_val and oos_test, so
// that in-scope accuracy (what Larson et al. report) is the accuracy on "test"
// alone, and out-of-scope recall the accuracy on "oos_test".
var clinc150Splits = []struct {
	key string
	oos bool
}{
	{"train", false}, {"val", false}, {"test", false},
	{"oos_train", true}, {"oos_val", true}, {"oos_test", true},
}

// CLINC150Options are the CLINC150 import options.
type CLINC150Options struct {
	// IncludeOOS also imports the out-of-scope rows (class "oos") into the
	// oos_train, oos_val and oos_test splits.
	IncludeOOS bool `json:"include_oos"`
}

// clinc150Meta is the meta column of a CLINC150 record.
type clinc150Meta struct {
	// Domain is the intent's domain from domains.json ("banking"), when present.
	Domain string `json:"domain,omitempty"`
	// OutOfScope marks rows of the oos_* splits.
	OutOfScope bool `json:"out_of_scope,omitempty"`
}

// ImportCLINC150 reads CLINC150's data_full.json (path is the file or the
// directory holding it, with domains.json when present) into EdgeIntent records:
// Target {"intent": ...}, Cell and Intent the intent, Variant "clinc150", ids
// "clinc150-<split>-<index>" with the index in the source list.
func ImportCLINC150(path string, opts CLINC150Options) (*Dataset, error) {
	b, err := newBuilder(schemas.EdgeIntent, "clinc150", opts)
	if err != nil {
		return nil, err
	}
	dataPath, dir := path, filepath.Dir(path)
	if st, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("import clinc150: %w", err)
	} else if st.IsDir() {
		dataPath, dir = filepath.Join(path, "data_full.json"), path
	}
	data, file, err := b.readFile(dataPath, filepath.Base(dataPath))
	if err != nil {
		return nil, err
	}
	domains, err := b.clinc150Domains(filepath.Join(dir, "domains.json"))
	if err != nil {
		return nil, err
	}
	var splits map[string]json.RawMessage
	if err := json.Unmarshal(data, &splits); err != nil {
		return nil, fmt.Errorf("import clinc150: %s: %w", dataPath, err)
	}
	for _, s := range clinc150Splits {
		if s.oos && !opts.IncludeOOS {
			continue
		}
		raw, ok := splits[s.key]
		if !ok {
			return nil, fmt.Errorf("import clinc150: %s: no %q list", dataPath, s.key)
		}
		if err := b.clinc150Split(raw, file, s.key, s.oos, domains); err != nil {
			return nil, fmt.Errorf("import clinc150: %s: %w", dataPath, err)
		}
	}
	return b.finish()
}

// clinc150Split adds the [text, intent] pairs of one list.
func (b *builder) clinc150Split(raw json.RawMessage, file int, key string, oos bool, domains map[string]string) error {
	var pairs []json.RawMessage
	if err := json.Unmarshal(raw, &pairs); err != nil {
		return fmt.Errorf("$.%s: %w", key, err)
	}
	for i, p := range pairs {
		loc := fmt.Sprintf("%s[%d]", key, i)
		var pair []string
		if err := json.Unmarshal(p, &pair); err != nil || len(pair) != 2 {
			return fmt.Errorf("$.%s: want [text, intent], got %.80s", loc, bytes.TrimSpace(p))
		}
		text, intent := pair[0], pair[1]
		switch {
		case text == "" || intent == "":
			return fmt.Errorf("$.%s: empty text or intent", loc)
		case oos != (intent == CLINC150OOS):
			return fmt.Errorf("$.%s: intent %q in list %q", loc, intent, key)
		}
		target, err := mustJSON(generator.IntentTarget{Intent: intent})
		if err != nil {
			return fmt.Errorf("$.%s: %w", loc, err)
		}
		meta, err := mustJSON(clinc150Meta{Domain: domains[intent], OutOfScope: oos})
		if err != nil {
			return fmt.Errorf("$.%s: %w", loc, err)
		}
		r := datasets.Record{ID: fmt.Sprintf("clinc150-%s-%05d", key, i), Split: key, Input: text, Target: target,
			Cell: intent, Variant: CLINC150Variant, Intent: intent, Validation: validation("json", "label"), Meta: meta}
		if err := b.add(r, file, 0, loc); err != nil {
			return err
		}
	}
	return nil
}

// clinc150Domains reads domains.json ({domain: [intent, ...]}) into intent ->
// domain; a missing file gives no domains (it is optional upstream metadata).
func (b *builder) clinc150Domains(path string) (map[string]string, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	data, _, err := b.readFile(path, filepath.Base(path))
	if err != nil {
		return nil, err
	}
	var byDomain map[string][]string
	if err := json.Unmarshal(data, &byDomain); err != nil {
		return nil, fmt.Errorf("import clinc150: %s: want {domain: [intent, ...]}: %w", path, err)
	}
	out := map[string]string{}
	for d, intents := range byDomain {
		for _, in := range intents {
			if prev, ok := out[in]; ok && prev != d {
				return nil, fmt.Errorf("import clinc150: %s: intent %q in domains %q and %q", path, in, prev, d)
			}
			out[in] = d
		}
	}
	return out, nil
}

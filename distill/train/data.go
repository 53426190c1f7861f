package train

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"slices"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/schemas"
)

// Tokenizer is what training needs from a tokenizer (distill/tokenizer implements it).
type Tokenizer interface {
	// Encode turns text into ids, without special tokens.
	Encode(text string) []int
	// FormatChat renders a ChatML conversation (system message, user message, the
	// assistant's reply) and returns its ids and how many of them belong to the prompt,
	// i.e. everything up to and including the assistant header: ids[promptLen:] is the
	// reply. The ids do not end with EOSID; training appends it.
	FormatChat(system, user, reply string) (ids []int, promptLen int)
	// PadID is the id of the padding token.
	PadID() int
	// EOSID is the id that ends a reply.
	EOSID() int
	// VocabSize is the number of ids, special tokens included.
	VocabSize() int
	// Save writes the tokenizer as tokenizer.json to path.
	Save(path string) error
}

// Example is one tokenized record.
type Example struct {
	// ID is the record id, for error messages.
	ID string
	// Tokens are the ids: decoder prompt + reply + EOS, or the encoder's input.
	Tokens []int32
	// Prompt is the number of decoder prompt tokens, which carry no loss.
	Prompt int
	// Label is the encoder's class index into Data.Labels.
	Label int32
	// Soft is the encoder's optional teacher distribution over Data.Labels.
	Soft []float32
	// CopyOffsets and CopySources are the decoder's copy supervision (alignCopies):
	// the prompt positions the token at position Prompt+k is copied from are
	// CopySources[CopyOffsets[k]:CopyOffsets[k+1]].
	CopyOffsets, CopySources []int32
}

// Data is a tokenized split, ready for batching.
type Data struct {
	// Arch is model.ArchDecoder or model.ArchEncoder.
	Arch string
	// Examples are the usable examples, in record order.
	Examples []Example
	// Labels are the encoder's classes (index = class id); nil for decoders.
	Labels []string
	// PadID is the tokenizer's padding id.
	PadID int32
	// Truncated counts examples longer than SeqLen that were cut.
	Truncated int
	// Dropped counts examples with nothing to learn left after truncation (the decoder
	// prompt fills SeqLen, or the encoder input is empty).
	Dropped int
}

// DataSpec says how to turn records into examples.
type DataSpec struct {
	// Arch is model.ArchDecoder or model.ArchEncoder.
	Arch string
	// SeqLen is the training sequence length T (Config.SeqLen).
	SeqLen int
	// Tokenizer encodes the texts.
	Tokenizer Tokenizer
	// Catalog provides the EdgeJSON schemas and EdgeFuncCall functions of decoder prompts.
	Catalog *schemas.Catalog
	// PromptStyle is how decoder prompts are written (PromptWith).
	PromptStyle PromptStyle
	// Labels is the encoder's class list, from Labels(train records), so that train and
	// evaluation splits share class ids.
	Labels []string
}

// Labels derives the encoder's class list from the training records: the distinct
// labels (Record.Intent, else the target's "intent"), sorted, so the same split always
// gives the same class ids. The list is stored in every checkpoint.
func Labels(recs []datasets.Record) ([]string, error) {
	seen := map[string]bool{}
	for i := range recs {
		l, err := recordLabel(&recs[i])
		if err != nil {
			return nil, err
		}
		seen[l] = true
	}
	out := make([]string, 0, len(seen))
	for l := range seen {
		out = append(out, l)
	}
	slices.Sort(out)
	if len(out) < 2 {
		return nil, fmt.Errorf("labels: %d distinct classes in %d records, an encoder needs at least 2", len(out), len(recs))
	}
	return out, nil
}

// recordLabel is the class name of an EdgeIntent record.
func recordLabel(r *datasets.Record) (string, error) {
	if r.Intent != "" {
		return r.Intent, nil
	}
	var t struct {
		Intent string `json:"intent"`
	}
	if err := json.Unmarshal([]byte(r.Target), &t); err != nil || t.Intent == "" {
		return "", fmt.Errorf("record %s: fields intent and target: no intent label", r.ID)
	}
	return t.Intent, nil
}

// BuildData tokenizes records for training or evaluation.
func BuildData(spec DataSpec, recs []datasets.Record) (*Data, error) {
	if spec.Tokenizer == nil {
		return nil, fmt.Errorf("build data: no tokenizer")
	}
	if spec.SeqLen <= 0 {
		return nil, fmt.Errorf("build data: seq_len %d must be positive", spec.SeqLen)
	}
	d := &Data{Arch: spec.Arch, PadID: int32(spec.Tokenizer.PadID())}
	index := map[string]int{}
	switch spec.Arch {
	case model.ArchDecoder:
		if spec.Catalog == nil {
			return nil, fmt.Errorf("build data: decoder prompts need the catalog")
		}
	case model.ArchEncoder:
		if len(spec.Labels) < 2 {
			return nil, fmt.Errorf("build data: an encoder needs a label list of at least 2 classes, got %d", len(spec.Labels))
		}
		d.Labels = slices.Clone(spec.Labels)
		for i, l := range spec.Labels {
			index[l] = i
		}
	default:
		return nil, fmt.Errorf("build data: arch %q: want %q or %q", spec.Arch, model.ArchDecoder, model.ArchEncoder)
	}
	for i := range recs {
		r := &recs[i]
		var (
			ex  Example
			err error
		)
		if spec.Arch == model.ArchDecoder {
			ex, err = decoderExample(spec, r)
		} else {
			ex, err = encoderExample(spec, index, r)
		}
		if err != nil {
			return nil, err
		}
		switch {
		case spec.Arch == model.ArchDecoder && ex.Prompt >= spec.SeqLen+1,
			spec.Arch == model.ArchEncoder && len(ex.Tokens) == 0:
			d.Dropped++
			continue
		case spec.Arch == model.ArchDecoder && len(ex.Tokens) > spec.SeqLen+1,
			spec.Arch == model.ArchEncoder && len(ex.Tokens) > spec.SeqLen:
			d.Truncated++
		}
		d.Examples = append(d.Examples, ex)
	}
	if len(d.Examples) == 0 {
		return nil, fmt.Errorf("build data: none of %d records is usable (%d dropped: prompt longer than seq_len %d or empty input)",
			len(recs), d.Dropped, spec.SeqLen)
	}
	return d, nil
}

// decoderExample renders the ChatML conversation of r and appends EOS.
func decoderExample(spec DataSpec, r *datasets.Record) (Example, error) {
	system, user, err := PromptWith(spec.Catalog, r, spec.PromptStyle)
	if err != nil {
		return Example{}, err
	}
	rep, err := Reply(spec.Catalog, r)
	if err != nil {
		return Example{}, err
	}
	ids, prompt := spec.Tokenizer.FormatChat(system, user, rep)
	if prompt < 0 || prompt > len(ids) {
		return Example{}, fmt.Errorf("record %s: tokenizer returned prompt length %d for %d ids", r.ID, prompt, len(ids))
	}
	ex := Example{ID: r.ID, Prompt: prompt, Tokens: make([]int32, 0, len(ids)+1)}
	for _, id := range ids {
		ex.Tokens = append(ex.Tokens, int32(id))
	}
	ex.Tokens = append(ex.Tokens, int32(spec.Tokenizer.EOSID()))
	ex.CopyOffsets, ex.CopySources = alignCopies(ex.Tokens, prompt)
	return ex, nil
}

// encoderExample encodes r's input and resolves its label and soft labels.
func encoderExample(spec DataSpec, index map[string]int, r *datasets.Record) (Example, error) {
	l, err := recordLabel(r)
	if err != nil {
		return Example{}, err
	}
	c, ok := index[l]
	if !ok {
		return Example{}, fmt.Errorf("record %s: label %q is not one of the %d training classes", r.ID, l, len(index))
	}
	ex := Example{ID: r.ID, Label: int32(c)}
	for _, id := range spec.Tokenizer.Encode(r.Input) {
		ex.Tokens = append(ex.Tokens, int32(id))
	}
	if r.SoftLabels != "" {
		if ex.Soft, err = softLabels(r, index); err != nil {
			return Example{}, err
		}
	}
	return ex, nil
}

// softLabels parses Record.SoftLabels, {"class": probability, ...}, into a distribution
// over the class index, normalised to sum to 1.
func softLabels(r *datasets.Record, index map[string]int) ([]float32, error) {
	var probs map[string]float64
	if err := json.Unmarshal([]byte(r.SoftLabels), &probs); err != nil {
		return nil, fmt.Errorf("record %s: field soft_labels: want {\"class\": probability}: %w", r.ID, err)
	}
	out := make([]float32, len(index))
	var sum float64
	for class, p := range probs {
		c, ok := index[class]
		if !ok {
			return nil, fmt.Errorf("record %s: field soft_labels: class %q is not a training class", r.ID, class)
		}
		if p < 0 || math.IsNaN(p) || math.IsInf(p, 0) {
			return nil, fmt.Errorf("record %s: field soft_labels: class %q has probability %g", r.ID, class, p)
		}
		out[c] = float32(p)
		sum += p
	}
	if !(sum > 0) {
		return nil, fmt.Errorf("record %s: field soft_labels: probabilities sum to %g", r.ID, sum)
	}
	for i := range out {
		out[i] = float32(float64(out[i]) / sum)
	}
	return out, nil
}

// SplitHoldout moves about frac of recs into a held-out slice for evaluation losses. A
// record's side depends only on a hash of its id, so the split is the same whatever
// the order of the records and stays stable as a dataset grows.
func SplitHoldout(recs []datasets.Record, frac float64) (train, held []datasets.Record) {
	for _, r := range recs {
		h := fnv.New64a()
		h.Write([]byte(r.ID))
		x := h.Sum64() // FNV's high bits barely change with the last byte: mix (murmur3 fmix64)
		x ^= x >> 33
		x *= 0xff51afd7ed558ccd
		x ^= x >> 33
		x *= 0xc4ceb9fe1a85ec53
		x ^= x >> 33
		if float64(x>>11)/(1<<53) < frac {
			held = append(held, r)
		} else {
			train = append(train, r)
		}
	}
	return train, held
}

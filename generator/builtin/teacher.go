package builtin

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/generator/lexicon"
	"github.com/cyclecore/mlmforge/schemas"
)

// BuiltinVersion versions the builtin teacher's phrasing: the phrase data under
// generator/builtin/ and the rules that use it. Bump it whenever the text the
// builtin writes for a given request changes, so that provenance tells datasets
// written by different phrasings apart.
const Version = "builtin-v1"

// ErrModeUnsupported is returned (wrapped) by a teacher asked for a Mode it
// cannot serve, e.g. the builtin teacher asked to invent labels.
var ErrModeUnsupported = errors.New("mode not supported by this teacher")

// builtinFS holds the builtin teacher's phrase lists: data, not code, so that
// a phrasing change is a reviewable diff of word lists.
//
//go:embed *.json
var builtinFS embed.FS

// BuiltinTeacher is the offline teacher: it verbalizes label-first samples
// with catalog patterns, phrase tables and seeded paraphrase rules, with no
// model. It is the embedded default (tests, quickstart). The same Request
// always gives the same Response text: every choice is drawn from a
// math/rand/v2 generator seeded with Request.Seed alone.
//
// A BuiltinTeacher is safe for concurrent use: it only reads its tables after
// NewBuiltinTeacher returns.
type Teacher struct {
	cat *schemas.Catalog
	// intents maps taxonomy id, then class id, to the class's parsed patterns.
	intents map[string]map[string]*btClass
	// funcs maps a function name to its parsed parameters and patterns.
	funcs map[string]*btFunc
	// docs maps an EdgeJSON schema id to its parsed schema.
	docs map[string]*btNode
	// prepErr holds the catalog entries that could not be parsed ("function
	// x", "schema y"), so that Write reports the cause for requests that need
	// them instead of a bare "unknown".
	prepErr map[string]error
}

var _ generator.Teacher = (*Teacher)(nil)

// NewBuiltinTeacher returns a builtin teacher for the catalog. It parses every
// pattern and schema once, so that Write does no parsing. With a nil catalog
// every LabelFirst write fails.
func New(cat *schemas.Catalog) *Teacher {
	b := &Teacher{
		cat:     cat,
		intents: map[string]map[string]*btClass{},
		funcs:   map[string]*btFunc{},
		docs:    map[string]*btNode{},
		prepErr: map[string]error{},
	}
	if cat == nil {
		return b
	}
	for _, t := range cat.Taxonomies {
		classes := map[string]*btClass{}
		for i := range t.Classes {
			classes[t.Classes[i].ID] = newBTClass(t.ID, &t.Classes[i])
		}
		b.intents[t.ID] = classes
	}
	for _, f := range cat.Functions {
		bf, err := newBTFunc(f)
		if err != nil {
			b.prepErr["function "+f.Name] = err
			continue
		}
		b.funcs[f.Name] = bf
	}
	for _, s := range cat.Schemas {
		n, err := btParseSchema(s.Schema, "", "")
		if err != nil {
			b.prepErr["schema "+s.ID] = fmt.Errorf("parse schema %s: %w", s.ID, err)
			continue
		}
		b.docs[s.ID] = n
	}
	return b
}

// Info identifies the builtin teacher and its phrasing version.
func (b *Teacher) Info(ctx context.Context) (generator.TeacherInfo, error) {
	return generator.TeacherInfo{Name: "builtin", Version: Version}, nil
}

// Write answers one request.
//
//   - LabelFirst: Response.Input verbalizes req.Sample (plain text; a JSON array
//     of utterances for a multi-turn EdgeFuncCall sample).
//   - Extract: the builtin is exact, so the re-extracted target is the sample's
//     own target, returned unchanged; req.Text is not read. The round-trip
//     check therefore always passes with the builtin and only means something
//     with a model teacher.
//   - TeacherLabels: unsupported (the builtin writes from labels only): the
//     error wraps ErrModeUnsupported.
//
// A LabelFirst request for a cell of a held-out run (Cell.Holdout) writes
// with the side's part of every phrasing template list: the reserved
// templates for the test split's cells (Cell.HeldOut), the others otherwise.
func (b *Teacher) Write(ctx context.Context, req generator.Request) (generator.Response, error) {
	return b.write(ctx, req, nil)
}

// write answers one request; trace, if set, sees every template drawn.
func (b *Teacher) write(ctx context.Context, req generator.Request, trace func(lexicon.Draw)) (generator.Response, error) {
	start := time.Now()
	if err := ctx.Err(); err != nil {
		return generator.Response{}, fmt.Errorf("builtin teacher: %w", err)
	}
	switch req.Mode {
	case generator.LabelFirst:
	case generator.Extract:
		if len(req.Sample.Target) == 0 {
			return generator.Response{}, fmt.Errorf("builtin teacher: extract for cell %q: the sample has no target", req.Sample.Cell.Key)
		}
		target := append(json.RawMessage(nil), req.Sample.Target...)
		return generator.Response{Target: target, Raw: string(target), Duration: time.Since(start)}, nil
	case generator.TeacherLabels:
		return generator.Response{}, fmt.Errorf("builtin teacher: mode %q: it writes inputs for sampled labels only, use mode %q or a model teacher: %w",
			req.Mode, generator.LabelFirst, ErrModeUnsupported)
	default:
		return generator.Response{}, fmt.Errorf("builtin teacher: mode %q: %w", req.Mode, ErrModeUnsupported)
	}
	data, err := btLoadData()
	if err != nil {
		return generator.Response{}, err
	}
	r := btRand(req.Seed)
	w := &btWriter{btData: data, h: req.Sample.Cell.HoldoutSource(trace)}
	var input string
	switch req.Sample.Cell.Task {
	case schemas.EdgeIntent:
		input, err = b.writeIntent(r, w, req.Sample)
	case schemas.EdgeJSON:
		input, err = b.writeDocument(r, w, req.Sample)
	case schemas.EdgeFuncCall:
		input, err = b.writeFuncCall(r, w, req.Sample)
	default:
		err = fmt.Errorf("unknown task %q", req.Sample.Cell.Task)
	}
	if err != nil {
		return generator.Response{}, fmt.Errorf("builtin teacher: cell %q: %w", req.Sample.Cell.Key, err)
	}
	return generator.Response{Input: input, Raw: input, Duration: time.Since(start)}, nil
}

// btSeedSalt tells the two PCG seed words apart; it is fixed, so that
// Request.Seed alone decides.
const btSeedSalt = 0x6d6c6d666f726765 // "mlmforge"

// btRand returns the generator for a request seed. The seed is mixed first:
// PCG streams of neighbouring seeds start out alike, and attempt seeds are
// often neighbours.
func btRand(seed int64) *rand.Rand {
	return rand.New(rand.NewPCG(btMix(uint64(seed)), btMix(uint64(seed)^btSeedSalt)))
}

// btMix is the SplitMix64 finalizer.
func btMix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// btData is the phrase data under generator/builtin/, parsed once.
type btData struct {
	phrases btPhraseData
	slots   btSlotData
	docs    btDocData
	// synIndex maps the first word of each synonym key to its entries, longest first.
	synIndex map[string][]btSynonym
	// imperative and question are the first words that mark an utterance's kind.
	imperative, question map[string]bool
}

var (
	btDataOnce sync.Once
	btDataVal  *btData
	btDataErr  error
)

// btLoadData parses the embedded phrase data once per process.
func btLoadData() (*btData, error) {
	btDataOnce.Do(func() {
		d := &btData{}
		for _, f := range []struct {
			name string
			into any
		}{{"phrases.json", &d.phrases}, {"slots.json", &d.slots}, {"documents.json", &d.docs}} {
			raw, err := builtinFS.ReadFile(f.name)
			if err != nil {
				btDataErr = fmt.Errorf("builtin teacher: read %s: %w", f.name, err)
				return
			}
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(f.into); err != nil {
				btDataErr = fmt.Errorf("builtin teacher: parse %s: %w", f.name, err)
				return
			}
		}
		d.index()
		btDataVal = d
	})
	return btDataVal, btDataErr
}

// btPick returns a uniformly chosen element of xs (the zero value when empty).
func btPick[T any](r *rand.Rand, xs []T) T {
	var zero T
	if len(xs) == 0 {
		return zero
	}
	return xs[r.IntN(len(xs))]
}

// btChance reports true with probability p.
func btChance(r *rand.Rand, p float64) bool { return r.Float64() < p }

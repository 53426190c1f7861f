package builtin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/cyclecore/mlmforge/internal/testutil"

	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/schemas"
)

// btGoldenDigests are the sha256 digests of what the sampler and the builtin
// teacher produce for the specs of btGoldenSpecs (btGoldenDigest), taken
// before held-out splits existed: with HoldoutTemplates at 0 the output must
// stay byte for byte what it was. A deliberate change of the builtin's output
// bumps BuiltinVersion (or lexicon.Version) and updates these digests;
// funccall-all moved with gen-v2's distinct string arguments.
var btGoldenDigests = map[string]string{
	"edgejson":      "49f2afa2746b1e9c377213ca39d91ffd540533eb7bf9574525d15403f07d4bd3",
	"assistant-50":  "381238714df4b3e9a11326793e75ea228737679308d4b38cfbfbcc528f6e474a",
	"assistant-100": "82489adb33767720c6ab02bcc244d558462335abeefbea9cb7a8ad4f7c52b3b3",
	"assistant-200": "cfa0c98f2c733bb812fb1bd6e441e8e207aa2226e188786438033f347b7a989f",
	"funccall-all":  "19758691aca74892abaf9115129a17e831f5d2388db28ca2f67f484fc1692083",
}

// btGoldenSpecs are one spec per task variant.
var btGoldenSpecs = map[string]generator.Spec{
	"edgejson":      {Task: schemas.EdgeJSON, Seed: 5},
	"assistant-50":  {Task: schemas.EdgeIntent, Variant: "50", Seed: 5},
	"assistant-100": {Task: schemas.EdgeIntent, Variant: "100", Seed: 5},
	"assistant-200": {Task: schemas.EdgeIntent, Variant: "200", Seed: 5},
	"funccall-all":  {Task: schemas.EdgeFuncCall, Seed: 5},
}

// btGoldenDigest samples and writes three attempts of every cell and split of
// spec's plan the way a batch does, and hashes the samples and inputs.
func btGoldenDigest(t *testing.T, cat *schemas.Catalog, spec generator.Spec) string {
	t.Helper()
	spec.Counts = map[string]int{"train": 1, "test": 1}
	plan, err := generator.NewPlan(cat, spec)
	if err != nil {
		t.Fatal(err)
	}
	b := New(cat)
	h := sha256.New()
	for _, c := range plan.Cells {
		for _, split := range []string{"train", "test"} {
			for attempt := range 3 {
				seed := generator.AttemptSeed(plan.Spec, c.Cell.Key, split, attempt)
				rng := rand.New(rand.NewPCG(uint64(seed), uint64(attempt)))
				s, err := generator.SampleTarget(cat, c.Cell, rng)
				if err != nil {
					t.Fatalf("%s: %v", c.Cell.Key, err)
				}
				resp, err := b.Write(context.Background(), generator.Request{Mode: generator.LabelFirst, Sample: s, Seed: seed})
				if err != nil {
					t.Fatalf("%s: %v", c.Cell.Key, err)
				}
				sj, _ := json.Marshal(s)
				h.Write(sj)
				h.Write([]byte{0})
				h.Write([]byte(resp.Input))
				h.Write([]byte{0})
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestBuiltinGoldenAtZeroHoldout(t *testing.T) {
	cat := testutil.Catalog(t)
	for name, spec := range btGoldenSpecs {
		t.Run(name, func(t *testing.T) {
			got := btGoldenDigest(t, cat, spec)
			t.Logf("GOLDEN %q: %q,", name, got)
			if want := btGoldenDigests[name]; got != want {
				t.Errorf("digest %s, want %s: the builtin's output at holdout 0 changed", got, want)
			}
		})
	}
}

// btGoldenRecordDigests are the sha256 digests of the records GenerateBuiltin
// commits for btGoldenRecordSpecs (ids, splits, cells, inputs, targets and
// provenance, after the validators and the merge), taken before held-out
// splits existed: the twin cells of a held-out run must leave the merge of a
// run without one as it was. Updated with GeneratorVersion gen-v2 (two
// arguments of one call no longer share a string value; the version is in the
// provenance, so every task's digest moved).
var btGoldenRecordDigests = map[schemas.Task]string{
	schemas.EdgeJSON:     "0f231fbbd6005b2abd55297492788af4ccac11c594f90c87fa66303b39a44167",
	schemas.EdgeIntent:   "c3e1dcac95d8aec70afe488754592edcf09a64342813c28100310e0e4a3fbbc7",
	schemas.EdgeFuncCall: "c70d1eafdac6290a2a5d00a6e0a535b94da39bade9a9cca9d0e102420fadb529",
}

// btGoldenRecordSpecs are one spec per task, 300 train and 100 test records.
var btGoldenRecordSpecs = []generator.Spec{
	{Task: schemas.EdgeJSON, Seed: 3, Counts: map[string]int{"train": 300, "test": 100}},
	{Task: schemas.EdgeIntent, Variant: "50", Seed: 3, Counts: map[string]int{"train": 300, "test": 100}},
	{Task: schemas.EdgeFuncCall, Seed: 3, Counts: map[string]int{"train": 300, "test": 100}},
}

func TestGenerateBuiltinGoldenAtZeroHoldout(t *testing.T) {
	cat := testutil.Catalog(t)
	for _, spec := range btGoldenRecordSpecs {
		t.Run(string(spec.Task), func(t *testing.T) {
			recs, err := Generate(context.Background(), cat, spec)
			if err != nil {
				t.Fatal(err)
			}
			h := sha256.New()
			for _, r := range recs {
				fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s\x00%s\n", r.ID, r.Split, r.Cell, r.Input, r.Target, r.Provenance)
			}
			got := hex.EncodeToString(h.Sum(nil))
			if want := btGoldenRecordDigests[spec.Task]; got != want {
				t.Errorf("%d records, digest %s, want %s: GenerateBuiltin's records at holdout 0 changed", len(recs), got, want)
			}
		})
	}
}

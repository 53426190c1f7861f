package constrain

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// bruteMask returns, for the state after gen, which ids may come next,
// by stepping every token's bytes one by one: the trie walk must agree.
func bruteMask(m *Masker, gen []int, size int) []bool {
	st := m.schema.Start()
	for _, id := range gen {
		for _, b := range m.toks[id] {
			st.step(b, nil)
		}
	}
	out := make([]bool, size)
	if st.done {
		out[m.eos] = true
		return out
	}
	for id, tok := range m.toks {
		if tok == nil {
			continue
		}
		s := st
		ok := true
		for _, b := range tok {
			if ok = s.step(b, nil); !ok {
				break
			}
		}
		out[id] = ok
	}
	out[m.eos] = st.Complete()
	return out
}

// TestMaskMatchesBruteForce compares the trie walk (shared prefixes, bulk
// string subtrees, scratch arena) with token-by-token checking along random
// decodes, for the tiny and the trained vocabulary.
func TestMaskMatchesBruteForce(t *testing.T) {
	schemas := decodeSchemas(t)
	for _, v := range []Vocab{tinyVocab(), trained(t)} {
		for _, name := range []string{"order", "travel.multi_leg_itinerary", "funccall", "intent"} {
			m, err := NewMasker(v, schemas[name])
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(5, 6))
			hook := m.Hook()
			logits := make([]float32, v.VocabSize())
			var gen []int
			for step := 0; step < 300; step++ {
				for i := range logits {
					logits[i] = rng.Float32()
				}
				hook(gen, logits)
				want := bruteMask(m, gen, len(logits))
				best := -1
				for i, x := range logits {
					got := !math.IsInf(float64(x), -1)
					if got != want[i] {
						t.Fatalf("%s step %d: token %d %q allowed=%v, brute force says %v", name, step, i, m.toks[i], got, want[i])
					}
					if got && (best < 0 || x > logits[best]) {
						best = i
					}
				}
				if best == v.EOS() {
					break
				}
				gen = append(gen, best)
			}
		}
	}
}

// TestHookRestartAndResync: an empty generated slice starts a new generation,
// and a changed prefix is replayed from scratch.
func TestHookRestartAndResync(t *testing.T) {
	v := tinyVocab()
	m, err := NewMasker(v, decodeSchemas(t)["order"])
	if err != nil {
		t.Fatal(err)
	}
	maskOf := func(hook func([]int, []float32), gen []int) []bool {
		logits := make([]float32, v.VocabSize())
		hook(gen, logits)
		out := make([]bool, len(logits))
		for i, x := range logits {
			out[i] = !math.IsInf(float64(x), -1)
		}
		return out
	}
	ids := func(toks ...string) []int {
		var out []int
		for _, s := range toks {
			i := slices.Index(v.toks, s)
			if i < 0 {
				t.Fatalf("no token %q", s)
			}
			out = append(out, i)
		}
		return out
	}
	gen := ids(`{"`, "i", "d", `":"`, "O")
	hook := m.Hook()
	for i := range gen {
		maskOf(hook, gen[:i])
	}
	fresh := maskOf(m.Hook(), nil)
	if got := maskOf(hook, nil); !slices.Equal(got, fresh) {
		t.Error("empty generated did not restart")
	}
	other := ids(`{"`, "s", "t")
	for i := range other {
		maskOf(hook, other[:i])
	}
	if got, want := maskOf(hook, other), maskOf(m.Hook(), other); !slices.Equal(got, want) {
		t.Error("changed prefix not replayed")
	}
	if got := maskOf(hook, other); !got[slices.Index(v.toks, "a")] || got[slices.Index(v.toks, "x")] {
		t.Error(`after {"st only "status" may follow`)
	}
}

// TestHookNeverMasksEverything: after a token that breaks the schema only
// EOS is left; without an EOS the logits are left alone; logits past the
// vocabulary (a padded embedding) are masked.
func TestHookNeverMasksEverything(t *testing.T) {
	v := tinyVocab()
	m, err := NewMasker(v, decodeSchemas(t)["order"])
	if err != nil {
		t.Fatal(err)
	}
	bad := []int{slices.Index(v.toks, "x")}
	logits := make([]float32, v.VocabSize()+8)
	m.Hook()(bad, logits)
	if n := countAllowed(logits); n != 1 || math.IsInf(float64(logits[v.eos]), -1) {
		t.Errorf("broken prefix: %d allowed, want EOS only", n)
	}
	clear(logits)
	m.Hook()(nil, logits)
	for i := v.VocabSize(); i < len(logits); i++ {
		if !math.IsInf(float64(logits[i]), -1) {
			t.Errorf("padded logit %d not masked", i)
		}
	}
	noEOS := *v
	noEOS.eos = -1
	m2, err := NewMasker(&noEOS, decodeSchemas(t)["order"])
	if err != nil {
		t.Fatal(err)
	}
	clear(logits)
	m2.Hook()(bad, logits)
	if n := countAllowed(logits); n != len(logits) {
		t.Errorf("no EOS and nothing allowed: %d of %d logits left, want all", n, len(logits))
	}
}

// TestHooksConcurrent runs hooks of one Masker in parallel (run with -race).
func TestHooksConcurrent(t *testing.T) {
	v := tinyVocab()
	schema := decodeSchemas(t)["order"]
	m, err := NewMasker(v, schema)
	if err != nil {
		t.Fatal(err)
	}
	outs := make([]string, 4)
	errs := make([]error, 4)
	var wg sync.WaitGroup
	for i := range outs {
		wg.Go(func() { outs[i], errs[i] = decodeRandom(v, m, uint64(i%2), 20000) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if outs[0] != outs[2] || outs[1] != outs[3] {
		t.Error("same seed, different outputs")
	}
	for i, out := range outs {
		checkOutput(t, fmt.Sprintf("goroutine %d", i), schema, m.Schema(), out)
	}
}

package train

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/cyclecore/mlmforge/distill/model"
)

// Source is one task of a multi-task mixture (Job.Mixture): its training data and its
// share of the examples of every batch.
type Source struct {
	// Name names the task in the loader's state, errors and metrics (e.g. "edgejson").
	Name string
	// Data is the task's training data.
	Data *Data
	// Weight is the task's sampling weight; weights are normalised to sum to 1.
	Weight float64
}

// EvalSet is one named held-out set of Job.Evals: every evaluation reports its loss.
type EvalSet struct {
	// Name names the set in metrics.json, Progress and loss.png (e.g. the task).
	Name string
	// Data is the held-out data.
	Data *Data
}

// TaskCursor is one task's position in a mixture.
type TaskCursor struct {
	// Name is the Source's name.
	Name string `json:"name"`
	// Weight is the Source's normalised weight, kept so that a resume with other
	// weights is refused rather than silently changing the data order.
	Weight float64 `json:"weight"`
	// Cursor is the position in the task's own seeded epoch order.
	Cursor
}

// MixCursor is a MixLoader's position: with Config.Seed, the whole RNG state of a
// multi-task data pipeline (trainer_state.json's "mixture").
type MixCursor struct {
	// Batches is the number of batches served; batch k's task split is drawn from
	// (seed, k) alone.
	Batches int64 `json:"batches"`
	// Tasks are the tasks' positions, in Source order.
	Tasks []TaskCursor `json:"tasks"`
}

// MixLoader serves batches whose rows come from several tasks in proportion to their
// weights. Each batch is split between the tasks by systematic sampling: B evenly spaced
// points, offset by a uniform draw from (seed, batch number), fall into the tasks'
// cumulative weight intervals. So a task with weight w gets floor(wB) or ceil(wB) rows
// of every batch and exactly wB on average, with a far smaller spread over a run than
// independent draws. Within a task, examples follow that task's own seeded epoch
// permutations, as with Loader.
type MixLoader struct {
	b, t    int
	seed    uint64
	names   []string
	weights []float64 // normalised
	cum     []float64 // cumulative weights; the last is exactly 1
	loaders []*Loader
	batches int64
}

// NewMixLoader returns a loader at the start of every task. Sources need distinct
// non-empty names, positive weights and data of the same architecture, padding id and
// labels (one tokenizer and one label list serve the whole mixture).
func NewMixLoader(srcs []Source, batchSize, seqLen int, seed uint64) (*MixLoader, error) {
	if err := checkSources(srcs); err != nil {
		return nil, err
	}
	m := &MixLoader{b: batchSize, t: seqLen, seed: seed}
	var total float64
	for _, s := range srcs {
		total += s.Weight
	}
	var acc float64
	for i, s := range srcs {
		w := s.Weight / total
		acc += w
		m.names = append(m.names, s.Name)
		m.weights = append(m.weights, w)
		m.cum = append(m.cum, acc)
		m.loaders = append(m.loaders, NewLoader(s.Data, 1, seqLen, taskSeed(seed, s.Name)))
		if i == len(srcs)-1 {
			m.cum[i] = 1 // no row may fall past the last interval through rounding
		}
	}
	return m, nil
}

// checkSources reports the first unusable source of a mixture.
func checkSources(srcs []Source) error {
	if len(srcs) == 0 {
		return errors.New("mixture: no sources")
	}
	seen := map[string]bool{}
	for i, s := range srcs {
		if err := checkName("mixture source", i, s.Name, seen); err != nil {
			return err
		}
		switch {
		case !(s.Weight > 0) || math.IsInf(s.Weight, 0):
			return fmt.Errorf("mixture source %s: weight %g must be positive and finite", s.Name, s.Weight)
		case s.Data == nil || len(s.Data.Examples) == 0:
			return fmt.Errorf("mixture source %s: no training examples", s.Name)
		}
		d0 := srcs[0].Data
		if s.Data.Arch != d0.Arch || s.Data.PadID != d0.PadID || !slices.Equal(s.Data.Labels, d0.Labels) {
			return fmt.Errorf("mixture source %s: data built with another arch, padding id or label list than source %s (use one tokenizer and one label list)",
				s.Name, srcs[0].Name)
		}
	}
	return nil
}

// taskSeed derives a task's data-order seed from the run's seed and the task's name,
// so that a task's example order does not depend on which other tasks are mixed in.
func taskSeed(seed uint64, name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	x := seed ^ h.Sum64()
	x ^= x >> 33 // murmur3 fmix64
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// split returns the task index of every row of batch number k.
func (m *MixLoader) split(k int64) []int {
	rng := rand.NewPCG(m.seed, 0x6a09e667f3bcc909^uint64(k))
	u := float64(rng.Uint64()>>11) / (1 << 53)
	rows := make([]int, m.b)
	task := 0
	for i := range rows {
		p := (u + float64(i)) / float64(m.b)
		for p >= m.cum[task] {
			task++
		}
		rows[i] = task
	}
	return rows
}

// Next returns the next batch of B examples; its rows are grouped by task, in Source
// order (row order does not change a batch's mean loss).
func (m *MixLoader) Next() model.Batch {
	exs := make([]*Example, m.b)
	for i, task := range m.split(m.batches) {
		exs[i], _ = m.loaders[task].nextExample()
	}
	m.batches++
	return makeBatch(m.loaders[0].data, exs, m.t)
}

// Cursor reports the position of the next batch.
func (m *MixLoader) Cursor() MixCursor {
	c := MixCursor{Batches: m.batches, Tasks: make([]TaskCursor, len(m.loaders))}
	for i, l := range m.loaders {
		c.Tasks[i] = TaskCursor{Name: m.names[i], Weight: m.weights[i], Cursor: l.Cursor()}
	}
	return c
}

// Seek moves to a position saved from Cursor. It refuses a position of other tasks or
// other weights: the data order would not be the one the position was saved in.
func (m *MixLoader) Seek(c MixCursor) error {
	if len(c.Tasks) != len(m.loaders) {
		return fmt.Errorf("mixture position has %d tasks, the mixture %d (%v)", len(c.Tasks), len(m.loaders), m.names)
	}
	for i, tc := range c.Tasks {
		if tc.Name != m.names[i] {
			return fmt.Errorf("mixture position task %d is %q, the mixture's is %q", i, tc.Name, m.names[i])
		}
		if math.Abs(tc.Weight-m.weights[i]) > 1e-12 {
			return fmt.Errorf("mixture task %s: weight %g in the saved position, %g now", tc.Name, tc.Weight, m.weights[i])
		}
	}
	for i, tc := range c.Tasks {
		m.loaders[i].Seek(tc.Cursor)
	}
	m.batches = c.Batches
	return nil
}

// Served counts the examples served so far, by task name.
func (m *MixLoader) Served() map[string]int64 {
	out := make(map[string]int64, len(m.loaders))
	for i, l := range m.loaders {
		c := l.Cursor()
		out[m.names[i]] = int64(c.Epoch)*int64(len(l.data.Examples)) + int64(c.Pos)
	}
	return out
}

// batcher is a run's data pipeline: a Loader (Job.Train) or a MixLoader (Job.Mixture).
type batcher interface {
	// Next returns the next batch.
	Next() model.Batch
	// save records the position in st (State.Data or State.Mixture).
	save(st *State)
	// restore seeks to the position recorded in st.
	restore(st *State) error
}

func (l *Loader) save(st *State) { st.Data = l.Cursor() }

func (l *Loader) restore(st *State) error {
	if st.Mixture != nil {
		return errors.New("the checkpoint is of a multi-task run (trainer state has a mixture); this job has one training set")
	}
	l.Seek(st.Data)
	return nil
}

func (m *MixLoader) save(st *State) {
	c := m.Cursor()
	st.Mixture = &c
}

func (m *MixLoader) restore(st *State) error {
	if st.Mixture == nil {
		return errors.New("the checkpoint is of a single-dataset run (trainer state has no mixture); this job mixes tasks")
	}
	return m.Seek(*st.Mixture)
}

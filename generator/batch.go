package generator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/schemas"
)

// Item asks a batch for Need more examples of one cell and split, trying
// attempts FirstAttempt, FirstAttempt+1, ... up to (not including) MaxAttempt.
type Item struct {
	// Cell indexes Plan.Cells.
	Cell int `json:"cell"`
	// Split is the split the examples go to.
	Split string `json:"split"`
	// Need is how many examples to keep.
	Need int `json:"need"`
	// FirstAttempt is the first attempt number to try; attempts of a cell and
	// split are numbered across rounds so ids never repeat.
	FirstAttempt int `json:"first_attempt"`
	// MaxAttempt is the attempt cap (exclusive).
	MaxAttempt int `json:"max_attempt"`
}

// ItemResult reports one item of a batch.
type ItemResult struct {
	Cell  int    `json:"cell"`
	Split string `json:"split"`
	// Kept is the number of examples written to the shard.
	Kept int `json:"kept"`
	// NextAttempt is the first attempt number not yet used.
	NextAttempt int `json:"next_attempt"`
	// Exhausted is set when the attempt cap was reached before Need was met.
	Exhausted bool `json:"exhausted,omitempty"`
}

// RejectSample keeps a few rejected candidates per reason for the report.
type RejectSample struct {
	Cell   string       `json:"cell"`
	Reason RejectReason `json:"reason"`
	Detail string       `json:"detail"`
	Raw    string       `json:"raw,omitempty"`
}

// Stats counts what a batch (or a whole run) did.
type Stats struct {
	// Rejects counts rejected candidates by reason.
	Rejects map[RejectReason]int `json:"rejects,omitempty"`
	// Samples holds up to 3 rejected candidates per reason.
	Samples []RejectSample `json:"samples,omitempty"`
	// Attempts counts teacher calls that produced a candidate.
	Attempts int `json:"attempts"`
	// PromptTokens and OutputTokens are the teacher's token counts.
	PromptTokens int `json:"prompt_tokens"`
	OutputTokens int `json:"output_tokens"`
	// TeacherSeconds is the wall time spent in teacher calls.
	TeacherSeconds float64 `json:"teacher_seconds"`
}

// Add merges o into s.
func (s *Stats) Add(o Stats) {
	if s.Rejects == nil {
		s.Rejects = map[RejectReason]int{}
	}
	// Adding counts into a map gives the same map in any order; the Dataset
	// workflow calls this, so workflowcheck is told.
	//workflowcheck:ignore
	for k, v := range o.Rejects {
		s.Rejects[k] += v
	}
	for _, smp := range o.Samples {
		s.keepSample(smp)
	}
	s.Attempts += o.Attempts
	s.PromptTokens += o.PromptTokens
	s.OutputTokens += o.OutputTokens
	s.TeacherSeconds += o.TeacherSeconds
}

// Clone returns a deep copy, so adding to it leaves s unchanged.
func (s Stats) Clone() Stats {
	c := s
	c.Rejects = make(map[RejectReason]int, len(s.Rejects))
	// A copy is the same in any order.
	//workflowcheck:ignore
	for k, v := range s.Rejects {
		c.Rejects[k] = v
	}
	c.Samples = append([]RejectSample(nil), s.Samples...)
	return c
}

// reject counts one rejection and keeps it as a sample if few are kept yet.
func (s *Stats) reject(smp RejectSample) {
	if s.Rejects == nil {
		s.Rejects = map[RejectReason]int{}
	}
	s.Rejects[smp.Reason]++
	s.keepSample(smp)
}

// keepSample keeps up to 3 samples per reason, raw output cut to 300 bytes.
func (s *Stats) keepSample(smp RejectSample) {
	n := 0
	for _, x := range s.Samples {
		if x.Reason == smp.Reason {
			n++
		}
	}
	if n < 3 {
		if len(smp.Raw) > 300 {
			smp.Raw = smp.Raw[:300]
		}
		s.Samples = append(s.Samples, smp)
	}
}

// Runner generates the examples of batches for one plan.
type Runner struct {
	Catalog *schemas.Catalog
	Plan    *Plan
	Teacher Teacher
	Info    TeacherInfo
	// Validator decides which answers are kept (validate.New builds the real one).
	Validator Validator
	// Prompts renders prompt templates for each request; the builtin teacher
	// does not read them, so it is off for it.
	Prompts bool
	// Checkpoint, if set, is called after every attempt with the batch's
	// progress; it must copy what it keeps, as the runner goes on appending.
	Checkpoint func(cp Checkpoint)
}

// ExampleMeta is stored in datasets.Record.Meta: where the example came from
// in the run, which orders the merge deterministically.
type ExampleMeta struct {
	Round   int `json:"round"`
	Attempt int `json:"attempt"`
}

// Checkpoint is a batch's progress: finished items, the item in progress and
// the records kept so far. A batch resumed from a checkpoint continues at the
// next attempt and ends with exactly what an uninterrupted run would produce.
type Checkpoint struct {
	// Records are the examples kept so far.
	Records []datasets.Record `json:"-"`
	// Done are the finished items.
	Done []ItemResult `json:"done"`
	// Current is the item in progress (its Kept and NextAttempt so far).
	Current *ItemResult `json:"current,omitempty"`
	// Stats are the counts so far.
	Stats Stats `json:"stats"`
}

// Run generates the batch's items in order and returns the kept records.
// Transient teacher failures (after the teacher's own retries) end the run
// with an error so the caller can retry the batch; with a checkpoint from the
// failed attempt (from) the retry resumes where it stopped. Ids derive from
// attempt numbers, so a retry from scratch rewrites the same records.
func (r *Runner) Run(ctx context.Context, round int, items []Item, from *Checkpoint) ([]datasets.Record, []ItemResult, Stats, error) {
	var cp Checkpoint
	if from != nil {
		cp = *from
		cp.Stats = from.Stats.Clone()
	}
	dedup := NewDeduper(r.Plan.Spec.NearDupThreshold, uint64(r.Plan.Spec.Seed))
	for _, rec := range cp.Records {
		dedup.Add(rec.ID, rec.Input)
	}
	for i := len(cp.Done); i < len(items); i++ {
		it := items[i]
		if it.Cell < 0 || it.Cell >= len(r.Plan.Cells) {
			return nil, nil, cp.Stats, fmt.Errorf("batch item cell %d: plan has %d cells", it.Cell, len(r.Plan.Cells))
		}
		res := ItemResult{Cell: it.Cell, Split: it.Split, NextAttempt: it.FirstAttempt}
		if cp.Current != nil && cp.Current.Cell == it.Cell && cp.Current.Split == it.Split {
			res = *cp.Current
		}
		cp.Current = &res
		for res.Kept < it.Need && res.NextAttempt < it.MaxAttempt {
			if err := ctx.Err(); err != nil {
				return nil, nil, cp.Stats, err
			}
			if err := r.step(ctx, round, it, &res, &cp, dedup); err != nil {
				return nil, nil, cp.Stats, err
			}
			if r.Checkpoint != nil {
				r.Checkpoint(cp)
			}
		}
		res.Exhausted = res.Kept < it.Need
		cp.Done = append(cp.Done, res)
		cp.Current = nil
	}
	return cp.Records, cp.Done, cp.Stats, nil
}

// step makes one attempt at an item and keeps or rejects the candidate.
func (r *Runner) step(ctx context.Context, round int, it Item, res *ItemResult, cp *Checkpoint, dedup *Deduper) error {
	attempt := res.NextAttempt
	res.NextAttempt++
	rec, rej, err := r.attempt(ctx, round, it, attempt, &cp.Stats)
	if err != nil {
		return err
	}
	if rej == nil {
		if dup, reason := dedup.Check(rec.Input); reason != "" {
			rej = &Rejection{Reason: reason, Detail: "duplicate of " + dup}
		}
	}
	if rej != nil {
		cp.Stats.reject(RejectSample{Cell: r.Plan.Cells[it.Cell].Cell.Key, Reason: rej.Reason, Detail: rej.Detail, Raw: rec.Input})
		return nil
	}
	dedup.Add(rec.ID, rec.Input)
	cp.Records = append(cp.Records, rec)
	res.Kept++
	return nil
}

// attempt makes one candidate: sample, ask the teacher, validate. A nil
// Rejection with a nil error means the record is good.
func (r *Runner) attempt(ctx context.Context, round int, it Item, attempt int, stats *Stats) (datasets.Record, *Rejection, error) {
	spec := r.Plan.Spec
	cell := r.Plan.Cells[it.Cell].Cell
	seed := AttemptSeed(spec, cell.Key, it.Split, attempt)
	rng := rand.New(rand.NewPCG(uint64(seed), uint64(attempt)))
	sample := Sample{Cell: cell}
	if spec.Mode == LabelFirst {
		s, err := SampleTarget(r.Catalog, cell, rng)
		if err != nil {
			return datasets.Record{}, nil, fmt.Errorf("sample cell %s: %w", cell.Key, err)
		}
		sample = s
	}
	req := Request{Mode: spec.Mode, Sample: sample, Seed: seed, Temperature: spec.Temperature, MaxTokens: spec.MaxTokens}
	if r.Prompts {
		p, err := RenderPrompt(r.Catalog, spec.Mode, sample, "")
		if err != nil {
			return datasets.Record{}, nil, fmt.Errorf("render prompt for cell %s: %w", cell.Key, err)
		}
		req.Prompt = p
	}
	resp, err := r.Teacher.Write(ctx, req)
	stats.Attempts++
	stats.PromptTokens += resp.PromptTokens
	stats.OutputTokens += resp.OutputTokens
	stats.TeacherSeconds += resp.Duration.Seconds()
	rec := datasets.Record{Input: resp.Input}
	if err != nil {
		var oe *OutputError
		if errors.As(err, &oe) {
			rec.Input = resp.Raw
			return rec, &Rejection{Reason: oe.Reason, Detail: oe.Error()}, nil
		}
		return rec, nil, fmt.Errorf("teacher on cell %s: %w", cell.Key, err)
	}
	target := sample.Target
	if spec.Mode == TeacherLabels {
		target = resp.Target
		sample = labelledSample(cell, target)
	}
	val, rej := r.Validator.Check(sample, resp.Input, target)
	if rej != nil {
		return rec, rej, nil
	}
	if cell.Task == schemas.EdgeFuncCall {
		if target, rej = withFinalState(r.Catalog, target); rej != nil {
			return rec, rej, nil
		}
	}
	if spec.RoundTrip {
		rej, err := r.roundTrip(ctx, sample, resp.Input, target, seed, stats)
		if err != nil {
			return rec, nil, err
		}
		if rej != nil {
			return rec, rej, nil
		}
		val.Checks = append(val.Checks, "round_trip")
	}
	rec, err = r.record(cell, it.Split, round, attempt, seed, resp.Input, target, val, req.Prompt)
	return rec, nil, err
}

// labelledSample rebuilds a sample from a teacher-written target so the
// validator can check it like a sampled one.
func labelledSample(cell Cell, target json.RawMessage) Sample {
	s := Sample{Cell: cell, Target: target}
	var it IntentTarget
	if cell.Task == schemas.EdgeIntent && json.Unmarshal(target, &it) == nil {
		s.Slots = it.Slots
	}
	return s
}

// withFinalState executes a multi-turn target against the mock and records the
// final state in it.
func withFinalState(cat *schemas.Catalog, target json.RawMessage) (json.RawMessage, *Rejection) {
	var ft FuncCallTarget
	if err := json.Unmarshal(target, &ft); err != nil {
		return nil, &Rejection{Reason: RejectJSONParse, Detail: err.Error()}
	}
	if ft.Scenario != schemas.MultiTurn {
		return target, nil
	}
	state, _, err := ExecuteTarget(cat, ft)
	if err != nil {
		return nil, &Rejection{Reason: RejectMockExecution, Detail: err.Error()}
	}
	ft.FinalState = state
	b, err := json.Marshal(ft)
	if err != nil {
		return nil, &Rejection{Reason: RejectJSONParse, Detail: err.Error()}
	}
	return b, nil
}

func (r *Runner) record(cell Cell, split string, round, attempt int, seed int64, input string, target json.RawMessage,
	val Validation, p Prompt) (datasets.Record, error) {
	spec := r.Plan.Spec
	prov, err := json.Marshal(Provenance{Teacher: r.Info, Mode: spec.Mode, TemplateID: p.TemplateID, TemplateSHA: p.Hash,
		Seed: seed, Temperature: spec.Temperature, MaxTokens: spec.MaxTokens, SpecHash: r.Plan.SpecHash})
	if err != nil {
		return datasets.Record{}, err
	}
	vj, err := json.Marshal(val)
	if err != nil {
		return datasets.Record{}, err
	}
	meta, _ := json.Marshal(ExampleMeta{Round: round, Attempt: attempt})
	rec := datasets.Record{
		ID: ExampleID(r.Plan.SpecHash, cell.Key, split, attempt), Task: string(cell.Task), Split: split,
		Input: input, Target: string(target), Cell: cell.Key, Variant: cell.Variant,
		Complexity: string(cell.Complexity), Intent: cell.Class, Function: cell.Function, Scenario: string(cell.Scenario),
		Provenance: string(prov), Validation: string(vj), ReviewStatus: datasets.ReviewUnsampled, Meta: string(meta),
	}
	return rec, nil
}

// Command students measures a student end to end on builtin or imported data,
// the way BENCHMARKS.md reports the students: it generates (or imports) a
// dataset into its own store, trains a preset from scratch with the preset's
// defaults unless flags override them, decodes the test split with the
// checkpoint that the task metric on held-out training records picked, and
// scores it with the project's scorer. It prints progress, the worst
// predictions and the report, and writes report.json and the run (metrics.json,
// loss.png) under --out; --resume continues a stopped run from its latest
// checkpoint.
//
//	go run ./bench/students --task edgejson --variant simple --train 4000 --test 1000 --preset tiny-json
//	go run ./bench/students --task edgejson --snips ../shared/external/snips --preset nlm-5m-json
//	go run ./bench/students --clinc150 ../shared/external/clinc150 --preset nlm-5m-intent
//
// The same numbers come from the CLI (mlmforge generate, train, eval); this
// command keeps everything in one process and one directory, so a sweep is a
// shell loop.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/datasets/importer"
	"github.com/cyclecore/mlmforge/distill"
	"github.com/cyclecore/mlmforge/distill/nn"
	"github.com/cyclecore/mlmforge/distill/train"
	"github.com/cyclecore/mlmforge/eval"
	"github.com/cyclecore/mlmforge/eval/runner"
	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/generator/builtin"
	"github.com/cyclecore/mlmforge/internal/kernels"
	"github.com/cyclecore/mlmforge/schemas"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "students:", err)
		os.Exit(1)
	}
}

func run() error {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(nn.MemoryLimit()) // as cmd/mlmforge does
	}
	task := flag.String("task", "edgejson", "task: edgejson, edgeintent or edgefunccall")
	variant := flag.String("variant", "simple", "builtin variant: simple|medium|complex (edgejson), 50|100|200 (edgeintent), a catalog size (edgefunccall)")
	ntrain := flag.Int("train", 4000, "builtin training records")
	ntest := flag.Int("test", 1000, "builtin test records")
	seed := flag.Int64("seed", 3, "generator seed")
	holdout := flag.Float64("holdout-templates", 0, "share of the builtin teacher's templates and value pools kept out of train and used only in test (docs/holdout.md)")
	snips := flag.String("snips", "", "import SNIPS from this directory instead of generating (train and test splits as imported)")
	clinc := flag.String("clinc150", "", "import CLINC150 (in-scope intents) from this directory instead of generating (train and test splits as imported)")
	preset := flag.String("preset", "tiny-json", "student preset")
	steps := flag.Int("steps", 0, "optimizer steps (0 = the preset's default)")
	lr := flag.Float64("lr", 0, "peak learning rate (0 = default)")
	bs := flag.Int("bs", 0, "batch size (0 = default)")
	seq := flag.Int("seq", 0, "sequence length (0 = fitted to the data)")
	valEvery := flag.Int("validate-every", 0, "steps between task-metric validations (0 = default)")
	copyLoss := flag.Float64("copy", 0, "copy-supervision weight (0 = default, -1 = off)")
	smooth := flag.Float64("label-smoothing", 0, "encoders: label smoothing eps (0 = default, -1 = off)")
	tokenDrop := flag.Float64("token-dropout", 0, "encoders: share of input tokens hidden per training example (0 = default, -1 = off)")
	out := flag.String("out", "students-out", "directory for the store, the run and report.json")
	ckpt := flag.String("checkpoint", "", "evaluate this checkpoint instead of training")
	resume := flag.Bool("resume", false, "continue the run in --out from its latest checkpoint (same flags) instead of starting over")
	testLimit := flag.Int("test-limit", 0, "score only the first N test records (0 = all)")
	show := flag.Int("show", 5, "wrong predictions to print")
	constrained := flag.Bool("constrained", false, "decode under the JSON-Schema mask (the report's masked column)")
	trainSeed := flag.Uint64("train-seed", 0, "training seed: initial weights and data order (0 = the default; the quickstart trains with 1)")
	avx2Only := flag.Bool("avx2-only", false, "use the AVX2 kernels on a CPU with AVX-512 too, to reproduce what an AVX2-only machine trains")
	flag.Parse()
	if *avx2Only {
		kernels.SetAVX2Only(true)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cat, err := schemas.Load()
	if err != nil {
		return err
	}
	v, err := dataset(ctx, cat, *out, *task, *variant, imported{snips: *snips, clinc: *clinc}, *ntrain, *ntest, *seed, *holdout)
	if err != nil {
		return err
	}
	ck := *ckpt
	if ck == "" {
		runDir := filepath.Join(*out, "run")
		if !*resume {
			if err := os.RemoveAll(runDir); err != nil {
				return err
			}
		}
		t0, last := time.Now(), time.Time{}
		res, err := distill.TrainStudent(ctx, distill.TrainSpec{Preset: *preset, Version: v, Catalog: cat, OutDir: runDir,
			Train: train.Config{TotalSteps: *steps, LR: *lr, BatchSize: *bs, SeqLen: *seq, ValidateEvery: *valEvery, CopyLoss: *copyLoss,
				LabelSmoothing: *smooth, TokenDropout: *tokenDrop, Seed: *trainSeed},
			Progress: func(p train.Progress) {
				el := time.Since(t0).Round(time.Second)
				if !math.IsNaN(p.MetricValue) { // a validation at this step
					fmt.Printf("step %d validation %s = %.3f (best %.3f) t=%s\n", p.Step, p.Metric, p.MetricValue, p.BestMetric, el)
				}
				if time.Since(last) > 30*time.Second || p.Step == p.TotalSteps {
					last = time.Now()
					fmt.Printf("step %d/%d loss %.4f %.0f tok/s t=%s\n", p.Step, p.TotalSteps, p.Loss, p.TokensPerSec, el)
				}
			}})
		if err != nil {
			return err
		}
		fmt.Printf("trained in %s (%s), checkpoint %s\n", time.Since(t0).Round(time.Second), res.Result.Stopped, res.Checkpoint)
		fmt.Printf("seq_len %d, max_seq %d, %d of %d training examples cut at seq_len\n", res.Train.SeqLen, res.Config.MaxSeq,
			res.Truncated, res.TrainExamples)
		ck = res.Checkpoint
	}
	test, err := v.Read("test")
	if err != nil {
		return err
	}
	if *testLimit > 0 && len(test) > *testLimit {
		test = test[:*testLimit]
	}
	if len(test) == 0 {
		return errors.New("the dataset has no test records")
	}
	st, err := runner.NewStudent(ck, cat)
	if err != nil {
		return err
	}
	t0 := time.Now()
	preds, err := st.Predict(ctx, test, runner.Options{Constrained: *constrained})
	if err != nil {
		return err
	}
	fmt.Printf("decoded %d test records in %s\n", len(preds), time.Since(t0).Round(time.Millisecond))
	sc, err := eval.NewScorer(cat)
	if err != nil {
		return err
	}
	rep, err := sc.Score(test, preds)
	if err != nil {
		return err
	}
	shown := 0
	for i, e := range rep.Examples {
		if !e.Correct && shown < *show {
			shown++
			fmt.Printf("gold %s\npred %s\n", test[i].Target, e.Raw)
		}
	}
	b, err := json.MarshalIndent(rep, "", " ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*out, "report.json"), b, 0o644); err != nil {
		return err
	}
	rep.Examples = nil
	b, _ = json.MarshalIndent(rep, "", " ")
	fmt.Println(string(b))
	return nil
}

// dataset returns the store's version for these flags, generating or
// importing it on first use.
// imported names the directories of real benchmarks to import instead of
// generating builtin data (at most one is set).
type imported struct{ snips, clinc string }

func dataset(ctx context.Context, cat *schemas.Catalog, out, task, variant string, imp imported, ntrain, ntest int, seed int64, holdout float64) (*datasets.Version, error) {
	store, err := datasets.Open(filepath.Join(out, "store"))
	if err != nil {
		return nil, err
	}
	name := fmt.Sprintf("%s-%s-%d-%d-s%d", task, variant, ntrain, ntest, seed)
	if holdout > 0 {
		name += fmt.Sprintf("-holdout%g", holdout)
	}
	if imp.snips != "" && imp.clinc != "" {
		return nil, errors.New("--snips and --clinc150: pick one")
	}
	var load func() (*importer.Dataset, error)
	switch {
	case imp.snips != "":
		task, name = string(schemas.EdgeJSON), "snips"
		load = func() (*importer.Dataset, error) { return importer.ImportSNIPS(imp.snips, importer.SNIPSOptions{}) }
	case imp.clinc != "":
		task, name = string(schemas.EdgeIntent), "clinc150"
		load = func() (*importer.Dataset, error) {
			return importer.ImportCLINC150(imp.clinc, importer.CLINC150Options{})
		}
	}
	if v, err := store.Version(schemas.Task(task), name); err == nil {
		return v, nil
	}
	if load != nil {
		d, err := load()
		if err != nil {
			return nil, err
		}
		if _, _, err := importer.Commit(store, d, importer.CommitOptions{Version: name}); err != nil {
			return nil, err
		}
		return store.Version(schemas.Task(task), name)
	}
	t0 := time.Now()
	recs, err := builtin.Generate(ctx, cat, generator.Spec{Task: schemas.Task(task), Variant: variant,
		Counts: map[string]int{"train": ntrain, "test": ntest}, Seed: seed, HoldoutTemplates: holdout})
	if err != nil {
		return nil, err
	}
	w, err := store.Create(schemas.Task(task), name)
	if err != nil {
		return nil, err
	}
	if err := w.Write(recs...); err != nil {
		return nil, err
	}
	if _, err := w.Commit(datasets.CommitInfo{Notes: "bench/students"}); err != nil {
		return nil, err
	}
	fmt.Printf("generated %d records in %s\n", len(recs), time.Since(t0).Round(time.Millisecond))
	return store.Version(schemas.Task(task), name)
}

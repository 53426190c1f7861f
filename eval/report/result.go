package report

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/cyclecore/mlmforge/eval"
	"github.com/cyclecore/mlmforge/eval/runner"
	"github.com/cyclecore/mlmforge/generator"
)

// Result is one eval job: a model scored on one dataset split under one variant.
type Result struct {
	// Model describes the model (reference, kind, parameters, size on disk, digest).
	Model runner.ModelInfo
	// Dataset names the split that was scored.
	Dataset Dataset
	// Variant is how the model was run (few-shot examples, constrained decoding).
	Variant Variant
	// Report is the scorer's report; its Examples become the predictions file.
	Report *eval.Report
	// Wall is the job's measured wall time (0 if unknown: latencies are then
	// assumed sequential for inferences/s).
	Wall time.Duration
	// PeakRSSBytes is the peak resident memory of the process that ran the
	// model, when measured (0 = unknown).
	PeakRSSBytes int64
}

// Dataset names a scored dataset split.
type Dataset struct {
	// Task is the SLM-Bench task (schemas.Task): edgejson, edgeintent or edgefunccall.
	Task string `json:"task"`
	// Name is the dataset's name as the user gave it: the part before "@" of
	// the reference (a task, "edgeintent" of edgeintent@v4), optional.
	Name string `json:"name,omitempty"`
	// Version is the dataset version, e.g. "v3".
	Version string `json:"version,omitempty"`
	// Split is the scored split, e.g. "test".
	Split string `json:"split,omitempty"`
	// N is the number of records in the split.
	N int `json:"n"`
	// Variants are the records' variants (taxonomy, schema set, import
	// variant), in first-seen order; informational.
	Variants []string `json:"variants,omitempty"`
	// TestSplit is the kind of test split the scored test split is, as the
	// dataset's manifest records it (datasets.Manifest.TestSplit): "standard"
	// (the same templates and values as train) or "template-held-out 25%"
	// (only templates and values train never used, docs/holdout.md). Empty
	// when unknown (imported data, older versions) or another split is scored.
	TestSplit string `json:"test_split,omitempty"`
}

// HeldOut reports whether the scored split is a held-out test split, whose
// score measures generalization to unseen phrasings and values.
func (d Dataset) HeldOut() bool {
	return d.TestSplit != "" && d.TestSplit != generator.TestSplitStandard
}

// Label is the dataset's display name: name@version/split, with the task
// standing in for a missing name, and the kind of a held-out test split in
// brackets ("assistant-50@v4/test [template-held-out 25%]"), so that every
// table row quoting a score on it says so.
func (d Dataset) Label() string {
	s := d.Name
	if s == "" {
		s = d.Task
	}
	if d.Version != "" {
		s += "@" + d.Version
	}
	if d.Split != "" {
		s += "/" + d.Split
	}
	if d.HeldOut() {
		s += " [" + d.TestSplit + "]"
	}
	return s
}

// Variant is how a model was run on a dataset.
type Variant struct {
	// Shots is the number of few-shot examples in the prompt.
	Shots int `json:"shots"`
	// Constrained is set when decoding was constrained by a JSON-Schema token mask.
	Constrained bool `json:"constrained"`
}

// Label names the variant in tables: "0-shot", "5-shot", "0-shot constrained".
func (v Variant) Label() string {
	s := fmt.Sprintf("%d-shot", v.Shots)
	if v.Constrained {
		s += " constrained"
	}
	return s
}

// Lineage is where the results came from.
type Lineage struct {
	// GeneratedAt is when the report was made (zero: not recorded).
	GeneratedAt time.Time `json:"generated_at,omitzero"`
	// GitCommit is the commit of the mlmforge build, when known.
	GitCommit string `json:"git_commit,omitempty"`
	// Datasets lists the dataset versions used; Build adds every result's dataset.
	Datasets []Dataset `json:"datasets,omitempty"`
	// Checkpoints lists the student checkpoints evaluated; Build adds every
	// student model that is not listed.
	Checkpoints []Checkpoint `json:"checkpoints,omitempty"`
	// Machine is the machine the jobs ran on.
	Machine Machine `json:"machine"`
}

// Checkpoint is a student checkpoint that was evaluated.
type Checkpoint struct {
	// Model is the model reference, e.g. "student:runs/intent-60m/final".
	Model string `json:"model"`
	// Path is the checkpoint directory.
	Path string `json:"path,omitempty"`
	// Digest is the checkpoint's sha256.
	Digest string `json:"digest,omitempty"`
	// Step is the training step the checkpoint was taken at (0 = unknown).
	Step int `json:"step,omitempty"`
}

// Machine describes the machine the jobs ran on, for the cross-platform table.
type Machine struct {
	// CPUModel is the CPU model name from /proc/cpuinfo.
	CPUModel string `json:"cpu_model,omitempty"`
	// Cores is the number of logical CPUs.
	Cores int `json:"cores,omitempty"`
	// OS and Arch are Go's GOOS and GOARCH.
	OS   string `json:"os,omitempty"`
	Arch string `json:"arch,omitempty"`
	// GoVersion is the Go toolchain the binary was built with.
	GoVersion string `json:"go_version,omitempty"`
}

// Label is the machine's one-line description: "CPU (2 cores, linux/amd64)".
func (m Machine) Label() string {
	cpu := m.CPUModel
	if cpu == "" {
		cpu = "unknown CPU"
	}
	var parts []string
	if m.Cores > 0 {
		parts = append(parts, fmt.Sprintf("%d cores", m.Cores))
	}
	if m.OS != "" || m.Arch != "" {
		parts = append(parts, m.OS+"/"+m.Arch)
	}
	if len(parts) == 0 {
		return cpu
	}
	return cpu + " (" + strings.Join(parts, ", ") + ")"
}

// DetectMachine describes the running machine: the CPU model from
// /proc/cpuinfo (empty where there is none), logical CPUs, OS/arch and the Go
// version. A missing /proc/cpuinfo is not an error: the other fields are set.
func DetectMachine() (Machine, error) {
	m := Machine{Cores: runtime.NumCPU(), OS: runtime.GOOS, Arch: runtime.GOARCH, GoVersion: runtime.Version()}
	f, err := os.Open("/proc/cpuinfo")
	if os.IsNotExist(err) {
		return m, nil
	}
	if err != nil {
		return m, fmt.Errorf("read cpu model: %w", err)
	}
	defer f.Close()
	if m.CPUModel, err = ParseCPUModel(f); err != nil {
		return m, fmt.Errorf("read cpu model from /proc/cpuinfo: %w", err)
	}
	return m, nil
}

// cpuModelKeys are the /proc/cpuinfo keys that name the CPU, best first:
// x86 has "model name"; ARM boards give "Model" or "Hardware"; others "cpu".
var cpuModelKeys = []string{"model name", "Model", "Hardware", "cpu model", "cpu", "Processor"}

// ParseCPUModel returns the CPU model named in /proc/cpuinfo text, or "" if
// it names none.
func ParseCPUModel(r io.Reader) (string, error) {
	found := map[string]string{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		k, v = strings.TrimSpace(k), strings.Join(strings.Fields(v), " ")
		if !ok || v == "" {
			continue
		}
		if _, seen := found[k]; !seen {
			found[k] = v
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	for _, k := range cpuModelKeys {
		if v := found[k]; v != "" {
			return v, nil
		}
	}
	return "", nil
}

// DetectGitCommit returns the VCS revision the running binary was built
// from ("-dirty" when built from modified files). Binaries from `go run` and
// test binaries carry none; then, when the working directory is an mlmforge
// checkout, it returns that checkout's HEAD marked " (working tree)", since
// the build may differ from it; else "".
func DetectGitCommit() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if rev != "" && dirty {
			return rev + "-dirty"
		}
		if rev != "" {
			return rev
		}
	}
	mod, err := os.ReadFile("go.mod")
	if err != nil || !bytes.Contains(mod, []byte("module github.com/cyclecore/mlmforge\n")) {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "git", "rev-parse", "HEAD").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out)) + " (working tree)"
}

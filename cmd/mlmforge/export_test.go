package main

import (
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cyclecore/mlmforge/distill/export"
	"github.com/cyclecore/mlmforge/distill/infer"
	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/distill/quant"
	"github.com/cyclecore/mlmforge/distill/tokenizer"
)

// requireExportCmd fails clearly when root.go does not register the command, rather
// than with every child process's "unknown command".
func requireExportCmd(t *testing.T) {
	t.Helper()
	for _, c := range newRootCmd(io.Discard, io.Discard).Commands() {
		if c.Name() == "export" {
			return
		}
	}
	t.Fatal("the export command is not registered: add newExportCmd(a) to root.go's AddCommand")
}

// exportCheckpoints saves a tiny random encoder (3 labels) and a tiny random decoder,
// with a tokenizer trained on a few lines, and returns their directories.
func exportCheckpoints(t *testing.T) (enc, dec string) {
	t.Helper()
	corpus := []string{"set an alarm for seven am", "what is the weather in paris", "play jazz music please",
		"<|im_start|>user\nbook a table<|im_end|>\n<|im_start|>assistant\n"}
	tok, err := tokenizer.Train(slices.Values(corpus), tokenizer.TrainConfig{VocabSize: 300, SpecialTokens: tokenizer.DefaultSpecialTokens(true)})
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	for _, arch := range []string{model.ArchEncoder, model.ArchDecoder} {
		c := model.Config{Arch: arch, Vocab: tok.VocabSize(), Hidden: 64, Layers: 2, Heads: 4, KVHeads: 2,
			Intermediate: 96, MaxSeq: 32, RopeTheta: 10000, NormEps: 1e-5, TiedEmbeddings: arch == model.ArchDecoder}
		var labels []string
		if arch == model.ArchEncoder {
			c.NumClasses, c.Pooling, labels = 3, model.PoolMean, []string{"alarm", "weather", "play_music"}
		}
		ck := &model.Checkpoint{Config: c, Preset: "custom", Labels: labels, Weights: model.Init(c, 7)}
		if err := model.SaveCheckpoint(filepath.Join(root, arch), ck, tok.Save); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(root, model.ArchEncoder), filepath.Join(root, model.ArchDecoder)
}

// exportOK runs export and fails unless it exits 0 with an empty stderr.
func exportOK(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := runCLI(t, append([]string{"--home", t.TempDir(), "export"}, args...)...)
	if code != 0 || errOut != "" {
		t.Fatalf("export %v: exit %d, stderr %q", args, code, errOut)
	}
	return out
}

func TestExportFormats(t *testing.T) {
	requireExportCmd(t)
	enc, dec := exportCheckpoints(t)
	encCk, _ := model.LoadModel(enc)
	decCk, _ := model.LoadModel(dec)
	tmp := t.TempDir()

	t.Run("hf", func(t *testing.T) {
		out := filepath.Join(tmp, "hf")
		stdout := exportOK(t, "--checkpoint", enc, "--format", "hf", "--out", out)
		got, err := model.LoadModel(out)
		if err != nil {
			t.Fatal(err)
		}
		if !sameWeights(got.Weights, encCk.Weights) || !slices.Equal(got.Labels, encCk.Labels) {
			t.Error("the Hugging Face directory does not hold the checkpoint's weights and labels")
		}
		if !strings.Contains(stdout, "Wrote Hugging Face model "+out) || !strings.Contains(stdout, " MB") {
			t.Errorf("stdout %q", stdout)
		}
	})
	t.Run("gguf", func(t *testing.T) {
		f32 := filepath.Join(tmp, "student.gguf")
		exportOK(t, "--checkpoint", dec, "--format", "gguf", "--out", f32)
		m, err := export.ReadGGUF(f32)
		if err != nil {
			t.Fatal(err)
		}
		if d := m.Config.Diff(decCk.Config); len(d) > 0 || !sameWeights(m.Weights, decCk.Weights) {
			t.Errorf("F32 GGUF differs from the checkpoint: config %v", d)
		}
		q8 := filepath.Join(tmp, "q8")
		stdout := exportOK(t, "--checkpoint", dec, "--format", "gguf", "--gguf-type", "q8_0", "--out", q8)
		fq, err1 := os.Stat(filepath.Join(q8, export.GGUFFile))
		ff, err2 := os.Stat(f32)
		if err1 != nil || err2 != nil || fq.Size() >= ff.Size() {
			t.Errorf("q8_0 GGUF %v (%v) is not smaller than the F32 one %v (%v)", fq, err1, ff, err2)
		}
		if !strings.Contains(stdout, "Q8_0, name q8") {
			t.Errorf("stdout %q", stdout)
		}
	})
	t.Run("ollama", func(t *testing.T) {
		out := filepath.Join(tmp, "ollama")
		stdout := exportOK(t, "--checkpoint", dec, "--format", "ollama", "--name", "my-mlm", "--gguf-type", "F16", "--out", out)
		want := "ollama create my-mlm -f " + filepath.Join(out, "Modelfile")
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout %q lacks %q", stdout, want)
		}
		mf, err := os.ReadFile(filepath.Join(out, "Modelfile"))
		if err != nil || !strings.HasPrefix(string(mf), "FROM ./model.gguf") {
			t.Errorf("Modelfile %q (%v)", mf, err)
		}
		if m, err := export.ReadGGUF(filepath.Join(out, export.GGUFFile)); err != nil || len(m.Config.Diff(decCk.Config)) > 0 {
			t.Errorf("model.gguf: %v", err)
		}
	})
	t.Run("int8", func(t *testing.T) {
		out := filepath.Join(tmp, "int8")
		stdout := exportOK(t, "--checkpoint", enc, "--format", "int8", "--out", out)
		_, labels, q, err := quant.LoadInt8(out)
		if err != nil {
			t.Fatal(err)
		}
		want := infer.Quantize(encCk.Weights)
		for name, qt := range want.Int8 {
			if !slices.Equal(q.Int8[name].Data, qt.Data) {
				t.Errorf("tensor %s: int8 values differ from infer.Quantize", name)
			}
		}
		if !slices.Equal(labels, encCk.Labels) {
			t.Errorf("labels %v", labels)
		}
		for _, w := range []string{"int8    model.int8.safetensors", "float32 model.safetensors", " MB (", "x the INT8 size"} {
			if !strings.Contains(stdout, w) {
				t.Errorf("stdout %q lacks %q", stdout, w)
			}
		}
	})
}

func sameWeights(a, b model.Weights) bool {
	if len(a) != len(b) {
		return false
	}
	for name, t := range a {
		u, ok := b[name]
		if !ok || !slices.Equal(t.Shape, u.Shape) || !slices.EqualFunc(t.Data, u.Data, func(x, y float32) bool {
			return math.Float32bits(x) == math.Float32bits(y)
		}) {
			return false
		}
	}
	return true
}

func TestExportErrors(t *testing.T) {
	requireExportCmd(t)
	enc, dec := exportCheckpoints(t)
	noTok := filepath.Join(t.TempDir(), "notok")
	ck, _ := model.LoadModel(dec)
	if err := model.SaveCheckpoint(noTok, ck, nil); err != nil {
		t.Fatal(err)
	}
	int8Dir := filepath.Join(t.TempDir(), "int8")
	if err := quant.SaveInt8(int8Dir, ck, filepath.Join(dec, model.TokenizerFile)); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "nope")
	out := filepath.Join(t.TempDir(), "out")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no checkpoint", []string{"--format", "hf", "--out", out}, 2, "--checkpoint is required"},
		{"no format", []string{"--checkpoint", dec, "--out", out}, 2, "--format is required"},
		{"no out", []string{"--checkpoint", dec, "--format", "hf"}, 2, "--out is required"},
		{"bad format", []string{"--checkpoint", dec, "--format", "onnx", "--out", out}, 2, `--format "onnx": want hf, gguf, ollama or int8`},
		{"bad gguf type", []string{"--checkpoint", dec, "--format", "gguf", "--gguf-type", "q4_k", "--out", out}, 2, `--gguf-type "q4_k"`},
		{"gguf type for hf", []string{"--checkpoint", dec, "--format", "hf", "--gguf-type", "f16", "--out", out}, 2, "--gguf-type applies to --format gguf or ollama"},
		{"bad ollama name", []string{"--checkpoint", dec, "--format", "ollama", "--name", "My Model", "--out", out}, 2, `--name "My Model"`},
		{"missing checkpoint", []string{"--checkpoint", missing, "--format", "hf", "--out", out}, 1, filepath.Join(missing, "config.json")},
		{"encoder gguf", []string{"--checkpoint", enc, "--format", "gguf", "--out", out}, 1, "--format gguf: " + enc + " is an encoder classifier"},
		{"encoder ollama", []string{"--checkpoint", enc, "--format", "ollama", "--out", out}, 1, "llama.cpp and Ollama cannot run"},
		{"no tokenizer", []string{"--checkpoint", noTok, "--format", "int8", "--out", out}, 1, "--checkpoint " + noTok + ": no tokenizer.json"},
		{"already int8", []string{"--checkpoint", int8Dir, "--format", "hf", "--out", out}, 1, "already an INT8 checkpoint"},
		{"out is a file", []string{"--checkpoint", dec, "--format", "int8", "--out", filepath.Join(dec, "config.json")}, 1, "config.json exists and is not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			stdout, errOut, code := runCLI(t, append([]string{"--home", t.TempDir(), "export"}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tt.code, errOut)
			}
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "mlmforge: ") || !strings.Contains(lines[0], tt.want) {
				t.Errorf("stderr = %q, want one line 'mlmforge: ...%s...'", errOut, tt.want)
			}
			if strings.Contains(stdout, "Usage:") {
				t.Errorf("usage dump printed: %q", stdout)
			}
		})
	}
	t.Cleanup(func() { // after the parallel subtests
		if _, err := os.Stat(out); err == nil {
			t.Errorf("a failed export left %s behind", out)
		}
	})
}

// TestExportPointer: a pointer-generator decoder keeps its pointer in int8,
// and hf, gguf and ollama refuse it unless --drop-pointer, which writes the
// plain LM (every other tensor unchanged) and says so on stderr.
func TestExportPointer(t *testing.T) {
	requireExportCmd(t)
	_, dec := exportCheckpoints(t)
	ck, err := model.LoadModel(dec)
	if err != nil {
		t.Fatal(err)
	}
	ck.Config.Pointer = true
	ck.Weights = model.Init(ck.Config, 9)
	ptrDir := filepath.Join(t.TempDir(), "pointer")
	tok, err := tokenizer.Load(filepath.Join(dec, model.TokenizerFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := model.SaveCheckpoint(ptrDir, ck, tok.Save); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	for _, format := range []string{"hf", "gguf", "ollama"} {
		_, errOut, code := runCLI(t, "--home", t.TempDir(), "export", "--checkpoint", ptrDir, "--format", format,
			"--out", filepath.Join(tmp, format+"-refused"))
		if code != 1 || !strings.Contains(errOut, "pointer-generator") || !strings.Contains(errOut, "--drop-pointer") {
			t.Errorf("%s without --drop-pointer: exit %d, stderr %q", format, code, errOut)
		}
	}
	gguf := filepath.Join(tmp, "dropped.gguf")
	_, errOut, code := runCLI(t, "--home", t.TempDir(), "export", "--checkpoint", ptrDir, "--format", "gguf",
		"--drop-pointer", "--out", gguf)
	if code != 0 || !strings.Contains(errOut, "decoding uses the LM head alone") {
		t.Fatalf("gguf --drop-pointer: exit %d, stderr %q", code, errOut)
	}
	m, err := export.ReadGGUF(gguf)
	if err != nil {
		t.Fatal(err)
	}
	plain := ck.Config
	plain.Pointer = false
	if m.Config.Pointer || len(m.Weights) != len(plain.Params()) {
		t.Errorf("dropped export: pointer %t, %d tensors, want %d", m.Config.Pointer, len(m.Weights), len(plain.Params()))
	}
	emb := m.Weights["model.embed_tokens.weight"].Data
	if !slices.Equal(emb, ck.Weights["model.embed_tokens.weight"].Data) {
		t.Error("the dropped export changed the embeddings")
	}

	out := filepath.Join(tmp, "int8")
	exportOK(t, "--checkpoint", ptrDir, "--format", "int8", "--out", out)
	c, _, q, err := quant.LoadInt8(out)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Pointer || q.Check(c) != nil {
		t.Errorf("int8 export: pointer %t, check %v", c.Pointer, q.Check(c))
	}
	_, errOut, code = runCLI(t, "--home", t.TempDir(), "export", "--checkpoint", ptrDir, "--format", "int8",
		"--drop-pointer", "--out", filepath.Join(tmp, "int8-drop"))
	if code != 2 || !strings.Contains(errOut, "--drop-pointer applies to") {
		t.Errorf("int8 --drop-pointer: exit %d, stderr %q", code, errOut)
	}
}

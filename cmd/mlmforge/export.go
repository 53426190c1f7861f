package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cyclecore/mlmforge/distill/export"
	"github.com/cyclecore/mlmforge/distill/model"
	"github.com/cyclecore/mlmforge/distill/quant"
)

// Export formats (--format).
const (
	formatHF     = "hf"
	formatGGUF   = "gguf"
	formatOllama = "ollama"
	formatInt8   = "int8"
)

// ggufTypes maps --gguf-type to export's storage types.
var ggufTypes = map[string]string{"f32": export.TypeF32, "f16": export.TypeF16, "q8_0": export.TypeQ8_0}

// ollamaName is what Ollama accepts as a model name (lower case, so that the name
// printed is the name `ollama list` shows).
var ollamaName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

type exportFlags struct {
	checkpoint, format, out, ggufType, name string
	dropPointer                             bool
}

func newExportCmd(a *app) *cobra.Command {
	var f exportFlags
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Export a trained student: Hugging Face, GGUF, Ollama or INT8",
		Long: `export converts an mlmforge checkpoint directory (config.json, model.safetensors,
tokenizer.json) into a format other tools run:

  hf      a Hugging Face directory (LlamaConfig config.json, F32 model.safetensors,
          tokenizer.json, tokenizer_config.json with the ChatML template)
  gguf    a llama GGUF for llama.cpp (decoders only); --out is a directory that gets
          model.gguf, or a path ending in .gguf
  ollama  model.gguf and a Modelfile (decoders only); prints the 'ollama create' command
  int8    an INT8 checkpoint (model.int8.safetensors: per-row int8 weights and scales)
          that mlmforge's own inference and eval run, about a quarter of the F32 size

Encoder classifiers (intent students) cannot run in llama.cpp or Ollama: export them
as hf or int8.

Decoders with a pointer-generator output (pointer_generator in config.json, the
default of the tiny and nlm-5m extraction presets) copy prompt spans through it;
no other runner has one. int8 keeps it. hf, gguf and ollama need --drop-pointer,
which writes the plain LM head: it runs everywhere but copies values it did not
see in training worse.`,
		Example: `  mlmforge export --checkpoint runs/train-1a2b/checkpoints/step-00001000 --format int8 --out nlm-int8
  mlmforge export --checkpoint ck --format gguf --gguf-type q8_0 --out ck.gguf
  mlmforge export --checkpoint ck --format ollama --out my-mlm --name my-mlm`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.validate(cmd); err != nil {
				return err
			}
			if err := runExport(a, f); err != nil {
				return errors.New(strings.ReplaceAll(err.Error(), "\n", "; ")) // one line, even for joined errors
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.checkpoint, "checkpoint", "", "checkpoint directory to export (required)")
	fl.StringVar(&f.format, "format", "", "hf, gguf, ollama or int8 (required)")
	fl.StringVar(&f.out, "out", "", "output directory (for gguf: a directory, or a file ending in .gguf) (required)")
	fl.StringVar(&f.ggufType, "gguf-type", "f32", "gguf/ollama: storage of the matrices, f32, f16 or q8_0")
	fl.StringVar(&f.name, "name", "", "gguf/ollama: model name (default: the base name of --out)")
	fl.BoolVar(&f.dropPointer, "drop-pointer", false, "hf/gguf/ollama: export a pointer-generator decoder's LM head alone")
	return cmd
}

// validate checks the flags alone, before any file is read.
func (f *exportFlags) validate(cmd *cobra.Command) error {
	for _, r := range []struct{ flag, v string }{{"--checkpoint", f.checkpoint}, {"--format", f.format}, {"--out", f.out}} {
		if r.v == "" {
			return usageErrorf("%s is required", r.flag)
		}
	}
	f.format = strings.ToLower(f.format)
	switch f.format {
	case formatHF, formatGGUF, formatOllama, formatInt8:
	default:
		return usageErrorf("--format %q: want hf, gguf, ollama or int8", f.format)
	}
	decoderOnly := f.format == formatGGUF || f.format == formatOllama
	if _, ok := ggufTypes[strings.ToLower(f.ggufType)]; !ok {
		return usageErrorf("--gguf-type %q: want f32, f16 or q8_0", f.ggufType)
	}
	if f.dropPointer && f.format == formatInt8 {
		return usageErrorf("--drop-pointer applies to --format hf, gguf or ollama; int8 keeps the pointer")
	}
	for _, fl := range []string{"gguf-type", "name"} {
		if cmd.Flags().Changed(fl) && !decoderOnly {
			return usageErrorf("--%s applies to --format gguf or ollama, not %s", fl, f.format)
		}
	}
	if f.name == "" {
		abs, err := filepath.Abs(f.out)
		if err != nil {
			return usageErrorf("--out %q: %v", f.out, err)
		}
		f.name = strings.ToLower(strings.TrimSuffix(filepath.Base(abs), ".gguf"))
	}
	if decoderOnly && !ollamaName.MatchString(f.name) {
		return usageErrorf("--name %q: want lower-case letters, digits, '.', '_' and '-' (set --name when --out's base name is not one)", f.name)
	}
	return nil
}

func runExport(a *app, f exportFlags) error {
	if quant.IsInt8(f.checkpoint) {
		return fmt.Errorf("--checkpoint %s: already an INT8 checkpoint; export the float32 checkpoint it was made from", f.checkpoint)
	}
	ck, err := model.LoadModel(f.checkpoint)
	if err != nil {
		return fmt.Errorf("--checkpoint %s: %w", f.checkpoint, err)
	}
	if ck.TokenizerPath() == "" {
		return fmt.Errorf("--checkpoint %s: no %s; every export format needs the tokenizer", f.checkpoint, model.TokenizerFile)
	}
	if f.format == formatInt8 {
		return exportInt8(a, f, ck)
	}
	if f.format != formatHF && ck.Config.Arch == model.ArchEncoder {
		return fmt.Errorf("--format %s: %s is an encoder classifier, which llama.cpp and Ollama cannot run "+
			"(bidirectional attention, pooled head); use --format hf or int8", f.format, f.checkpoint)
	}
	if ck.Config.Pointer {
		if !f.dropPointer {
			return fmt.Errorf("--format %s: %s has a pointer-generator output (pointer_generator in %s), which "+
				"Hugging Face, llama.cpp and Ollama cannot run; use --format int8 to keep it, or pass --drop-pointer "+
				"to export the LM head alone (it copies values unseen in training worse)", f.format, f.checkpoint, model.ConfigFile)
		}
		dropPointer(ck)
		fmt.Fprintf(a.err, "export: --drop-pointer: %s's pointer-generator is not in the export; decoding uses the LM head alone\n", f.checkpoint)
	}
	m, err := export.FromCheckpoint(ck)
	if err != nil {
		return err // it names the checkpoint
	}
	opts := export.GGUFOptions{Type: ggufTypes[strings.ToLower(f.ggufType)], Name: f.name}
	switch f.format {
	case formatHF:
		if err := export.WriteHF(f.out, m); err != nil {
			return err
		}
		fmt.Fprintf(a.out, "Wrote Hugging Face model %s (%s, %s, %s, %s)\n", f.out,
			model.ConfigFile, model.WeightsFile, model.TokenizerFile, export.TokenizerConfigFile)
		return printSize(a, "model.safetensors", filepath.Join(f.out, model.WeightsFile))
	case formatGGUF:
		path := f.out
		if !strings.HasSuffix(path, ".gguf") {
			if err := os.MkdirAll(path, 0o755); err != nil {
				return fmt.Errorf("--out %s: %w", f.out, err)
			}
			path = filepath.Join(path, export.GGUFFile)
		}
		if err := export.WriteGGUF(path, m, opts); err != nil {
			return err
		}
		fmt.Fprintf(a.out, "Wrote GGUF %s (%s, name %s)\n", path, opts.Type, f.name)
		return printSize(a, "model.gguf", path)
	default: // ollama
		if err := export.WriteOllama(f.out, m, opts); err != nil {
			return err
		}
		fmt.Fprintf(a.out, "Wrote %s and %s to %s (%s)\n", export.GGUFFile, export.ModelfileName, f.out, opts.Type)
		if err := printSize(a, "model.gguf", filepath.Join(f.out, export.GGUFFile)); err != nil {
			return err
		}
		fmt.Fprintf(a.out, "Serve it with:\n  ollama create %s -f %s\n", f.name, filepath.Join(f.out, export.ModelfileName))
		return nil
	}
}

// dropPointer removes a pointer-generator decoder's gate, leaving the plain LM.
func dropPointer(ck *model.Checkpoint) {
	ck.Config.Pointer, ck.Config.InductionNgram = false, 0
	w := model.Weights{}
	for _, p := range ck.Config.Params() {
		w[p.Name] = ck.Weights[p.Name]
	}
	ck.Weights = w
}

// exportInt8 writes the INT8 checkpoint and compares its size with the float32 one.
func exportInt8(a *app, f exportFlags, ck *model.Checkpoint) error {
	if err := quant.SaveInt8(f.out, ck, ""); err != nil {
		return err
	}
	q8, err := os.Stat(filepath.Join(f.out, quant.Int8WeightsFile))
	if err != nil {
		return err
	}
	f32, err := os.Stat(filepath.Join(f.checkpoint, model.WeightsFile))
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "Wrote INT8 checkpoint %s (%s, %s, %s)\n", f.out, model.ConfigFile, quant.Int8WeightsFile, model.TokenizerFile)
	fmt.Fprintf(a.out, "  int8    %-24s %8.2f MB (%d bytes)\n", quant.Int8WeightsFile, mb(q8.Size()), q8.Size())
	fmt.Fprintf(a.out, "  float32 %-24s %8.2f MB (%d bytes), %.2fx the INT8 size\n", model.WeightsFile, mb(f32.Size()), f32.Size(),
		float64(f32.Size())/float64(q8.Size()))
	return nil
}

// printSize prints the size of the file at path.
func printSize(a *app, label, path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "  %s: %.2f MB (%d bytes)\n", label, mb(fi.Size()), fi.Size())
	return nil
}

// mb is a byte count in (decimal) megabytes.
func mb(n int64) float64 { return float64(n) / 1e6 }

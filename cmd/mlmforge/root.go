package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

// app carries what every subcommand shares: the resolved mlmforge home and the
// output streams. Config is parsed here once and passed down explicitly.
type app struct {
	// home is the mlmforge home directory (datasets, Temporal database, runs).
	home string
	out  io.Writer
	err  io.Writer
}

// usageError marks a user mistake (bad flag, bad argument) so main exits 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

func newRootCmd(out, errOut io.Writer) *cobra.Command {
	a := &app{out: out, err: errOut}
	var homeFlag string
	root := &cobra.Command{
		Use:   "mlmforge",
		Short: "Pipeline orchestrator for Micro Language Models on SLM-Bench tasks",
		Long: `mlmforge runs the loop that makes Micro Language Models: Temporal workflows drive
teacher models to synthesize and validate datasets (Parquet), put a sample in
front of human reviewers, train students in Go, and evaluate them.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			h, err := resolveHome(homeFlag)
			if err != nil {
				return err
			}
			a.home = h
			return nil
		},
	}
	root.SetOut(out)
	root.SetErr(errOut)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &usageError{fmt.Errorf("%s: %w (see '%s --help')", cmd.CommandPath(), err, cmd.CommandPath())}
	})
	root.PersistentFlags().StringVar(&homeFlag, "home", "",
		"mlmforge home directory (default $MLMFORGE_HOME, else $XDG_DATA_HOME/mlmforge, else ~/.local/share/mlmforge)")
	root.AddCommand(
		newVersionCmd(a),
		newDevCmd(a),
		newWorkerCmd(a),
		newHealthCmd(a),
		newQuickstartCmd(a),
		newGenerateCmd(a),
		newStatusCmd(a),
		newReviewCmd(a),
		newCatalogCmd(a),
		newDatasetsCmd(a),
		newImportCmd(a),
		newTrainCmd(a),
		newEvalCmd(a),
		newScoreCmd(a),
		newPipelineCmd(a),
		newScheduleCmd(a),
		newExportCmd(a),
		newLabelCmd(a),
	)
	return root
}

// resolveHome picks the home directory: flag, then $MLMFORGE_HOME, then the XDG
// data directory.
func resolveHome(flag string) (string, error) {
	h := flag
	if h == "" {
		h = os.Getenv("MLMFORGE_HOME")
	}
	if h == "" {
		if x := os.Getenv("XDG_DATA_HOME"); x != "" {
			h = filepath.Join(x, "mlmforge")
		} else {
			uh, err := os.UserHomeDir()
			if err != nil {
				return "", fmt.Errorf("find home directory (set --home or MLMFORGE_HOME): %w", err)
			}
			h = filepath.Join(uh, ".local", "share", "mlmforge")
		}
	}
	abs, err := filepath.Abs(h)
	if err != nil {
		return "", fmt.Errorf("--home %q: %w", h, err)
	}
	return abs, nil
}

// exactArgs is cobra.ExactArgs with an error that main treats as a usage error.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return &usageError{fmt.Errorf("%s: %w", cmd.CommandPath(), err)}
		}
		return nil
	}
}

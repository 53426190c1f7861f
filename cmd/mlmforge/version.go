package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=v0.1.0".
var version = "dev"

func newVersionCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the mlmforge version and the versions of its key dependencies",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintf(a.out, "mlmforge %s (%s %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			if bi, ok := debug.ReadBuildInfo(); ok {
				for _, d := range bi.Deps {
					switch d.Path {
					case "go.temporal.io/server", "go.temporal.io/sdk", "github.com/parquet-go/parquet-go", "github.com/ollama/ollama":
						fmt.Fprintf(a.out, "  %-36s %s\n", d.Path, d.Version)
					}
				}
			}
			return nil
		},
	}
}

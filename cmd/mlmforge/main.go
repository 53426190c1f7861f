// Command mlmforge is the one binary of the mlmforge pipeline orchestrator: it runs
// the embedded Temporal server and workers, browses the SLM-Bench task catalogs,
// and manages Parquet datasets.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/cyclecore/mlmforge/distill/nn"
)

func main() {
	// Training workers run under a soft memory limit sized to the graph
	// budget (nn.MemoryLimit); GOMEMLIMIT, when set, is the user's choice.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(nn.MemoryLimit())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd(os.Stdout, os.Stderr).ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mlmforge: "+err.Error())
		var ue *usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

package bench

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/cyclecore/mlmforge/activities"
	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/schemas"
	"github.com/cyclecore/mlmforge/worker"
	"github.com/cyclecore/mlmforge/workflows"
)

// BenchmarkGenerateEdgeIntent10k measures end-to-end generation through the
// embedded Temporal server: 10,000 EdgeIntent examples (50 classes) with the
// builtin teacher, from workflow start to committed dataset version.
func BenchmarkGenerateEdgeIntent10k(b *testing.B) {
	home := b.TempDir()
	srv, err := worker.StartDevServer(worker.ServerConfig{DBPath: filepath.Join(home, "temporal.db"), Namespaces: []string{"default"}})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Stop()
	ctx := context.Background()
	c, err := worker.Dial(ctx, worker.DialConfig{Address: srv.Address()})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	stop, err := worker.Start(c, worker.Config{Activities: &activities.Activities{Home: home, Identity: "bench"}})
	if err != nil {
		b.Fatal(err)
	}
	defer stop()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		in := workflows.DatasetInput{Spec: generator.Spec{Task: schemas.EdgeIntent, Variant: "50",
			Counts: map[string]int{"train": 9000, "test": 1000}, Teacher: "builtin", Seed: int64(100 + i)},
			Review: workflows.ReviewOptions{Policy: workflows.ReviewAuto}}
		start := time.Now()
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: workflows.TaskQueueWorkflows},
			workflows.DatasetWorkflowName, in)
		if err != nil {
			b.Fatal(err)
		}
		var res workflows.DatasetResult
		if err := run.Get(ctx, &res); err != nil {
			b.Fatal(err)
		}
		n := res.Counts["train"] + res.Counts["test"]
		if n != 10000 {
			b.Fatalf("generated %d examples, want 10000 (short cells: %v)", n, res.Short)
		}
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "examples/s")
	}
}

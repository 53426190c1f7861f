package bench

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/generator/ollama"
	"github.com/cyclecore/mlmforge/generator/ollamatest"
	"github.com/cyclecore/mlmforge/schemas"
)

// benchConcurrency is the number of requests in flight, as many as the
// generation workers a run keeps busy against one Ollama server.
const benchConcurrency = 8

// BenchmarkOllamaClient measures the OllamaTeacher's own overhead: streamed
// /api/chat requests against the fake server, which answers at once, so that
// requests/s is the client's ceiling (a real model answers far slower).
func BenchmarkOllamaClient(b *testing.B) {
	cat, err := schemas.Load()
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name string
		mode generator.Mode
		s    generator.Sample
	}{
		{"edgeintent-input", generator.LabelFirst, generator.Sample{
			Cell:   generator.Cell{Key: "timer_set", Task: schemas.EdgeIntent, Variant: "assistant-50", Taxonomy: "assistant-50", Class: "timer_set"},
			Target: []byte(`{"intent":"timer_set","slots":{"duration":"10 minutes"}}`),
			Slots:  map[string]string{"duration": "10 minutes"},
		}},
		{"edgejson-example", generator.TeacherLabels, generator.Sample{
			Cell: generator.Cell{Key: "ecommerce.order_summary", Task: schemas.EdgeJSON, Variant: "edgejson", SchemaID: "ecommerce.order_summary"},
		}},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			p, err := generator.RenderPrompt(cat, bc.mode, bc.s, "")
			if err != nil {
				b.Fatal(err)
			}
			srv := ollamatest.New(b)
			teacher, err := ollama.New(ollama.Config{Host: srv.URL, Model: ollamatest.DefaultModel})
			if err != nil {
				b.Fatal(err)
			}
			req := generator.Request{Mode: bc.mode, Sample: bc.s, Prompt: p, Seed: 1, Temperature: 0.7, MaxTokens: 512}
			var chunks int
			req.Progress = func(int) {} // as a heartbeating activity does
			if resp, err := teacher.Write(context.Background(), req); err != nil {
				b.Fatal(err)
			} else {
				chunks = resp.OutputTokens
			}
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			// A fixed pool rather than RunParallel, whose goroutine count
			// follows GOMAXPROCS.
			var next atomic.Int64
			var wg sync.WaitGroup
			for range benchConcurrency {
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) {
						if _, err := teacher.Write(context.Background(), req); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
			b.ReportMetric(float64(chunks), "chunks/req")
		})
	}
}

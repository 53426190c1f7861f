package datasets

import (
	"testing"

	"github.com/cyclecore/mlmforge/schemas"
)

const benchRows = 100_000

// BenchmarkWrite100k writes and commits a 100k-row EdgeIntent version.
func BenchmarkWrite100k(b *testing.B) {
	recs := exampleRecords(schemas.EdgeIntent, benchRows)
	s := openStore(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w, err := s.Create(schemas.EdgeIntent, "")
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < len(recs); i += 1000 {
			if err := w.Write(recs[i : i+1000]...); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := w.Commit(CommitInfo{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(benchRows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkRead100k scans every split of a 100k-row EdgeIntent version.
func BenchmarkRead100k(b *testing.B) {
	s := openStore(b)
	commitVersion(b, s, schemas.EdgeIntent, "v1", exampleRecords(schemas.EdgeIntent, benchRows))
	v, err := s.Version(schemas.EdgeIntent, "v1")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		n := 0
		for _, split := range v.Manifest().SplitNames() {
			if err := v.Scan(split, func(Record) error { n++; return nil }); err != nil {
				b.Fatal(err)
			}
		}
		if n != benchRows {
			b.Fatalf("read %d rows, want %d", n, benchRows)
		}
	}
	b.ReportMetric(float64(benchRows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// Package report writes the evaluation report of one or more eval jobs (a
// model scored on one dataset split under one variant) into a directory:
//
//   - report.md: the SLM-Bench seed paper's Tables 1-4 (overview, EdgeJSON,
//     EdgeIntent, EdgeFuncCall), a cross-platform table for the machine the
//     jobs ran on, constrained vs unconstrained decoding side by side, the
//     figures and the lineage (datasets, checkpoints, commit, machine);
//   - results.json: the same numbers, machine-readable (see File);
//   - predictions/<job key>.parquet: one row per example (see PredictionRow),
//     readable with DuckDB: SELECT * FROM 'predictions/*.parquet' WHERE NOT correct;
//   - accuracy_vs_size.png, latency.png and confusion/<job key>.png (.csv)
//     for every EdgeIntent job.
//
// Table renders the compact text table that `mlmforge eval` prints. The
// package is plain Go: it never imports Temporal, and it reads nothing from
// the environment (DetectMachine reads /proc/cpuinfo only when called).
package report

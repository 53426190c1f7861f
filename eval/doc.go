// Package eval scores model predictions on the three SLM-Bench tasks:
// EdgeJSON (exact match after canonicalization, field F1, schema
// compliance, each per complexity level), EdgeIntent (top-1, top-5,
// macro-F1, confusion matrix) and EdgeFuncCall (function and call exact
// match, parameter F1, a BFCL-style AST checker, error recovery and
// multi-turn success checked by executing the calls against the catalog's
// mock). It also aggregates per-example cost (latency percentiles, tokens
// per second).
//
// Every metric is defined in docs/metrics.md. Model output is untrusted:
// garbage, truncated or huge output scores as a failure with the raw text
// kept, never as a panic or an error. Errors are reserved for broken gold
// data and mismatched inputs. The package is plain Go and never imports
// Temporal.
package eval

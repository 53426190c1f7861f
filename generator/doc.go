// Package generator synthesizes SLM-Bench examples: it samples gold targets from
// the catalogs (label first), asks a Teacher to write the natural-language input,
// validates the result (schema, grounding, mock execution, length, dedup) and
// counts every rejection by reason. It never imports Temporal.
//
// The package holds what every teacher shares: the Teacher interface and its
// Request/Response (types.go), plans and quotas (plan*.go), the target sampler
// (sample*.go), prompt rendering and answer parsing (prompts*.go), the batch
// Runner (batch.go, roundtrip.go), dedup and merging of batches, the mock world
// that executes function calls (mock.go) and the Validator interface the
// Runner checks answers with (validation.go). Teachers and validators live in
// sub-packages:
//
//	generator/builtin    the deterministic template teacher (no model), its phrase data, builtin.Generate
//	generator/ollama     the Ollama teacher and its soft labeler (log probabilities of class codes)
//	generator/validate   the validators: schema, label, length, leaks, mock execution, grounding
//	generator/softlabel  the soft-label interface, class codes and the annotation of records
//	generator/lexicon    value and template lists, and the held-out split of each list
//	generator/ollamatest an httptest server speaking Ollama's API, for tests
package generator

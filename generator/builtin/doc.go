// Package builtin is the builtin teacher: it writes the input of a sampled
// target from phrase templates and rules (teacher.go, intent.go, funccall.go,
// json.go and the document renderers), without a model, deterministically
// from the request's seed. Its phrase lists are data (phrases.json, slots.json,
// documents.json) embedded in the binary. Generate runs a whole spec with it in
// process, for tests, benchmarks and examples that need realistic records
// without a Temporal server.
package builtin

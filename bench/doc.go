// Package bench holds benchmarks that cut across packages, such as the Ollama
// client against the fake Ollama server, and the measurements reported in
// BENCHMARKS.md. They are benchmarks, never timed assertions: run them with
//
//	go test -run '^$' -bench . ./bench/
package bench

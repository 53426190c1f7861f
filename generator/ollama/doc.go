// Package ollama is the teacher backed by an Ollama server: it renders the
// generator's prompts, asks for structured output in the answer's JSON schema,
// retries transient failures with backoff (retry.go) and turns unusable
// answers into generator.OutputError rejections. SoftLabeler reads a model's
// class distribution from the log probabilities of its one-token answer.
package ollama

// Package validate holds the validators that decide which teacher answers
// enter a dataset: JSON and schema or label checks, input length and prompt
// leaks, mock execution of function calls, and grounding of every target
// value in the input (grounding.go, on the text readers of normalize.go).
//
// Its API is New(catalog, Config) returning a *Validator, which implements
// generator.Validator; the Validation and Rejection it returns are the
// generator package's. Everything a teacher wrote is untrusted.
package validate

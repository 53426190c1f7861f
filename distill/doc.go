// Package distill trains the students: it ties the dataset store, the tokenizer
// (distill/tokenizer), the student architectures (distill/model, distill/nn) and
// the training loop (distill/train) into one call that the training activity and
// the CLI share. It never imports Temporal.
package distill

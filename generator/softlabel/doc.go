// Package softlabel gives EdgeIntent records teacher soft labels, the class
// distributions that knowledge distillation trains students on. A Labeler
// answers one utterance (builtin.Teacher one-hot, ollama.SoftLabeler from log
// probabilities); Annotate labels the records of a dataset concurrently and
// checks every distribution; ClassCodes are the one-token answer codes a model
// picks a class with.
package softlabel

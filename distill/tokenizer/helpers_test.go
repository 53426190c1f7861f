package tokenizer

import (
	"fmt"
	"iter"
	"maps"
)

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

func mapsKeys[K comparable, V any](m map[K]V) iter.Seq[K] { return maps.Keys(m) }

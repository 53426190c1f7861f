package atomicfile

import "errors"

// errNoExchange says the OS or filesystem cannot swap two directories in one step;
// ReplaceDir then moves the old directory aside first.
var errNoExchange = errors.New("rename exchange not supported")

// exchangeDirs is exchange; the crash test replaces it to exercise the fallback.
var exchangeDirs = exchange

//go:build !linux

package atomicfile

// exchange reports that directories cannot be swapped in one step here.
func exchange(a, b string) error { return errNoExchange }

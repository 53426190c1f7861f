//go:build !linux

package nn

// physicalMemory is unknown off Linux: the graph budget takes its maximum.
func physicalMemory() int64 { return 0 }

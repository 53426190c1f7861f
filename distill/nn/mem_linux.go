package nn

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// physicalMemory is the memory this process may use: the machine's RAM, or the
// cgroup's limit (a container) when that is lower; 0 when unknown.
func physicalMemory() int64 {
	var si syscall.Sysinfo_t
	if err := syscall.Sysinfo(&si); err != nil {
		return 0
	}
	total := int64(si.Totalram) * int64(si.Unit)
	for _, f := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && v > 0 && v < total {
			total = v // "max" (no limit) does not parse
		}
	}
	return total
}

//go:build unix

package schema

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user + system, all threads, GC included) this
// process has used: what "CPU per job" means, whatever else runs on the
// machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

//go:build unix

package bench

import (
	"os"
	"runtime"
	"syscall"
	"time"
)

// usage returns a finished child's peak RSS in KiB and its CPU time.
func usage(ps *os.ProcessState) (rssKB int64, cpu time.Duration) {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, ps.UserTime() + ps.SystemTime()
	}
	rss := int64(ru.Maxrss)
	if runtime.GOOS == "darwin" {
		rss /= 1024 // bytes there, KiB on Linux and the BSDs
	}
	return rss, ps.UserTime() + ps.SystemTime()
}

// processCPU is the CPU time (user + system, all threads) this process has
// used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

//go:build !linux

package reliability

import (
	"runtime"
	"syscall"
)

// maxRSSKiB is getrusage's peak resident set: bytes on macOS, KiB on the
// BSDs.
func maxRSSKiB(ru *syscall.Rusage) int64 {
	if runtime.GOOS == "darwin" {
		return int64(ru.Maxrss) / 1024
	}
	return int64(ru.Maxrss)
}

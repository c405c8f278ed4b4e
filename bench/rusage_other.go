//go:build !unix

package bench

import (
	"os"
	"time"
)

// usage cannot read a peak RSS here; CPU time is portable.
func usage(ps *os.ProcessState) (rssKB int64, cpu time.Duration) {
	return 0, ps.UserTime() + ps.SystemTime()
}

// processCPU is not available here; callers fall back to wall time.
func processCPU() time.Duration { return 0 }

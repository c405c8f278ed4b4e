package reliability

import "syscall"

// maxRSSKiB is getrusage's peak resident set: in KiB on Linux.
func maxRSSKiB(ru *syscall.Rusage) int64 { return ru.Maxrss }

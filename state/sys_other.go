//go:build !unix

package state

import "errors"

// These never match on platforms without the errno values; the messages
// then just lack the hint.
var (
	errUnsupportedSync = errors.New("state: directory sync unsupported")
	errNoSpace         = errors.New("state: no space left")
	errReadOnlyFS      = errors.New("state: read-only file system")
)

// processState cannot tell here; a lock is then never called stale, only
// reported with its owner.
func processState(pid int) liveness { return unknown }

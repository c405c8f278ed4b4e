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

// No O_NOFOLLOW here: the Lstat before every open refuses links instead.
const openNoFollow = 0

func isLinkLoop(error) bool { return false }

//go:build !unix

package state

import "testing"

func runAsNobody(t *testing.T, dir, ro string) { t.Skip("needs a unix system") }

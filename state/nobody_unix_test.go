//go:build unix

package state

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func runAsNobody(t *testing.T, dir, ro string) {
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Skip("cannot copy the test binary:", err)
	}
	bin := filepath.Join(dir, "state.test")
	if err := os.WriteFile(bin, self, 0o755); err != nil {
		t.Fatal(err)
	}
	// The child must be able to reach its files.
	for d := dir; d != filepath.Dir(d) && strings.HasPrefix(d, os.TempDir()) && d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "-test.run=^$")
	cmd.Env = append(os.Environ(), "STATE_TEST_READONLY_DIR="+ro)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		t.Errorf("as nobody:\n%s", out)
	case err != nil:
		t.Skip("cannot run a child as nobody:", err)
	}
}

//go:build linux

package lease

import (
	"os"
	"strings"
)

// machineID is the kernel's boot id and this process's pid namespace: two
// processes that share both see the same pids. A hostname alone does not
// tell (containers on two machines may share one; a pid in one container
// means nothing in another).
func machineID() string {
	boot, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	ns, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(boot)) + "/" + ns
}

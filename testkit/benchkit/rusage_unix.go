//go:build unix

package benchkit

import (
	"syscall"
	"time"
)

// ProcessCPU is the CPU time (user + system, every thread: the garbage
// collector's included) this process has used so far (getrusage
// RUSAGE_SELF). Take the difference across the span measured.
func ProcessCPU() time.Duration { return rusage(syscall.RUSAGE_SELF) }

// ChildrenCPU is the CPU time used by this process's children that have
// exited and been waited for (getrusage RUSAGE_CHILDREN); a running
// child's is PidCPU's.
func ChildrenCPU() time.Duration { return rusage(syscall.RUSAGE_CHILDREN) }

func rusage(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

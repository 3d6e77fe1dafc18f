package access_test

import (
	"syscall"
	"time"
)

// threadCPUTime is the CPU time the calling OS thread has used (lock the
// goroutine to its thread first): what an operation costs, without the time
// it waits for a CPU on a busy machine.
func threadCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_THREAD, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

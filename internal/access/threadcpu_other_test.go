//go:build !linux

package access_test

import "time"

// threadCPUTime is not measured here: benchmarks report 0.
func threadCPUTime() time.Duration { return 0 }

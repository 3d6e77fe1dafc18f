package access_test

import (
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/access/accesstest"
)

var sizes = []struct {
	name string
	in   func() access.SpaceInput
}{
	{"small", accesstest.Small},
	{"medium", accesstest.Medium},
	{"large", accesstest.Large},
}

// BenchmarkCompile compiles a whole Space; it reports the heap the compiled
// snapshot retains, in MiB.
func BenchmarkCompile(b *testing.B) {
	for _, size := range sizes {
		b.Run(size.name, func(b *testing.B) {
			mib, snap := retainedMiB(size.in)
			in := size.in()
			b.ResetTimer()
			for range b.N {
				access.Compile(in)
			}
			b.StopTimer()
			b.ReportMetric(mib, "MiB")
			b.ReportMetric(float64(snap.Stats().Rules), "rules")
		})
	}
}

// retainedMiB is the heap a compiled snapshot keeps alive, its share of the
// input's strings included: measured from a heap that holds neither, after
// the rest of the input is garbage.
func retainedMiB(gen func() access.SpaceInput) (float64, *access.Snapshot) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	snap := compileFresh(gen)
	runtime.GC()
	runtime.ReadMemStats(&after)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / (1 << 20), snap
}

//go:noinline
func compileFresh(gen func() access.SpaceInput) *access.Snapshot {
	snap, _ := access.Compile(gen())
	return snap
}

// BenchmarkCheck times a realistic mix of 8,192 checks one by one; an op is
// one pass over the mix, so that even -benchtime=3x gathers enough
// latencies. It reports the mean per check and the 50th and 99th percentiles.
func BenchmarkCheck(b *testing.B) {
	for _, size := range sizes {
		b.Run(size.name, func(b *testing.B) {
			in := size.in()
			snap, _ := access.Compile(in)
			reqs := accesstest.Requests(in, 8192, 1)
			lat := make([]time.Duration, 0, b.N*len(reqs))
			b.ResetTimer()
			for range b.N {
				for _, req := range reqs {
					start := time.Now()
					if _, err := snap.Check(req); err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(start))
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(len(lat)), "ns/check")
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
			b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
		})
	}
}

// BenchmarkWhoCan lists the granting groups of an object, and their
// members, in the large Space (every one of its 10,000 groups is asked).
func BenchmarkWhoCan(b *testing.B) {
	b.Run("large", func(b *testing.B) {
		in := accesstest.Large()
		snap, _ := access.Compile(in)
		reqs := accesstest.Requests(in, 256, 2)
		grants := 0
		b.ResetTimer()
		for i := range b.N {
			r := reqs[i%len(reqs)]
			r.User, r.Groups = "", nil
			res, err := snap.WhoCan(r)
			if err != nil {
				b.Fatal(err)
			}
			grants += len(res.Grants)
		}
		b.ReportMetric(float64(grants)/float64(b.N), "grants/op")
	})
}

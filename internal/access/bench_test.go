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

// BenchmarkWhoCan asks who may do what in the large Space (10,000 groups,
// 50,000 users), a mix of 256 questions. "page-100" pages through each
// answer 100 grants at a time, as the decision API serves it: an op is one
// page. It reports the pages' wall-clock 50th and 99th percentiles, the
// thread's CPU time per page (on a busy machine the wall clock's tail is
// the scheduler's, not the page's), and with -benchmem the bytes and
// allocations per page. Measured fairly: the index is built and every
// question paged through once before timing (warm-up), the setup's garbage
// is collected first so that no page pays for it, and the pages cycle
// through all questions however many b.N asks. "whole" builds each whole
// answer at once.
func BenchmarkWhoCan(b *testing.B) {
	in := accesstest.Large()
	snap, _ := access.Compile(in)
	reqs := accesstest.Requests(in, 256, 2)
	for i := range reqs {
		reqs[i].User, reqs[i].Groups = "", nil
	}
	pages := 0
	for _, req := range reqs { // warm-up: the who-can index and the caches
		for from := 0; ; pages++ {
			_, next, err := snap.WhoCanPage(req, from, 100)
			if err != nil {
				b.Fatal(err)
			}
			if from = next; next == 0 {
				break
			}
		}
	}
	b.Run("large/page-100", func(b *testing.B) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		grants := 0
		lat := make([]time.Duration, 0, b.N)
		cpu := make([]time.Duration, 0, b.N)
		q, from := 0, 0
		runtime.GC()
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			start, startCPU := time.Now(), threadCPUTime()
			res, next, err := snap.WhoCanPage(reqs[q], from, 100)
			lat = append(lat, time.Since(start))
			cpu = append(cpu, threadCPUTime()-startCPU)
			if err != nil {
				b.Fatal(err)
			}
			grants += len(res.Grants)
			if from = next; next == 0 {
				q = (q + 1) % len(reqs)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(grants)/float64(b.N), "grants/page")
		b.ReportMetric(float64(pages), "pages-in-mix")
		reportPercentiles(b, lat)
		slices.Sort(cpu)
		b.ReportMetric(float64(cpu[len(cpu)/2].Nanoseconds()), "p50-cpu-ns")
		b.ReportMetric(float64(cpu[len(cpu)*99/100].Nanoseconds()), "p99-cpu-ns")
	})
	b.Run("large/whole", func(b *testing.B) {
		grants := 0
		lat := make([]time.Duration, 0, b.N)
		runtime.GC()
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			start := time.Now()
			res, err := snap.WhoCan(reqs[i%len(reqs)])
			if err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
			grants += len(res.Grants)
		}
		b.StopTimer()
		b.ReportMetric(float64(grants)/float64(b.N), "grants/op")
		reportPercentiles(b, lat)
	})
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}

// BenchmarkDiff compares two states of the large Space: a pull request's
// worth of changes (a rule's level, a folder rule added, members added and
// removed, a flag, an IdP group mapped), and every custom group's
// universal level on apps changed (every subject asked about every app and
// app folder their rules name), summarised and streamed. It reports the
// changes found and, for the large ones, the CPU time per op (the
// process's, garbage collection included: on a shared machine it is the
// steadier figure). The setup's garbage is collected before each is timed.
func BenchmarkDiff(b *testing.B) {
	in := accesstest.Large()
	from, _ := access.Compile(in)
	pr := in
	pr.Rules = slices.Clone(in.Rules)
	pr.Groups = slices.Clone(in.Groups)
	for i := range 20 {
		g := &pr.Groups[4+i*97]
		g.Members = append(slices.Clone(g.Members), access.Member{Email: accesstest.UserEmail(i * 13)})
		g.Additional.AuditLog = !g.Additional.AuditLog
		pr.Rules[i*31].Level = access.Own
	}
	pr.Groups[200].Members = pr.Groups[200].Members[1:]
	pr.Rules = append(pr.Rules, access.Rule{Name: "added", Group: pr.Groups[300].Name, Level: access.Edit,
		Targets: []access.RuleTarget{{Kind: access.App, Folder: true, Name: "f0-1/f1-2"}}})
	pr.SSO.RoleMappings = append(slices.Clone(in.SSO.RoleMappings), access.RoleMapping{IdPGroup: "auditors", Group: pr.Groups[400].Name})
	prSnap, _ := access.Compile(pr)
	b.Run("large/pull-request", func(b *testing.B) {
		changes := 0
		runtime.GC() // the setup's garbage is not the diff's
		b.ResetTimer()
		for range b.N {
			changes = len(access.Diff(from, prSnap).Changes)
		}
		b.ReportMetric(float64(changes), "changes")
	})
	all := in
	all.Groups = slices.Clone(in.Groups)
	for i := 4; i < len(all.Groups); i++ {
		all.Groups[i].Universal.Apps = (all.Groups[i].Universal.Apps + 1) % 4
	}
	allSnap, _ := access.Compile(all)
	// What `governor diff` does by default: the summary, streamed.
	b.Run("large/every-group/summary", func(b *testing.B) {
		total := 0
		runtime.GC()
		b.ResetTimer()
		cpu := cpuTime()
		for range b.N {
			total = access.SummarizeDiff(from, allSnap, 20, 10).Total
		}
		b.ReportMetric(float64(total), "changes")
		b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
	})
	// `governor diff --all`: every change, streamed.
	b.Run("large/every-group/stream", func(b *testing.B) {
		total := 0
		runtime.GC()
		b.ResetTimer()
		cpu := cpuTime()
		for range b.N {
			total = 0
			_ = access.DiffEach(from, allSnap, func(access.Change) error { total++; return nil })
		}
		b.ReportMetric(float64(total), "changes")
		b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
	})
}

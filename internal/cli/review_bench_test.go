package cli

import (
	"bufio"
	"encoding/csv"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/access/accesstest"
)

// BenchmarkReview writes the large Space's access review (10,000 groups,
// 50,000 users) as CSV, as `governor review` does, and reports the rows
// and the peak heap (the compiled model included) while it runs, sampled
// every 10 ms.
func BenchmarkReview(b *testing.B) {
	snap, _ := access.Compile(accesstest.Large())
	stamp := reviewStamp{Space: snap.Space(), Revision: snap.Revision(), At: snap.At()}
	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var m runtime.MemStats
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	rows := 0
	b.ResetTimer()
	for range b.N {
		counter := &countingWriter{w: io.Discard}
		w := bufio.NewWriterSize(counter, 64<<10)
		rw := &csvReview{out: w, w: csv.NewWriter(w)}
		n := 0
		if err := writeReview(&rowCounter{reviewWriter: rw, n: &n}, snap, "", stamp); err != nil {
			b.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		rows = n
		b.ReportMetric(float64(counter.n)/(1<<20), "MiB-written")
	}
	b.StopTimer()
	close(stop)
	wg.Wait()
	b.ReportMetric(float64(rows), "rows")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
}

type rowCounter struct {
	reviewWriter
	n *int
}

func (r *rowCounter) row(row access.ReviewRow) error {
	*r.n++
	return r.reviewWriter.row(row)
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.w.Write(p)
}

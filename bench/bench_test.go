package bench

import (
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/casbin/casbin/v2"

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

// fixture is one generated Space compiled by Governor, with the checks to
// answer; casbinFixture the same Space loaded into Casbin. Loading is not
// timed and is done once per size.
type fixture struct {
	in      access.SpaceInput
	snap    *access.Snapshot
	reqs    []access.Request
	compile time.Duration
}

type casbinFixture struct {
	enforcer *casbin.Enforcer
	reqs     []CasbinRequest
	load     time.Duration
}

var (
	fixtures       = map[string]*fixture{}
	casbinFixtures = map[string]*casbinFixture{}
)

// checksPerSpace is the size of the mix each engine cycles through.
const checksPerSpace = 4096

// requests is the realistic mix of accesstest, kept to what the Casbin
// encoding has (see the package comment): checks on objects and folders,
// without environments or IdP groups.
func requests(in access.SpaceInput, n int) []access.Request {
	out := make([]access.Request, 0, n)
	for seed := uint64(1); len(out) < n && seed <= 100; seed++ {
		for _, req := range accesstest.Requests(in, n, seed) {
			req.Environment, req.Groups = "", nil
			if _, err := ToCasbin(in.Name, req); err == nil && len(out) < n {
				out = append(out, req)
			}
		}
	}
	return out
}

func load(name string, gen func() access.SpaceInput) *fixture {
	if f, ok := fixtures[name]; ok {
		return f
	}
	f := &fixture{in: gen()}
	start := time.Now()
	f.snap, _ = access.Compile(f.in)
	f.compile = time.Since(start)
	f.reqs = requests(f.in, checksPerSpace)
	fixtures[name] = f
	return f
}

func loadCasbin(tb testing.TB, name string, gen func() access.SpaceInput) (*fixture, *casbinFixture) {
	tb.Helper()
	f := load(name, gen)
	if c, ok := casbinFixtures[name]; ok {
		return f, c
	}
	c := &casbinFixture{}
	start := time.Now()
	e, err := NewCasbin(f.in)
	if err != nil {
		tb.Fatal(err)
	}
	c.enforcer, c.load = e, time.Since(start)
	for _, r := range f.reqs {
		cr, err := ToCasbin(f.in.Name, r)
		if err != nil {
			tb.Fatal(err)
		}
		c.reqs = append(c.reqs, cr)
	}
	casbinFixtures[name] = c
	return f, c
}

// The Casbin encoding must answer the permissive superset of Governor's
// model: whatever Governor allows, Casbin allows too (they differ only where
// an object rule narrows a folder rule inside one group). And both must agree
// on what each action needs.
func TestCasbinEncodingAllowsWhatGovernorAllows(t *testing.T) {
	f, c := loadCasbin(t, "small", accesstest.Small)
	agree, allowed := 0, 0
	for i, req := range f.reqs {
		d, err := f.snap.Check(req)
		if err != nil {
			t.Fatalf("%+v: %v", req, err)
		}
		if d.Required != requiredLevel[req.Action] {
			t.Fatalf("%s needs %s in Governor, %s in the Casbin encoding", req.Action, d.Required, requiredLevel[req.Action])
		}
		ok, err := c.reqs[i].Enforce(c.enforcer)
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed && !ok {
			t.Fatalf("Governor allows %+v (%s) and Casbin does not: %+v", req, d.Message, c.reqs[i])
		}
		if d.Allowed {
			allowed++
		}
		if d.Allowed == ok {
			agree++
		}
	}
	if allowed == 0 || allowed == len(f.reqs) {
		t.Fatalf("the mix should hold both answers: %d of %d allowed", allowed, len(f.reqs))
	}
	// Narrowing is the exception in the generated Spaces, so the two mostly agree.
	if agree*10 < len(f.reqs)*9 {
		t.Fatalf("Casbin and Governor agree on only %d of %d checks", agree, len(f.reqs))
	}
}

// BenchmarkCasbin: an op is one Casbin Enforce over the mix (Casbin is slow
// enough that a few ops are a fair sample); ns/check is the mean.
func BenchmarkCasbin(b *testing.B) {
	for _, size := range sizes {
		b.Run(size.name, func(b *testing.B) {
			_, c := loadCasbin(b, size.name, size.in)
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				start := time.Now()
				if _, err := c.reqs[i%len(c.reqs)].Enforce(c.enforcer); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			report(b, lat)
			b.ReportMetric(c.load.Seconds(), "load-s")
		})
	}
}

// BenchmarkGovernor: an op is one pass of Checks over the same mix of 4,096
// on the same Space (so that -benchtime=3x still gathers enough latencies);
// ns/check is the mean, to compare with Casbin's.
func BenchmarkGovernor(b *testing.B) {
	// Casbin's large heap would make every garbage collection here slower.
	clear(casbinFixtures)
	runtime.GC()
	for _, size := range sizes {
		b.Run(size.name, func(b *testing.B) {
			f := load(size.name, size.in)
			lat := make([]time.Duration, 0, b.N*len(f.reqs))
			b.ResetTimer()
			for range b.N {
				for _, req := range f.reqs {
					start := time.Now()
					if _, err := f.snap.Check(req); err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(start))
				}
			}
			b.StopTimer()
			report(b, lat)
			b.ReportMetric(f.compile.Seconds(), "load-s")
		})
	}
}

// report gives the mean per check and the 50th and 99th percentiles.
func report(b *testing.B, lat []time.Duration) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(len(lat)), "ns/check")
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}

package bench

import (
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

// fixture is one generated Space loaded into both engines, with the checks
// both answer. Loading is not timed and is done once per size.
type fixture struct {
	in                  access.SpaceInput
	snap                *access.Snapshot
	enforcer            *casbin.Enforcer
	reqs                []access.Request
	casbin              []CasbinRequest
	loadCasbin, compile time.Duration
}

var fixtures = map[string]*fixture{}

// checksPerSpace is the size of the mix each engine cycles through.
const checksPerSpace = 4096

// requests is the realistic mix of accesstest, without environments: the
// Casbin encoding has none (see the package comment).
func requests(in access.SpaceInput, n int) []access.Request {
	reqs := accesstest.Requests(in, n, 1)
	for i := range reqs {
		reqs[i].Environment = ""
	}
	return reqs
}

func load(tb testing.TB, name string, gen func() access.SpaceInput) *fixture {
	tb.Helper()
	if f, ok := fixtures[name]; ok {
		return f
	}
	f := &fixture{in: gen()}
	start := time.Now()
	f.snap, _ = access.Compile(f.in)
	f.compile = time.Since(start)
	start = time.Now()
	e, err := NewCasbin(f.in)
	if err != nil {
		tb.Fatal(err)
	}
	f.enforcer, f.loadCasbin = e, time.Since(start)
	f.reqs = requests(f.in, checksPerSpace)
	for _, r := range f.reqs {
		cr, err := ToCasbin(f.in.Name, r)
		if err != nil {
			tb.Fatal(err)
		}
		f.casbin = append(f.casbin, cr)
	}
	fixtures[name] = f
	return f
}

// The Casbin encoding must answer the permissive superset of Governor's
// model: whatever Governor allows, Casbin allows too (they differ only where
// an object rule narrows a folder rule inside one group). And both must agree
// on what each action needs.
func TestCasbinEncodingAllowsWhatGovernorAllows(t *testing.T) {
	f := load(t, "small", accesstest.Small)
	agree, allowed := 0, 0
	for i, req := range f.reqs {
		d, err := f.snap.Check(req)
		if err != nil {
			t.Fatalf("%+v: %v", req, err)
		}
		if d.Required != requiredLevel[req.Action] {
			t.Fatalf("%s needs %s in Governor, %s in the Casbin encoding", req.Action, d.Required, requiredLevel[req.Action])
		}
		ok, err := f.casbin[i].Enforce(f.enforcer)
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed && !ok {
			t.Fatalf("Governor allows %+v (%s) and Casbin does not: %+v", req, d.Message, f.casbin[i])
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

// BenchmarkCasbin: one Casbin Enforce per op over the mix; ns/op is the mean.
func BenchmarkCasbin(b *testing.B) {
	for _, size := range sizes {
		b.Run(size.name, func(b *testing.B) {
			f := load(b, size.name, size.in)
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				start := time.Now()
				if _, err := f.casbin[i%len(f.casbin)].Enforce(f.enforcer); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			report(b, lat)
			b.ReportMetric(f.loadCasbin.Seconds(), "load-s")
		})
	}
}

// BenchmarkGovernor: one Check per op over the same mix on the same Space.
func BenchmarkGovernor(b *testing.B) {
	for _, size := range sizes {
		b.Run(size.name, func(b *testing.B) {
			f := load(b, size.name, size.in)
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				start := time.Now()
				if _, err := f.snap.Check(f.reqs[i%len(f.reqs)]); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			report(b, lat)
			b.ReportMetric(f.compile.Seconds(), "load-s")
		})
	}
}

func report(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}

package bench

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	v1 "github.com/authzed/authzed-go/proto/authzed/api/v1"
	"github.com/casbin/casbin/v2"
	"github.com/open-policy-agent/opa/v1/ast"

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

// checksPerSpace is the size of the mix every engine answers.
const checksPerSpace = 4096

// requests is the realistic mix of accesstest, kept to what every encoding
// has (Casbin's has no environments and one subject per check): checks on
// objects and folders, without environments or IdP groups.
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

// checker answers the requests of the mix it was loaded with, by index, so
// that translating a request into the engine's terms is not timed.
type checker interface {
	check(ctx context.Context, i int) (bool, error)
	close()
}

// engine loads a Space (and the mix it will be asked) into one engine.
type engine struct {
	name string
	load func(ctx context.Context, in access.SpaceInput, reqs []access.Request) (checker, error)
	// limit caps, by Space size, how much of the mix is verified and timed
	// (0: all of it), for an engine too slow to answer it all in a few seconds.
	limit map[string]int
}

var engines = []engine{
	{name: "Governor", load: loadGovernor},
	{name: "OPA", load: loadOPA},
	// A SpiceDB check costs ~2 ms on the small Space, ~0.1 s on the medium
	// one and ~2 s on the large one (its memory datastore scans), and a
	// Casbin check ~10 ms and ~110 ms: a sample of the mix gives their mean.
	{name: "SpiceDB", load: loadSpiceDB, limit: map[string]int{"small": 1024, "medium": 64, "large": 8}},
	{name: "Casbin", load: loadCasbin, limit: map[string]int{"medium": 256, "large": 32}},
}

type governorChecker struct {
	snap *access.Snapshot
	reqs []access.Request
}

func loadGovernor(_ context.Context, in access.SpaceInput, reqs []access.Request) (checker, error) {
	snap, problems := access.Compile(in)
	if len(problems) > 0 {
		return nil, fmt.Errorf("the generated Space has problems: %v", problems)
	}
	return &governorChecker{snap: snap, reqs: reqs}, nil
}

func (g *governorChecker) check(_ context.Context, i int) (bool, error) {
	d, err := g.snap.Check(g.reqs[i])
	return d.Allowed, err
}

func (*governorChecker) close() {}

type opaChecker struct {
	opa    *OPA
	inputs []ast.Value
}

func loadOPA(ctx context.Context, in access.SpaceInput, reqs []access.Request) (checker, error) {
	o, err := NewOPA(ctx, in)
	if err != nil {
		return nil, err
	}
	c := &opaChecker{opa: o, inputs: make([]ast.Value, len(reqs))}
	for i, r := range reqs {
		if c.inputs[i], err = OPAInput(r); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (o *opaChecker) check(ctx context.Context, i int) (bool, error) {
	return o.opa.Allowed(ctx, o.inputs[i])
}

func (*opaChecker) close() {}

type spiceChecker struct {
	db   *SpiceDB
	reqs []*v1.CheckPermissionRequest
}

func loadSpiceDB(ctx context.Context, in access.SpaceInput, reqs []access.Request) (checker, error) {
	db, err := NewSpiceDB(ctx, in, reqs)
	if err != nil {
		return nil, err
	}
	c := &spiceChecker{db: db, reqs: make([]*v1.CheckPermissionRequest, len(reqs))}
	for i, r := range reqs {
		if c.reqs[i], err = SpiceDBCheck(r); err != nil {
			_ = db.Close()
			return nil, err
		}
	}
	return c, nil
}

func (s *spiceChecker) check(ctx context.Context, i int) (bool, error) {
	return s.db.Allowed(ctx, s.reqs[i])
}

func (s *spiceChecker) close() { _ = s.db.Close() }

type casbinChecker struct {
	enforcer *casbin.Enforcer
	reqs     []CasbinRequest
}

func loadCasbin(_ context.Context, in access.SpaceInput, reqs []access.Request) (checker, error) {
	e, err := NewCasbin(in)
	if err != nil {
		return nil, err
	}
	c := &casbinChecker{enforcer: e, reqs: make([]CasbinRequest, len(reqs))}
	for i, r := range reqs {
		if c.reqs[i], err = ToCasbin(in.Name, r); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *casbinChecker) check(_ context.Context, i int) (bool, error) {
	r := c.reqs[i]
	return c.enforcer.Enforce(r.User, r.Space, r.Object, r.Folder, r.Level)
}

func (*casbinChecker) close() {}

// agreement is how an engine's answers compare with Governor's.
type agreement struct {
	checks, allowed int
	// falseAllows: the engine allows what Governor denies; falseDenies the reverse.
	falseAllows, falseDenies []access.Request
}

func compare(ctx context.Context, snap *access.Snapshot, c checker, reqs []access.Request) (agreement, error) {
	a := agreement{checks: len(reqs)}
	for i, req := range reqs {
		d, err := snap.Check(req)
		if err != nil {
			return a, fmt.Errorf("governor: %+v: %w", req, err)
		}
		got, err := c.check(ctx, i)
		if err != nil {
			return a, fmt.Errorf("%+v: %w", req, err)
		}
		switch {
		case d.Allowed && !got:
			a.falseDenies = append(a.falseDenies, req)
		case !d.Allowed && got:
			a.falseAllows = append(a.falseAllows, req)
		}
		if d.Allowed {
			a.allowed++
		}
	}
	return a, nil
}

// BenchmarkEngines loads each generated Space into every engine and times
// the same mix of checks, one by one; an op is one pass over the mix (or the
// engine's sample of it). Before timing, each engine's answers are compared
// with Governor's on the checks it is timed on. Reported per engine:
// ns/check (the mean), p50-ns, p99-ns, load-s (loading the Space and the
// mix's objects), retained-MiB (the heap the loaded engine keeps), checks
// (the size of its sample of the mix) and the checks of that sample it
// answers differently from Governor (false-allows, false-denies).
func BenchmarkEngines(b *testing.B) {
	for _, size := range sizes {
		b.Run(size.name, func(b *testing.B) {
			in := size.in()
			reqs := requests(in, checksPerSpace)
			ref, _ := access.Compile(in)
			for _, eng := range engines {
				b.Run(eng.name, func(b *testing.B) {
					n := len(reqs)
					if l := eng.limit[size.name]; l > 0 && l < n {
						n = l
					}
					benchEngine(b, eng, in, reqs[:n], ref)
				})
			}
		})
	}
}

func benchEngine(b *testing.B, eng engine, in access.SpaceInput, reqs []access.Request, ref *access.Snapshot) {
	ctx := b.Context()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	c, err := eng.load(ctx, in, reqs)
	if err != nil {
		b.Fatal(err)
	}
	load := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	defer c.close()

	a, err := compare(ctx, ref, c, reqs)
	if err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, 4*len(reqs))
	for b.Loop() {
		for i := range reqs {
			start := time.Now()
			if _, err := c.check(ctx, i); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
		}
	}
	report(b, lat)
	b.ReportMetric(load.Seconds(), "load-s")
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/(1<<20), "retained-MiB")
	b.ReportMetric(float64(len(reqs)), "checks")
	b.ReportMetric(float64(len(a.falseAllows)), "false-allows")
	b.ReportMetric(float64(len(a.falseDenies)), "false-denies")
	runtime.KeepAlive(c)
}

// report gives the mean per check and the 50th and 99th percentiles.
func report(b *testing.B, lat []time.Duration) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(len(lat)), "ns/check")
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}

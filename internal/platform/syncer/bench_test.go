package syncer_test

import (
	"context"

	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/access/accesstest"
	"github.com/governor-dev/governor/internal/platform"
	"github.com/governor-dev/governor/internal/platform/emulator"
	"github.com/governor-dev/governor/internal/platform/retool"
	"github.com/governor-dev/governor/internal/platform/syncer"
)

// BenchmarkPlatformSync syncs the medium and large generated Spaces into an
// emulated instance with the budget lifted (make bench-platform) and
// reports, per Space: the first sync's requests against their lower bound,
// how many of its grants are on sub-folders (carrying a parent folder rule's
// level down: Retool's folder grants reach a folder's direct contents only),
// its time and the heap it leaves; the requests of one rule change and of
// a resync at rest; and how long the first sync and a full drift pass take
// at the default budget of 45 requests a minute (and the first sync at
// 240, spec.environments[].instance.requestsPerMinute on an instance that
// allows it).
func BenchmarkPlatformSync(b *testing.B) {
	for _, p := range []accesstest.Params{accesstest.MediumParams, accesstest.LargeParams} {
		b.Run(p.Name, func(b *testing.B) {
			for b.Loop() {
				benchmarkSync(b, p)
			}
		})
	}
}

func benchmarkSync(b *testing.B, p accesstest.Params) {
	ctx := context.Background()
	in := accesstest.Generate(p)
	snap, _ := access.Compile(in)
	env := platform.Environment{Name: "development"}
	desired, err := platform.Project(snap, env, nil)
	if err != nil {
		b.Fatal(err)
	}

	srv := emulator.New(emulator.Options{Domain: "hub.bench.test", RequestsPerMinute: -1}) // the client keeps the budget under test
	ts := httptest.NewServer(srv)
	defer ts.Close()
	admin, _ := retool.New(retool.Options{URL: ts.URL, Domain: "hub.bench.test", Token: srv.Space("").Token(), RequestsPerMinute: -1})
	if _, err := admin.CreateSpace(ctx, retool.SpaceCreate{Name: p.Name, Domain: p.Name + ".bench.test"}); err != nil {
		b.Fatal(err)
	}
	sp := srv.Space(p.Name + ".bench.test")
	// Everyone has an account and every named app and resource exists, so
	// that everything declared can be placed.
	for u := range p.Users {
		sp.AddUser(accesstest.UserEmail(u))
	}
	added := map[string]bool{}
	for _, g := range desired.Groups {
		for _, gr := range g.Grants {
			if added[gr.Key()] {
				continue
			}
			added[gr.Key()] = true
			switch gr.Type {
			case platform.ObjectApp:
				_, err = sp.AddApp(gr.Name, "")
			case platform.ObjectResource:
				_, err = sp.AddResource(gr.Name, "")
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	c, err := retool.New(retool.Options{URL: ts.URL, Domain: sp.Domain(), Token: sp.Token(), RequestsPerMinute: -1})
	if err != nil {
		b.Fatal(err)
	}
	mem := syncer.NewMemory()
	// What the passes did is recorded and handed to the next, as the
	// controller does: without it, a grant Governor made is not known as
	// Governor's and lowering it is drift, not a write.
	rec := syncer.NewRecorded()
	srv.ResetStats()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	start := time.Now()
	plan := pass(ctx, b, c, snap, env, mem, &rec, -1)
	first := time.Since(start)
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	st := srv.Stats()
	firstRequests := st.Total()
	inherited := 0 // grants on sub-folders that carry a parent folder rule's level
	for _, g := range plan.Grants {
		if g.Inherited {
			inherited++
		}
	}

	// The lower bound: one call per group that needs one (a create carrying
	// its members; Retool's default groups one add-members or settings
	// call), one grant per grant, one create per missing folder, and the
	// list pages: groups (whose members, All Users' included, give every
	// account's id), folders, apps and settings (one each), and resources
	// (100 a page).
	resources := 0
	if rs, err := c.ListResources(ctx); err == nil {
		resources = len(rs)
	}
	srv.ResetStats()
	lowerBound := plan.Writes() + 4 + pages(resources)

	// One rule change: the first rule's level moves.
	changed := in
	changed.Rules = append([]access.Rule(nil), in.Rules...)
	changed.Rules[0].Level = otherLevel(changed.Rules[0].Level)
	snap2, _ := access.Compile(changed)
	desired2, _ := platform.Project(snap2, env, nil)
	ruleGrants := changedGrants(desired, desired2)
	// What the change must write, as a plan over every group's grants
	// read afresh sees it: the rule's grants, and the sub-folder grants
	// that carry its level down (or are revoked where the group's
	// universal level now reaches as far).
	dry := syncer.Pass(ctx, c, syncer.Input{Model: snap2, Environment: env, Memory: syncer.NewMemory(), GrantReads: -1, Recorded: rec.Clone()})
	if dry.Err != nil {
		b.Fatal(dry.Err)
	}
	want := dry.Plan.Writes()
	srv.ResetStats()
	pass(ctx, b, c, snap2, env, mem, &rec, 0)
	changeStats := srv.Stats()

	// A resync at rest (grant reads of the groups a pass may read at the
	// default budget: see the platform controller).
	srv.ResetStats()
	pass(ctx, b, c, snap2, env, mem, &rec, 0)
	rest := srv.Stats()

	// A full drift pass reads every group's grants.
	srv.ResetStats()
	pass(ctx, b, c, snap2, env, mem, &rec, -1)
	drift := srv.Stats()

	b.ReportMetric(float64(firstRequests), "first-requests")
	b.ReportMetric(float64(lowerBound), "first-lower-bound")
	b.ReportMetric(first.Seconds(), "first-seconds")
	b.ReportMetric(float64(after.HeapAlloc)/(1<<20), "heap-MiB")
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/(1<<20), "retained-MiB")
	b.ReportMetric(float64(changeStats.Total()), "change-requests")
	b.ReportMetric(float64(changeStats.Writes()), "change-writes")
	b.ReportMetric(float64(ruleGrants), "change-grants")
	b.ReportMetric(float64(inherited), "first-subfolder-grants")
	b.ReportMetric(float64(rest.Total()), "rest-requests")
	b.ReportMetric(float64(rest.Writes()), "rest-writes")
	b.ReportMetric(float64(firstRequests)/45, "first-minutes@45rpm")
	b.ReportMetric(float64(firstRequests)/240, "first-minutes@240rpm")
	b.ReportMetric(float64(drift.Total())/45, "drift-minutes@45rpm")
	if rest.Writes() != 0 || changeStats.Writes() != want {
		b.Errorf("at rest %d writes (want 0); one rule change %d writes (want %d): %v", rest.Writes(), changeStats.Writes(), want, changeStats.Requests)
	}
}

func pass(ctx context.Context, b *testing.B, c *retool.Client, snap *access.Snapshot, env platform.Environment, mem *syncer.Memory, rec *syncer.Recorded, grantReads int) platform.Plan {
	b.Helper()
	res := syncer.Pass(ctx, c, syncer.Input{Model: snap, Environment: env, Memory: mem, GrantReads: grantReads, Apply: true,
		Recorded: rec.Clone(), Recorder: syncer.RecorderFunc(func(e syncer.Effect) { rec.Apply(e) })})
	if res.Err != nil {
		b.Fatal(res.Err)
	}
	return res.Plan
}

func pages(n int) int { return max(1, (n+99)/100) }

func otherLevel(l access.Level) access.Level {
	if l == access.Own {
		return access.Use
	}
	return l + 1
}

// changedGrants counts the grants whose level differs between two states.
func changedGrants(a, b platform.Desired) int {
	levels := func(d platform.Desired) map[string]string {
		m := map[string]string{}
		for _, g := range d.Groups {
			for _, gr := range g.Grants {
				m[g.Name+"|"+gr.Key()] = gr.Level
			}
		}
		return m
	}
	la, lb := levels(a), levels(b)
	n := 0
	for k, v := range lb {
		if la[k] != v {
			n++
		}
	}
	for k := range la {
		if _, ok := lb[k]; !ok {
			n++
		}
	}
	return n
}

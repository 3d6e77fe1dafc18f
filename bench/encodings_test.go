package bench

import (
	"context"
	"testing"

	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/access/accesstest"
)

// loadFor loads a Space into an engine for a mix, and Governor for reference.
func loadFor(t *testing.T, eng func(ctx context.Context, in access.SpaceInput, reqs []access.Request) (checker, error), in access.SpaceInput, reqs []access.Request) agreement {
	t.Helper()
	ref, problems := access.Compile(in)
	if len(problems) > 0 {
		t.Fatalf("the Space has problems: %v", problems)
	}
	c, err := eng(t.Context(), in, reqs)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	a, err := compare(t.Context(), ref, c, reqs)
	if err != nil {
		t.Fatal(err)
	}
	if a.allowed == 0 || a.allowed == a.checks {
		t.Fatalf("the mix should hold both answers: %d of %d allowed", a.allowed, a.checks)
	}
	return a
}

// The Casbin encoding answers the permissive superset of Governor's model:
// whatever Governor allows, Casbin allows too (they differ only where a rule
// narrows a broader one inside one group), and they mostly agree.
func TestCasbinEncodingAllowsWhatGovernorAllows(t *testing.T) {
	in := accesstest.Small()
	reqs := requests(in, checksPerSpace)
	ref, _ := access.Compile(in)
	for _, req := range reqs {
		d, err := ref.Check(req)
		if err != nil {
			t.Fatal(err)
		}
		if d.Required != requiredLevel[req.Action] {
			t.Fatalf("%s needs %s in Governor, %s in the Casbin encoding", req.Action, d.Required, requiredLevel[req.Action])
		}
	}
	a := loadFor(t, loadCasbin, in, reqs)
	if len(a.falseDenies) > 0 {
		t.Fatalf("Governor allows %d checks Casbin denies, first %+v", len(a.falseDenies), a.falseDenies[0])
	}
	if len(a.falseAllows)*10 > a.checks {
		t.Fatalf("Casbin allows %d of %d checks Governor denies", len(a.falseAllows), a.checks)
	}
	t.Logf("Casbin allows %d of %d checks that Governor denies", len(a.falseAllows), a.checks)
}

// fullMix is accesstest's mix as it is: environments (read-only ones
// included) and users signing in with IdP groups.
func fullMix(in access.SpaceInput) []access.Request {
	return accesstest.Requests(in, checksPerSpace, 1)
}

// The OPA encoding is the whole model for objects and folders: it answers
// every check of the full mix as Governor does.
func TestOPAAnswersAsGovernor(t *testing.T) {
	for _, size := range sizes[:2] {
		t.Run(size.name, func(t *testing.T) {
			in := size.in()
			for name, reqs := range map[string][]access.Request{"mix": requests(in, checksPerSpace), "full mix": fullMix(in)} {
				a := loadFor(t, loadOPA, in, reqs)
				if n := len(a.falseAllows) + len(a.falseDenies); n > 0 {
					t.Errorf("%s: OPA disagrees on %d of %d checks: allows %v; denies %v", name, n, a.checks, first(a.falseAllows), first(a.falseDenies))
				}
			}
		})
	}
}

func first(reqs []access.Request) []access.Request { return reqs[:min(len(reqs), 3)] }

// The SpiceDB encoding is the whole model for objects and folders too, with
// caveats where relationships cannot say it: it answers every check of the
// full mix as Governor does (on the medium Space, the first 128 of each mix:
// SpiceDB's memory datastore takes ~0.1 s a check there).
func TestSpiceDBAnswersAsGovernor(t *testing.T) {
	for _, size := range sizes[:2] {
		t.Run(size.name, func(t *testing.T) {
			in := size.in()
			n := checksPerSpace
			if size.name != "small" {
				n = 128
			}
			for name, reqs := range map[string][]access.Request{"mix": requests(in, checksPerSpace)[:n], "full mix": fullMix(in)[:n]} {
				a := loadFor(t, loadSpiceDB, in, reqs)
				if n := len(a.falseAllows) + len(a.falseDenies); n > 0 {
					t.Errorf("%s: SpiceDB disagrees on %d of %d checks: allows %v; denies %v", name, n, a.checks, first(a.falseAllows), first(a.falseDenies))
				}
			}
		})
	}
}

package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/platform"
	"github.com/governor-dev/governor/internal/platform/emulator"
	"github.com/governor-dev/governor/internal/platform/importer"
	"github.com/governor-dev/governor/internal/platform/retool"
	"github.com/governor-dev/governor/internal/platform/syncer"
	"github.com/governor-dev/governor/internal/spacemodel"
)

// TestPopulatedInstanceAdoption runs the adoption walkthrough
// (docs/adoption.md) on the state `governor dev --populate` makes, without
// a cluster: import both environments, then a sync in Additive mode makes
// exactly the calls the import announced (the archive folder's inherited
// grant), after which verify finds the one difference the import marked:
// quinn's grant to herself alone; once it is revoked, none.
func TestPopulatedInstanceAdoption(t *testing.T) {
	ctx := context.Background()
	type env struct {
		name string
		c    *retool.Client
	}
	var envs []env
	var imported []importer.Environment
	for _, name := range []string{"development", "production"} {
		srv := emulator.New(emulator.Options{Domain: devDomain("hub", name), RequestsPerMinute: -1})
		ts := httptest.NewServer(srv)
		t.Cleanup(ts.Close)
		admin, err := retool.New(retool.Options{URL: ts.URL, Domain: devDomain("hub", name), Token: srv.Space("").Token(), RequestsPerMinute: -1})
		if err != nil {
			t.Fatal(err)
		}
		domain := devDomain(adoptionSpace, name)
		sp, err := populateHandMade(ctx, admin, srv, ts.URL, domain, adoptionEnvironments[name])
		if err != nil {
			t.Fatal(err)
		}
		c, err := retool.New(retool.Options{URL: ts.URL, Domain: domain, Token: sp.Token(), RequestsPerMinute: -1})
		if err != nil {
			t.Fatal(err)
		}
		srv.ResetStats()
		o, err := syncer.ObserveAll(ctx, c, syncer.ObserveOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// What the import costs: 8 listings, 4 requests per group (7) and 2
		// per active user (6; uma is deactivated).
		if got, want := srv.Stats().Total(), 8+4*7+2*6; got != want {
			t.Errorf("%s: the import made %d requests, want %d: %v", name, got, want, srv.Stats().Requests)
		}
		envs = append(envs, env{name, c})
		imported = append(imported, importer.Environment{Name: name, Observed: o})
	}
	// Step 1 of the walkthrough: the Space in Observe mode holds only the
	// default groups the Space controller creates; its plan makes no call
	// and its drift lists the hand-made groups and members.
	defaults := []governorv1alpha1.PermissionGroup{}
	for _, d := range []struct {
		name    string
		builtin governorv1alpha1.BuiltinRole
	}{{"all-users", "AllUsers"}, {"viewer", "Viewer"}, {"editor", "Editor"}, {"admin", "Admin"}} {
		defaults = append(defaults, governorv1alpha1.PermissionGroup{ObjectMeta: metav1.ObjectMeta{Name: d.name}, Spec: governorv1alpha1.PermissionGroupSpec{Builtin: d.builtin}})
	}
	bare, _ := access.Compile(spacemodel.Input(&governorv1alpha1.Space{ObjectMeta: metav1.ObjectMeta{Name: adoptionSpace},
		Spec: governorv1alpha1.SpaceSpec{Environments: []governorv1alpha1.Environment{{Name: "development"}}}}, defaults, nil))
	observed := syncer.Pass(ctx, envs[0].c, syncer.Input{Model: bare, Environment: platform.Environment{Name: "development"}, Mode: platform.Additive, GrantReads: -1})
	drift := strings.Join(observed.Plan.Drift, "\n")
	if observed.Err != nil || len(observed.Plan.Ops) != 0 || !strings.Contains(drift, `group "Finance Team"`) || !strings.Contains(drift, `group "admin": member olivia@example.com`) {
		t.Errorf("before the import: %v, calls %+v, drift:\n%s", observed.Err, observed.Plan.Ops, drift)
	}

	res, err := importer.Import(imported, importer.Options{Namespace: adoptionSpace})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := importer.Write(&out, res, nil); err != nil {
		t.Fatal(err)
	}
	yaml := out.String()
	for _, want := range []string{
		"name: finance-team", "displayName: Finance Team", "name: on-call", "name: support-edit",
		"- email: paul@example.com\n    groupAdmin: true",
		"environments:\n    - level: Use\n      name: production\n    kind: Resource\n    name: orders-db",
		"[changes access] app folder \"finance/archive-2023\"",
		"[differs] user quinn@example.com: use on app \"customer-lookup\"",
		"members deactivated in the instance, kept",
		"victor@example.com",
	} {
		if !strings.Contains(yaml, want) {
			t.Errorf("the import lacks %q:\n%s", want, yaml)
		}
	}
	space := &governorv1alpha1.Space{ObjectMeta: metav1.ObjectMeta{Name: adoptionSpace}, Spec: governorv1alpha1.SpaceSpec{
		Environments: []governorv1alpha1.Environment{{Name: "development"}, {Name: "production", ReadOnly: true}}}}
	in := spacemodel.Input(space, res.Groups, res.Rules)
	snap, problems := access.Compile(in)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	for _, e := range envs {
		environment := platform.Environment{Name: e.name, ReadOnly: e.name == "production"}
		p := syncer.Pass(ctx, e.c, syncer.Input{Model: snap, Environment: environment, Mode: platform.Additive, GrantReads: -1, Apply: true})
		if p.Err != nil {
			t.Fatal(p.Err)
		}
		if len(p.Plan.Ops) != 1 || p.Plan.Ops[0].Kind != platform.OpGrant || p.Plan.Ops[0].InheritedFrom != "finance" {
			t.Errorf("%s: the first sync: %+v", e.name, p.Plan.Ops)
		}
		// What docs/adoption.md says the plan shows once the objects are applied.
		if len(p.Plan.Drift) > 0 || len(p.Plan.Pending) != 1 || !strings.Contains(p.Plan.Pending[0], "victor@example.com is invited") {
			t.Errorf("%s: drift %q, pending %q", e.name, p.Plan.Drift, p.Plan.Pending)
		}
		if again := syncer.Pass(ctx, e.c, syncer.Input{Model: snap, Environment: environment, Mode: platform.Authoritative, GrantReads: -1}); len(again.Plan.Ops) > 0 {
			t.Errorf("%s: after the sync, Authoritative mode plans %+v", e.name, again.Plan.Ops)
		}
		v, err := syncer.Verify(ctx, e.c, syncer.VerifyInput{Model: snap, Space: in, Environment: e.name})
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Differences) != 1 || v.Differences[0].User != "quinn@example.com" || !strings.Contains(v.Differences[0].Object, "customer-lookup") {
			t.Errorf("%s: verify: %+v", e.name, v.Differences)
		}
		quinn, _ := e.c.FindUserByEmail(ctx, "quinn@example.com")
		lookup := ""
		apps, _ := e.c.ListApps(ctx)
		for _, a := range apps {
			if a.Name == "customer-lookup" {
				lookup = a.ID
			}
		}
		if err := e.c.RevokeFrom(ctx, retool.UserSubject(quinn.ID), retool.ObjectRef{Type: "app", ID: lookup}); err != nil {
			t.Fatal(err)
		}
		if v, _ := syncer.Verify(ctx, e.c, syncer.VerifyInput{Model: snap, Space: in, Environment: e.name}); len(v.Differences) > 0 {
			t.Errorf("%s: verify after the revoke: %+v", e.name, v.Differences)
		}
	}
}

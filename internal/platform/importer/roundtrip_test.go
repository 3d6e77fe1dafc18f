package importer_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/platform"
	"github.com/governor-dev/governor/internal/platform/emulator"
	"github.com/governor-dev/governor/internal/platform/importer"
	"github.com/governor-dev/governor/internal/platform/retool"
	"github.com/governor-dev/governor/internal/platform/syncer"
	"github.com/governor-dev/governor/internal/spacemodel"
)

// instance is an emulated instance Space for a test.
type instance struct {
	srv    *emulator.Server
	sp     *emulator.Space
	c      *retool.Client
	domain string
}

func newInstance(t *testing.T, domain string) *instance {
	t.Helper()
	srv := emulator.New(emulator.Options{Domain: "hub.test", RequestsPerMinute: -1})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	admin, err := retool.New(retool.Options{URL: ts.URL, Domain: "hub.test", Token: srv.Space("").Token(), RequestsPerMinute: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateSpace(context.Background(), retool.SpaceCreate{Name: "acme", Domain: domain}); err != nil {
		t.Fatal(err)
	}
	sp := srv.Space(domain)
	c, err := retool.New(retool.Options{URL: ts.URL, Domain: domain, Token: sp.Token(), RequestsPerMinute: -1})
	if err != nil {
		t.Fatal(err)
	}
	return &instance{srv: srv, sp: sp, c: c, domain: domain}
}

var (
	groupWords  = []string{"Finance Team", "finance-team", "Finance_Team", "Support", "Ops", "Data & Analytics", "Viewers", "All-Users", "Ærø", "On-call (EU)", "Editor team"}
	folderWords = []string{"finance", "ops", "reports", "old", "payments", "eu"}
	levels      = []string{"use", "edit", "own"}
	universals  = []string{"none", "none", "use", "edit", "own"}
	libraries   = []string{"none", "use", "edit"}
)

// populate fills the instance with a random hand-made state: users (some
// deactivated), nested folders of the three types, apps, workflows and
// resources in them (and in the archive), custom groups with levels, flags,
// members and group admins, changed All Users levels, pending invitations,
// group grants on folders and objects, and now and then a grant to a user.
func populate(t *testing.T, inst *instance, rng *rand.Rand) {
	t.Helper()
	ctx := context.Background()
	c := inst.c
	pick := func(xs []string) string { return xs[rng.Intn(len(xs))] }
	var active, all []string
	for i := 0; i < 3+rng.Intn(8); i++ {
		domain := "example.com"
		if rng.Intn(4) == 0 {
			domain = "example.org"
		}
		email := fmt.Sprintf("user%d@%s", i, domain)
		if rng.Intn(3) == 0 {
			all = append(all, inst.sp.AddInactiveUser(email))
		} else {
			id := inst.sp.AddUser(email)
			all, active = append(all, id), append(active, id)
		}
	}
	_ = active
	folders := map[string][]string{} // type -> paths
	for _, typ := range []string{"app", "workflow", "resource"} {
		for i := 0; i < rng.Intn(6); i++ {
			path := pick(folderWords)
			if ps := folders[typ]; len(ps) > 0 && rng.Intn(2) == 0 {
				path = ps[rng.Intn(len(ps))] + "/" + pick(folderWords)
			}
			if strings.Count(path, "/") > 3 {
				continue
			}
			folders[typ] = append(folders[typ], path)
		}
	}
	place := func(typ string) string {
		switch n := rng.Intn(8); {
		case n == 0 && typ != "resource":
			return "archive"
		case n < 3 || len(folders[typ]) == 0:
			return ""
		}
		return folders[typ][rng.Intn(len(folders[typ]))]
	}
	for i := 0; i < rng.Intn(7); i++ {
		if _, err := inst.sp.AddApp(fmt.Sprintf("app-%d", i), place("app")); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < rng.Intn(4); i++ {
		if _, err := inst.sp.AddWorkflow(fmt.Sprintf("wf-%d", i), place("workflow")); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < rng.Intn(5); i++ {
		if _, err := inst.sp.AddResource(fmt.Sprintf("db-%d", i), place("resource")); err != nil {
			t.Fatal(err)
		}
	}
	// Folders without anything in them: through the API, parents first.
	fs, err := c.ListFolders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"app", "workflow", "resource"} {
		for _, path := range folders[typ] {
			ensureFolder(t, c, &fs, typ, path)
		}
	}
	groups, err := c.ListGroups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for i := 0; i < 1+rng.Intn(4); i++ {
		name := pick(groupWords)
		if used[name] {
			continue
		}
		used[name] = true
		g, err := c.CreateGroup(ctx, retool.GroupCreate{Name: name, UniversalAppAccess: pick(universals), UniversalWorkflowAccess: pick(universals),
			UniversalResourceAccess: pick(universals), UniversalQueryLibraryAccess: pick(libraries),
			UserListAccess: rng.Intn(2) == 0, AuditLogAccess: rng.Intn(3) == 0, ThemeAccess: rng.Intn(4) == 0})
		if err != nil {
			t.Fatal(err)
		}
		groups = append(groups, g)
	}
	for _, g := range groups {
		switch g.Name {
		case "All Users":
			// Every organisation's All Users holds levels of its own.
			app, wf, res, ql := pick(universals), pick(universals), pick(universals), pick(libraries)
			flag := rng.Intn(2) == 0
			if _, err := c.UpdateGroup(ctx, g.ID, retool.GroupUpdate{UniversalAppAccess: &app, UniversalWorkflowAccess: &wf,
				UniversalResourceAccess: &res, UniversalQueryLibraryAccess: &ql, AccountDetailsAccess: &flag}); err != nil {
				t.Fatal(err)
			}
			continue
		case "admin":
			if rng.Intn(2) == 0 {
				continue
			}
		case "viewer":
			if rng.Intn(10) == 0 {
				// A default group changed by hand: the role's levels are fixed.
				edit := "edit"
				if _, err := c.UpdateGroup(ctx, g.ID, retool.GroupUpdate{UniversalAppAccess: &edit}); err != nil {
					t.Fatal(err)
				}
			}
		}
		var members []retool.MemberInput
		for _, id := range all {
			if rng.Intn(3) == 0 {
				members = append(members, retool.MemberInput{ID: id, IsGroupAdmin: rng.Intn(5) == 0})
			}
		}
		if len(members) > 0 {
			if _, err := c.AddGroupMembers(ctx, g.ID, members); err != nil {
				t.Fatal(err)
			}
		}
		if rng.Intn(3) == 0 {
			if _, err := c.CreateUserInvite(ctx, fmt.Sprintf("invited-%d@example.com", g.ID), []int64{g.ID}); err != nil {
				t.Fatal(err)
			}
		}
	}
	objects, system := grantable(t, c)
	for _, g := range groups {
		if g.Name == "admin" || g.Name == "All Users" && rng.Intn(2) == 0 {
			continue
		}
		for _, obj := range objects {
			odds := 3
			if system[obj.ID] {
				odds = 15 // a grant on a root folder or the archive: rare
			}
			if rng.Intn(odds) == 0 {
				if err := c.Grant(ctx, g.ID, obj, pick(levels)); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if len(objects) > 0 && rng.Intn(4) == 0 {
		obj := objects[rng.Intn(len(objects))]
		if obj.Type != "resource" {
			if err := c.GrantTo(ctx, retool.UserSubject(all[rng.Intn(len(all))]), obj, pick(levels)); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// ensureFolder creates the folder at path (and its parents) unless it exists.
func ensureFolder(t *testing.T, c *retool.Client, fs *[]retool.Folder, typ, path string) {
	t.Helper()
	parent := ""
	for _, f := range *fs {
		if f.FolderType == typ && f.IsSystemFolder && f.ParentFolderID == nil && f.Name == "root" {
			parent = f.ID
		}
	}
	for _, seg := range strings.Split(path, "/") {
		next := ""
		for _, f := range *fs {
			if f.FolderType == typ && f.ParentFolderID != nil && *f.ParentFolderID == parent && f.Name == seg {
				next = f.ID
			}
		}
		if next == "" {
			f, err := c.CreateFolder(context.Background(), seg, parent, typ)
			if err != nil {
				t.Fatal(err)
			}
			*fs = append(*fs, f)
			next = f.ID
		}
		parent = next
	}
}

// grantable lists the instance's folders (system ones included: a root
// folder can be granted), apps and resources.
func grantable(t *testing.T, c *retool.Client) ([]retool.ObjectRef, map[string]bool) {
	t.Helper()
	ctx := context.Background()
	var out []retool.ObjectRef
	system := map[string]bool{}
	fs, err := c.ListFolders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if f.FolderType == "file" || f.IsSystemFolder && f.Name != "root" && f.Name != "archive" {
			continue
		}
		out = append(out, retool.ObjectRef{Type: "folder", ID: f.ID})
		system[f.ID] = f.IsSystemFolder
	}
	apps, err := c.ListApps(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range apps {
		out = append(out, retool.ObjectRef{Type: "app", ID: a.ID})
	}
	rs, err := c.ListResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		out = append(out, retool.ObjectRef{Type: "resource", ID: r.ID})
	}
	return out, system
}

// model compiles the imported objects into the Space's access model, with
// the just-in-time provisioning the import asks for.
func model(t *testing.T, res importer.Result, envs ...string) (*access.Snapshot, access.SpaceInput) {
	t.Helper()
	space := &governorv1alpha1.Space{ObjectMeta: metav1.ObjectMeta{Name: "acme"}}
	for _, e := range envs {
		space.Spec.Environments = append(space.Spec.Environments, governorv1alpha1.Environment{Name: e})
	}
	if len(res.JITDomains) > 0 {
		space.Spec.SSO = &governorv1alpha1.SSO{JIT: &governorv1alpha1.JIT{Enabled: true, AllowedDomains: res.JITDomains}}
	}
	in := spacemodel.Input(space, res.Groups, res.Rules)
	snap, problems := access.Compile(in)
	if len(problems) > 0 {
		t.Fatalf("the imported objects do not compile: %v", problems)
	}
	return snap, in
}

var targetName = regexp.MustCompile(`^[^/\s]+(/[^/\s]+)*$`)

// checkObjects holds the objects to what the CRDs accept.
func checkObjects(t *testing.T, res importer.Result) {
	t.Helper()
	groups := map[string]bool{}
	for _, g := range res.Groups {
		if errs := validation.IsDNS1123Subdomain(g.Name); len(errs) > 0 {
			t.Errorf("group name %q: %v", g.Name, errs)
		}
		if groups[g.Name] {
			t.Errorf("group name %q twice", g.Name)
		}
		groups[g.Name] = true
		if len(g.Spec.DisplayName) > 128 {
			t.Errorf("group %s: displayName longer than 128", g.Name)
		}
	}
	rules := map[string]bool{}
	for _, r := range res.Rules {
		if errs := validation.IsDNS1123Subdomain(r.Name); len(errs) > 0 {
			t.Errorf("rule name %q: %v", r.Name, errs)
		}
		if rules[r.Name] {
			t.Errorf("rule name %q twice", r.Name)
		}
		rules[r.Name] = true
		if !groups[r.Spec.Group] {
			t.Errorf("rule %s: group %s is not imported", r.Name, r.Spec.Group)
		}
		if n := len(r.Spec.Targets); n < 1 || n > 256 {
			t.Errorf("rule %s: %d targets", r.Name, n)
		}
		for _, tg := range r.Spec.Targets {
			if !targetName.MatchString(tg.Name) {
				t.Errorf("rule %s: target name %q", r.Name, tg.Name)
			}
			if len(tg.Environments) > 0 && tg.Kind != governorv1alpha1.TargetResource {
				t.Errorf("rule %s: environments on a %s", r.Name, tg.Kind)
			}
		}
	}
}

// announced reports whether the import announced op among its writes.
func announced(op platform.Op, writes []importer.Call, authoritative bool) bool {
	for _, w := range writes {
		if w.Authoritative && !authoritative || w.Kind != op.Kind {
			continue
		}
		switch op.Kind {
		case platform.OpRevokeUserGrant:
			if w.Group == op.Member.Email && w.Object == op.Object {
				return true
			}
		case platform.OpRemoveMember:
			if w.Group == op.GroupName && w.Object.ID == op.Member.UserID {
				return true
			}
		default:
			if w.Group == op.GroupName && w.Object == op.Object && w.Level == op.Level {
				return true
			}
		}
	}
	return false
}

func plan(t *testing.T, c *retool.Client, snap *access.Snapshot, env string, mode platform.Mode, apply bool) syncer.Result {
	t.Helper()
	res := syncer.Pass(context.Background(), c, syncer.Input{Model: snap, Environment: platform.Environment{Name: env}, Mode: mode, GrantReads: -1, Apply: apply})
	if res.Err != nil {
		t.Fatalf("pass (%s, apply %t): %v", mode, apply, res.Err)
	}
	return res
}

// TestRoundTripRandomInstances is the import's property: on randomly
// populated instances, the imported objects are valid, compile, and make a
// sync plan no call but those the import announced (none when it reports no
// difference); applying that plan leaves nothing to do; and wherever the
// import says the model holds the instance exactly, `governor platform
// verify` finds no difference.
func TestRoundTripRandomInstances(t *testing.T) {
	const cases = 60
	exact, silent, faithful := 0, 0, 0
	for seed := int64(1); seed <= cases; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewSource(seed))
			inst := newInstance(t, "acme.test")
			populate(t, inst, rng)
			ctx := context.Background()
			obs, err := syncer.ObserveAll(ctx, inst.c, syncer.ObserveOptions{})
			if err != nil {
				t.Fatal(err)
			}
			res, err := importer.Import([]importer.Environment{{Name: "development", Observed: obs}}, importer.Options{Namespace: "acme"})
			if err != nil {
				t.Fatal(err)
			}
			checkObjects(t, res)
			snap, in := model(t, res, "development")

			for _, mode := range []platform.Mode{platform.Additive, platform.Authoritative} {
				p := plan(t, inst.c, snap, "development", mode, false).Plan
				for _, op := range p.Ops {
					if !announced(op, res.Calls, mode == platform.Authoritative) {
						t.Errorf("%s: the plan makes a call the import did not announce: %+v\nnotes: %v", mode, op, res.Notes)
					}
				}
			}
			if res.Exact() && !res.ChangesAccess() {
				// Faithful before anything is written: the model gives every
				// user the instance's level as it is.
				v, err := syncer.Verify(ctx, inst.c, syncer.VerifyInput{Model: snap, Space: in, Environment: "development"})
				if err != nil {
					t.Fatal(err)
				}
				if len(v.Differences) > 0 {
					t.Errorf("before applying, verify finds %d difference(s) the import did not report: %+v", len(v.Differences), v.Differences)
				}
				faithful++
			}
			additive := plan(t, inst.c, snap, "development", platform.Additive, true)
			if len(additive.Plan.Ops) == 0 {
				silent++
			}
			if again := plan(t, inst.c, snap, "development", platform.Additive, false).Plan; len(again.Ops) > 0 {
				t.Errorf("after applying, the plan still makes %d call(s): %+v", len(again.Ops), again.Ops)
			}
			v, err := syncer.Verify(ctx, inst.c, syncer.VerifyInput{Model: snap, Space: in, Environment: "development"})
			if err != nil {
				t.Fatal(err)
			}
			if res.Exact() {
				exact++
				if len(v.Differences) > 0 {
					var out bytes.Buffer
					_ = importer.Write(&out, res, nil)
					t.Errorf("the import reports no difference, verify finds %d: %+v\n%s", len(v.Differences), v.Differences, out.String())
				}
			}
			// Importing twice gives the same bytes.
			var a, b bytes.Buffer
			if err := importer.Write(&a, res, []string{"header"}); err != nil {
				t.Fatal(err)
			}
			again, _ := importer.Import([]importer.Environment{{Name: "development", Observed: obs}}, importer.Options{Namespace: "acme"})
			_ = importer.Write(&b, again, []string{"header"})
			if a.String() != b.String() {
				t.Error("two imports of the same instance differ")
			}
		})
	}
	// The property must not hold vacuously: most cases are exact, and many
	// need no call at all.
	if exact < cases/2 || faithful < cases/4 || silent < cases/4 {
		t.Errorf("only %d of %d cases exact, %d faithful before any write and %d without any call: the generator no longer makes reproducible instances", exact, cases, faithful, silent)
	}
	t.Logf("%d of %d cases exact, %d faithful before any write, %d without a call", exact, cases, faithful, silent)
}

// TestRoundTripTwoEnvironments: two instances of one Space populated alike,
// whose groups' resource grants then differ at random (levels changed,
// grants revoked or added), import into objects whose resource targets
// carry environments: levels. In each environment a sync plans no call but
// those announced, applying it leaves nothing to do, and where the import
// reports no difference verify finds none.
func TestRoundTripTwoEnvironments(t *testing.T) {
	const cases = 20
	exact, overrides := 0, 0
	for seed := int64(1); seed <= cases; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			ctx := context.Background()
			names := []string{"development", "production"}
			insts := map[string]*instance{}
			for _, name := range names {
				insts[name] = newInstance(t, "acme.test")
				populate(t, insts[name], rand.New(rand.NewSource(seed)))
			}
			rng := rand.New(rand.NewSource(seed * 7919))
			prod := insts["production"].c
			groups, _ := prod.ListGroups(ctx)
			resources, _ := prod.ListResources(ctx)
			for _, g := range groups {
				if g.Name == "admin" {
					continue
				}
				for _, r := range resources {
					obj := retool.ObjectRef{Type: "resource", ID: r.ID}
					switch rng.Intn(4) {
					case 0:
						if err := prod.Grant(ctx, g.ID, obj, levels[rng.Intn(len(levels))]); err != nil {
							t.Fatal(err)
						}
					case 1:
						if err := prod.Revoke(ctx, g.ID, obj); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
			var envs []importer.Environment
			for _, name := range names {
				envs = append(envs, importer.Environment{Name: name, Observed: observe(t, insts[name])})
			}
			res, err := importer.Import(envs, importer.Options{Namespace: "acme"})
			if err != nil {
				t.Fatal(err)
			}
			checkObjects(t, res)
			snap, in := model(t, res, names...)
			if res.Exact() {
				exact++
			}
			for _, r := range res.Rules {
				for _, tg := range r.Spec.Targets {
					overrides += len(tg.Environments)
				}
			}
			for _, name := range names {
				c := insts[name].c
				var writes []importer.Call
				for _, w := range res.Calls {
					if w.Environment == name {
						writes = append(writes, w)
					}
				}
				for _, op := range plan(t, c, snap, name, platform.Additive, false).Plan.Ops {
					if !announced(op, writes, false) {
						t.Errorf("%s: the plan makes a call the import did not announce: %+v\nnotes: %v", name, op, res.Notes)
					}
				}
				plan(t, c, snap, name, platform.Additive, true)
				if again := plan(t, c, snap, name, platform.Additive, false).Plan; len(again.Ops) > 0 {
					t.Errorf("%s: after applying, the plan still makes %+v", name, again.Ops)
				}
				v, err := syncer.Verify(ctx, c, syncer.VerifyInput{Model: snap, Space: in, Environment: name})
				if err != nil {
					t.Fatal(err)
				}
				if res.Exact() && len(v.Differences) > 0 {
					t.Errorf("%s: the import reports no difference, verify finds %+v\nnotes: %v", name, v.Differences, res.Notes)
				}
			}
		})
	}
	if exact < cases/3 || overrides < cases {
		t.Errorf("only %d of %d cases exact, %d environment levels", exact, cases, overrides)
	}
	t.Logf("%d of %d cases exact, %d environment levels", exact, cases, overrides)
}

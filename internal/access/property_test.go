package access_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/access/accesstest"
)

// levels answers every request on a snapshot: the user's level, or -1 for
// a request that is invalid input.
func levels(t *testing.T, s *access.Snapshot, reqs []access.Request) []int {
	t.Helper()
	out := make([]int, len(reqs))
	for i, r := range reqs {
		d, err := s.Check(r)
		if err != nil {
			out[i] = -1
			continue
		}
		out[i] = int(d.Level)
		if d.Allowed {
			out[i] += 10 // allowed ranks above any denial at the same level
		}
	}
	return out
}

// propertyCases is how many random Spaces each property is tried on (each
// with a few hundred checks); the seeds are fixed, so failures reproduce.
const propertyCases = 200

func small(seed uint64) access.SpaceInput {
	p := accesstest.SmallParams
	p.Seed = seed
	return accesstest.Generate(p)
}

func compile(t *testing.T, in access.SpaceInput) *access.Snapshot {
	t.Helper()
	s, problems := access.Compile(in)
	if len(problems) > 0 {
		t.Fatalf("problems: %v", problems)
	}
	return s
}

// Adding a member to a group never lowers anyone's access.
func TestAddingAMemberNeverLowersAccess(t *testing.T) {
	for seed := range uint64(propertyCases) {
		in := small(seed)
		reqs := accesstest.Requests(in, 300, seed)
		before := levels(t, compile(t, in), reqs)
		r := rand.New(rand.NewPCG(seed, 1))
		g := 4 + r.IntN(len(in.Groups)-4) // a custom group
		in.Groups[g].Members = append(in.Groups[g].Members, access.Member{Email: accesstest.UserEmail(r.IntN(200))})
		after := levels(t, compile(t, in), reqs)
		for i := range reqs {
			if after[i] < before[i] {
				t.Fatalf("seed %d: adding a member to %s lowered %+v from %d to %d", seed, in.Groups[g].Name, reqs[i], before[i], after[i])
			}
		}
	}
}

// Adding a group (with members and rules of its own) never lowers anyone's access.
func TestAddingAGroupNeverLowersAccess(t *testing.T) {
	for seed := range uint64(propertyCases) {
		in := small(seed)
		reqs := accesstest.Requests(in, 300, seed)
		before := levels(t, compile(t, in), reqs)
		r := rand.New(rand.NewPCG(seed, 2))
		g := access.Group{Name: "newcomers", Universal: access.Universal{Apps: access.Level(r.IntN(4))}}
		for range 5 {
			g.Members = append(g.Members, access.Member{Email: accesstest.UserEmail(r.IntN(200))})
		}
		in.Groups = append(in.Groups, g)
		in.Rules = append(in.Rules, access.Rule{Name: "newcomers-rule", Group: "newcomers", Level: access.Use,
			Targets: []access.RuleTarget{{Kind: access.App, Folder: true, Name: accesstest.FolderPath(r, 3)}}})
		after := levels(t, compile(t, in), reqs)
		for i := range reqs {
			if after[i] < before[i] {
				t.Fatalf("seed %d: adding a group lowered %+v from %d to %d", seed, reqs[i], before[i], after[i])
			}
		}
	}
}

// A rule's effect is confined to its Space, and to its target's subtree: a
// folder rule changes nothing outside its folder, an object rule nothing but
// its object, and a rule in one Space nothing in another Space with the same
// groups, users and names.
func TestARuleIsConfinedToItsSpaceAndSubtree(t *testing.T) {
	changedInside := 0
	for seed := range uint64(propertyCases) {
		r := rand.New(rand.NewPCG(seed, 3))
		in, other := small(seed), small(seed+1000)
		// an object that the Space's rules already name, so that the mix asks about it
		object := ""
		for _, rule := range in.Rules {
			for _, tg := range rule.Targets {
				if !tg.Folder && tg.Kind == access.Workflow && object == "" {
					object = tg.Name
				}
			}
		}
		if object == "" {
			object = "only-this-one"
		}
		reqs := accesstest.Requests(in, 300, seed)
		// and ask about it, and its neighbours, in a few folders
		for _, user := range []string{accesstest.UserEmail(r.IntN(100)), accesstest.UserEmail(r.IntN(100))} {
			for _, name := range []string{object, object + "x", "other"} {
				for _, action := range []string{"use", "edit", "delete"} {
					reqs = append(reqs, access.Request{User: user, Action: action, Target: access.Target{Type: access.TargetWorkflow, Name: name}, Folder: accesstest.FolderPath(r, 4)})
				}
			}
		}
		otherReqs := accesstest.Requests(other, 300, seed)
		before, otherBefore := levels(t, compile(t, in), reqs), levels(t, compile(t, other), otherReqs)

		folder := accesstest.FolderPath(r, 3)
		group := in.Groups[4+r.IntN(len(in.Groups)-4)].Name
		in.Rules = append(in.Rules, access.Rule{Name: "added", Group: group, Level: access.Level(1 + r.IntN(3)),
			Targets: []access.RuleTarget{{Kind: access.App, Folder: true, Name: folder}, {Kind: access.Workflow, Name: object}}})
		after := levels(t, compile(t, in), reqs)
		if otherAfter := levels(t, compile(t, other), otherReqs); !slices.Equal(otherAfter, otherBefore) {
			t.Fatalf("seed %d: a rule in one Space changed answers in another", seed)
		}
		for i, req := range reqs {
			if after[i] == before[i] {
				continue
			}
			inSubtree := false
			switch req.Target.Type {
			case access.TargetApp:
				inSubtree = req.Folder == folder || strings.HasPrefix(req.Folder, folder+"/")
			case access.TargetAppFolder:
				inSubtree = req.Target.Name == folder || strings.HasPrefix(req.Target.Name, folder+"/")
			case access.TargetWorkflow:
				inSubtree = req.Target.Name == object
			}
			if !inSubtree {
				t.Fatalf("seed %d: a rule on appfolder/%s and workflow/%s changed %+v", seed, folder, object, req)
			}
			changedInside++
		}
	}
	if changedInside == 0 {
		t.Fatal("the added rules changed no answer at all: the property was not exercised")
	}
}

// FuzzCheck: any request against a compiled Space either answers
// consistently or is invalid input; it never panics.
func FuzzCheck(f *testing.F) {
	s := compile(&testing.T{}, small(1))
	f.Add("user00001@example.com", "edit", "app/app-000001", "f0-1/f1-2", "production", "idp-00001")
	f.Add("", "", "", "", "", "")
	f.Add("a@b", "create-folder", "appfolder//", "/", "staging", "")
	f.Add("user00002@example.com", "manage-members", "group/team-00002", "", "", "")
	f.Add("x@y.z", "view-users", "space", "", "qa", "developers")
	f.Add("user00003@example.com", "view-unpublished", "app/app-000003", "", "development", "idp-00003")
	f.Add("sso@example.com", "run", "workflow/w", "a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r", "", "idp-00004")
	f.Add("user00004@example.com", "use", "app/a/b", "", "", "")
	f.Add("user00004@example.com", "use", "querylibrary/x", "", "", "")
	f.Add("\u212Aarl@example.com", "use", "app/a", "", "", "")
	f.Add("ana@bücher.example", "edit", "appfolder/a/../b", "a/./b", "", "")
	f.Add("USER00001@EXAMPLE.COM.", "edit", "app/app-000001", "f0-1/f1-2", "", "")
	f.Fuzz(func(t *testing.T, user, action, target, folder, env, idp string) {
		tg, err := access.ParseTarget(target)
		if err != nil {
			// The same target built by hand (as a JSON client would) is
			// invalid input too, never a decision.
			typ, name, _ := strings.Cut(target, "/")
			raw := access.Request{User: user, Action: action, Target: access.Target{Type: access.TargetType(typ), Name: name}, Folder: folder, Environment: env}
			if d, err := s.Check(raw); err == nil {
				t.Fatalf("ParseTarget refuses %q but Check answers it: %+v", target, d)
			}
			return
		}
		req := access.Request{User: user, Action: action, Target: tg, Folder: folder, Environment: env, Groups: []string{idp}}
		d, err := s.Check(req)
		if err != nil {
			var invalid *access.InvalidInputError
			if !errors.As(err, &invalid) || invalid.Reason == "" {
				t.Fatalf("an error that is not an *InvalidInputError: %v", err)
			}
			return
		}
		checkInvariants(t, s, req, d)
		// Answered: the user is canonical and the folder path too.
		if c, err := access.CanonicalEmail(strings.TrimSpace(user)); err != nil || c != d.User {
			t.Fatalf("answered for %q as %q (canonical %q, %v)", user, d.User, c, err)
		}
		if err := access.CheckFolderPath(folder); err != nil {
			t.Fatalf("answered with a non-canonical folder %q", folder)
		}
		if again, _ := s.Check(req); !reflect.DeepEqual(again, d) {
			t.Fatalf("the same check answered twice differently:\n%+v\n%+v", d, again)
		}
		if _, err := json.Marshal(d); err != nil {
			t.Fatalf("the decision does not marshal: %v", err)
		}
	})
}

// checkInvariants holds a decision to what every decision must be.
func checkInvariants(t *testing.T, s *access.Snapshot, req access.Request, d access.Decision) {
	t.Helper()
	if d.Allowed != (d.Reason == access.ReasonGranted) {
		t.Fatalf("Allowed=%v with reason %s", d.Allowed, d.Reason)
	}
	switch d.Reason {
	case access.ReasonGranted, access.ReasonNotAMember, access.ReasonInsufficientLevel, access.ReasonReadOnlyEnvironment, access.ReasonNotPermitted:
	default:
		t.Fatalf("unknown reason %q", d.Reason)
	}
	if d.Message == "" || d.Space != s.Space() || d.Revision != s.Revision() {
		t.Fatalf("a decision explains itself: %+v", d)
	}
	if d.Allowed && d.Level < d.Required && !(d.Action == "view-unpublished" && d.Level >= access.Use && d.Source != nil && d.Source.Kind == access.SourceAdditional) {
		t.Fatalf("allowed below the required level: %+v", d)
	}
	if d.Allowed && (d.Source == nil || d.Group == "") {
		t.Fatalf("an allowed decision names its group and source: %+v", d)
	}
	if d.Reason == access.ReasonInsufficientLevel && d.Level >= d.Required {
		t.Fatalf("denied for level with enough level: %+v", d)
	}
	if (d.Reason == access.ReasonNotAMember) != (d.Membership == "") || (d.Membership == "" && len(d.Groups) != 0) {
		t.Fatalf("membership %q with groups %v and reason %s", d.Membership, d.Groups, d.Reason)
	}
	if d.Reason == access.ReasonReadOnlyEnvironment && req.Environment == "" {
		t.Fatalf("read-only without an environment: %+v", d)
	}
}

// FuzzCompile: any input compiles (reporting problems) without panicking,
// and the result answers checks.
func FuzzCompile(f *testing.F) {
	f.Add("g", "AllUsers", "r", "g", uint8(1), uint8(0), true, "a/b", "production", uint8(2))
	f.Add("", "", "", "", uint8(9), uint8(7), false, "", "", uint8(9))
	f.Add("g", "Admin", "r", "missing", uint8(3), uint8(2), false, "x", "qa", uint8(1))
	f.Add("team", "", "r", "team", uint8(2), uint8(2), false, "db", "production", uint8(3))
	f.Add("team", "Viewer", "r", "team", uint8(1), uint8(1), true, "/a//b/", "staging", uint8(0))
	f.Add("team", "", "r", "team", uint8(0), uint8(0), false, "a/b", "", uint8(0))
	f.Fuzz(func(t *testing.T, group, builtin, rule, ruleGroup string, level, kind uint8, folder bool, name, env string, envLevel uint8) {
		in := access.SpaceInput{Name: "fuzz", Environments: []access.Environment{{Name: "production", ReadOnly: true}, {Name: "staging"}},
			Groups: []access.Group{{Name: group, Builtin: access.Builtin(builtin), Members: []access.Member{{Email: "u@x.io"}}}},
			Rules: []access.Rule{{Name: rule, Group: ruleGroup, Level: access.Level(level), Targets: []access.RuleTarget{{
				Kind: access.Kind(kind % 3), Folder: folder, Name: name,
				Environments: []access.EnvironmentLevel{{Name: env, Level: access.Level(envLevel % 4)}}}}}},
		}
		s, problems := access.Compile(in)
		again, _ := access.Compile(in)
		if s.Revision() != again.Revision() {
			t.Fatal("the same input compiles to two revisions")
		}
		for _, p := range problems {
			switch p.Object.Kind {
			case "Space", "PermissionGroup", "AccessRule":
			default:
				t.Fatalf("a problem about %q: %+v", p.Object.Kind, p)
			}
			if p.Field == "" || p.Reason == "" || p.Message == "" {
				t.Fatalf("a problem names its field, reason and message: %+v", p)
			}
		}
		if st := s.Stats(); st.Rules > 1 || st.Groups > 1 || (st.Rules == 1) == slices.ContainsFunc(problems, func(p access.Problem) bool { return p.Object.Kind == "AccessRule" }) {
			t.Fatalf("stats %+v with problems %v", st, problems)
		}
		for _, target := range []string{"app/a", "app/" + name, "appfolder/" + name, "resource/" + name, "querylibrary", "space"} {
			tg, err := access.ParseTarget(target)
			if err != nil {
				continue
			}
			for _, e := range []string{"", "production", "staging"} {
				for _, action := range access.Actions(tg.Type) {
					req := access.Request{User: "u@x.io", Action: action, Target: tg, Folder: name, Environment: e}
					d, err := s.Check(req)
					if err != nil && access.CheckFolderPath(name) != nil {
						continue // a non-canonical folder path is invalid input
					}
					if err != nil {
						t.Fatalf("%+v: %v", req, err)
					}
					checkInvariants(t, s, req, d)
				}
			}
		}
	})
}

// A snapshot is immutable and safe for concurrent use: checks from many
// goroutines give the answers they give one at a time (run with -race).
func TestConcurrentChecksAgree(t *testing.T) {
	in := small(5)
	s := compile(t, in)
	reqs := accesstest.Requests(in, 400, 5)
	want := make([]access.Decision, len(reqs))
	for i, r := range reqs {
		want[i], _ = s.Check(r)
	}
	errs := make(chan string, 8)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for k := range reqs {
				i := (k + w*53) % len(reqs)
				got, _ := s.Check(reqs[i])
				if !reflect.DeepEqual(got, want[i]) {
					errs <- fmt.Sprintf("%+v: concurrently %+v, alone %+v", reqs[i], got, want[i])
					return
				}
				if k%50 == 0 {
					if _, err := s.WhoCan(access.Request{Action: reqs[i].Action, Target: reqs[i].Target, Folder: reqs[i].Folder, Environment: reqs[i].Environment}); err != nil {
						errs <- err.Error()
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

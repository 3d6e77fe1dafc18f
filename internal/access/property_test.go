package access_test

import (
	"fmt"
	"math/rand/v2"
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
	for seed := range uint64(60) {
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
	for seed := range uint64(60) {
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

// A rule's effect is confined to its Space, and to its target's subtree.
func TestARuleIsConfinedToItsSpaceAndSubtree(t *testing.T) {
	for seed := range uint64(40) {
		r := rand.New(rand.NewPCG(seed, 3))
		in, other := small(seed), small(seed+1000)
		reqs := accesstest.Requests(in, 300, seed)
		otherReqs := accesstest.Requests(other, 300, seed)
		before, otherBefore := levels(t, compile(t, in), reqs), levels(t, compile(t, other), otherReqs)

		folder := accesstest.FolderPath(r, 3)
		group := in.Groups[4+r.IntN(len(in.Groups)-4)].Name
		in.Rules = append(in.Rules, access.Rule{Name: "added", Group: group, Level: access.Own,
			Targets: []access.RuleTarget{{Kind: access.App, Folder: true, Name: folder}, {Kind: access.Workflow, Name: "only-this-one"}}})
		after := levels(t, compile(t, in), reqs)
		if otherAfter := levels(t, compile(t, other), otherReqs); fmt.Sprint(otherAfter) != fmt.Sprint(otherBefore) {
			t.Fatalf("seed %d: a rule in one Space changed answers in another", seed)
		}
		for i, req := range reqs {
			if after[i] == before[i] {
				continue
			}
			inSubtree := false
			switch req.Target.Type {
			case access.TargetApp:
				inSubtree = req.Folder == folder || hasPrefix(req.Folder, folder+"/")
			case access.TargetAppFolder:
				inSubtree = req.Target.Name == folder || hasPrefix(req.Target.Name, folder+"/")
			case access.TargetWorkflow:
				inSubtree = req.Target.Name == "only-this-one"
			}
			if !inSubtree {
				t.Fatalf("seed %d: a rule on appfolder/%s changed %+v", seed, folder, req)
			}
		}
	}
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

// FuzzCheck: any request against a compiled Space either answers
// consistently or is invalid input; it never panics.
func FuzzCheck(f *testing.F) {
	s := compile(&testing.T{}, small(1))
	f.Add("user00001@example.com", "edit", "app/app-000001", "f0-1/f1-2", "production", "idp-00001")
	f.Add("", "", "", "", "", "")
	f.Add("a@b", "create-folder", "appfolder//", "/", "staging", "")
	f.Add("user00002@example.com", "manage-members", "group/team-00002", "", "", "")
	f.Add("x@y.z", "view-users", "space", "", "qa", "developers")
	f.Fuzz(func(t *testing.T, user, action, target, folder, env, idp string) {
		tg, err := access.ParseTarget(target)
		if err != nil {
			return
		}
		d, err := s.Check(access.Request{User: user, Action: action, Target: tg, Folder: folder, Environment: env, Groups: []string{idp}})
		if err != nil {
			return
		}
		if d.Allowed != (d.Reason == access.ReasonGranted) {
			t.Fatalf("Allowed=%v with reason %s", d.Allowed, d.Reason)
		}
		if d.Allowed && d.Level < d.Required {
			t.Fatalf("allowed below the required level: %+v", d)
		}
	})
}

// FuzzCompile: any input compiles (reporting problems) without panicking,
// and the result answers checks.
func FuzzCompile(f *testing.F) {
	f.Add("g", "AllUsers", "r", "g", uint8(1), uint8(0), true, "a/b", "production", uint8(2))
	f.Add("", "", "", "", uint8(9), uint8(7), false, "", "", uint8(9))
	f.Add("g", "Admin", "r", "missing", uint8(3), uint8(2), false, "x", "qa", uint8(1))
	f.Fuzz(func(t *testing.T, group, builtin, rule, ruleGroup string, level, kind uint8, folder bool, name, env string, envLevel uint8) {
		in := access.SpaceInput{Name: "fuzz", Environments: []access.Environment{{Name: "production", ReadOnly: true}},
			Groups: []access.Group{{Name: group, Builtin: access.Builtin(builtin), Members: []access.Member{{Email: "u@x.io"}}}},
			Rules: []access.Rule{{Name: rule, Group: ruleGroup, Level: access.Level(level), Targets: []access.RuleTarget{{
				Kind: access.Kind(kind % 3), Folder: folder, Name: name,
				Environments: []access.EnvironmentLevel{{Name: env, Level: access.Level(envLevel % 4)}}}}}},
		}
		s, _ := access.Compile(in)
		for _, target := range []string{"app/" + "a", "appfolder/" + name, "resource/" + name} {
			tg, err := access.ParseTarget(target)
			if err != nil {
				continue
			}
			_, _ = s.Check(access.Request{User: "u@x.io", Action: "use", Target: tg, Folder: name, Environment: "production"})
		}
		_ = s.Revision()
	})
}

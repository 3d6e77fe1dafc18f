package accesstest

import (
	"reflect"
	"strings"
	"testing"

	"github.com/governor-dev/governor/internal/access"
)

// The generator is deterministic: the same parameters give the same Space
// and the same requests, every run (the controllers' scale test and the
// benchmarks compare figures across runs and machines).
func TestGenerateIsDeterministic(t *testing.T) {
	for name, gen := range map[string]func() access.SpaceInput{"small": Small, "medium": Medium} {
		t.Run(name, func(t *testing.T) {
			a, b := gen(), gen()
			if !reflect.DeepEqual(a, b) {
				t.Fatal("two runs generate different Spaces")
			}
			if !reflect.DeepEqual(Requests(a, 500, 7), Requests(b, 500, 7)) {
				t.Fatal("two runs generate different requests")
			}
			sa, _ := access.Compile(a)
			sb, _ := access.Compile(b)
			if sa.Revision() != sb.Revision() {
				t.Fatal("two runs compile to different revisions")
			}
		})
	}
	p := SmallParams
	p.Seed = 2
	if reflect.DeepEqual(Generate(p), Small()) {
		t.Error("another seed gives the same Space")
	}
}

// The generated Space has the shape its parameters ask for (the large one
// is the medium one ten times over; it is left out of unit tests for time).
func TestGenerateShape(t *testing.T) {
	for name, p := range map[string]Params{"small": SmallParams, "medium": MediumParams,
		"custom": {Name: "custom", Groups: 50, RuleTargets: 333, TargetsPerRule: 7, Users: 400, GroupsPerUser: 2, FolderDepth: 3, Seed: 9}} {
		t.Run(name, func(t *testing.T) {
			in := Generate(p)
			s, problems := access.Compile(in)
			if len(problems) > 0 {
				t.Fatalf("the generated Space has problems: %v", problems[:min(len(problems), 5)])
			}
			if in.Name != p.Name || len(in.Groups) != p.Groups+4 || s.Stats().Groups != p.Groups+4 {
				t.Errorf("groups: %d (compiled %d), want %d custom and the four built-in", len(in.Groups), s.Stats().Groups, p.Groups)
			}
			builtins := map[access.Builtin]bool{}
			memberships := map[string]int{}
			idp := 0
			for _, g := range in.Groups {
				builtins[g.Builtin] = true
				idp += len(g.IdPGroups)
				for _, m := range g.Members {
					if g.Builtin == access.Custom {
						memberships[m.Email]++
					}
				}
			}
			for _, b := range []access.Builtin{access.AllUsers, access.Viewer, access.Editor, access.Admin} {
				if !builtins[b] {
					t.Errorf("no %s group", b)
				}
			}
			if idp == 0 || len(in.SSO.RoleMappings) == 0 {
				t.Error("no IdP groups")
			}
			if len(memberships) != p.Users || s.Stats().Members != p.Users {
				t.Errorf("users: %d in custom groups (compiled %d), want %d", len(memberships), s.Stats().Members, p.Users)
			}
			total := 0
			for _, n := range memberships {
				total += n
			}
			if avg := float64(total) / float64(len(memberships)); avg < float64(p.GroupsPerUser)*0.9 || avg > float64(p.GroupsPerUser) {
				t.Errorf("%.2f custom groups per user, want about %d", avg, p.GroupsPerUser)
			}
			targets, overrides, folders, deepest := 0, 0, 0, 0
			for _, r := range in.Rules {
				if len(r.Targets) > max(p.TargetsPerRule, 1) {
					t.Fatalf("rule %s has %d targets, want at most %d", r.Name, len(r.Targets), p.TargetsPerRule)
				}
				for _, tg := range r.Targets {
					targets++
					if len(tg.Environments) > 0 {
						overrides++
						if tg.Kind != access.Resource || tg.Folder {
							t.Fatalf("an override on %+v", tg)
						}
					}
					if tg.Folder {
						folders++
						deepest = max(deepest, strings.Count(tg.Name, "/")+1)
					}
				}
			}
			if targets != p.RuleTargets || s.Stats().Rules != len(in.Rules) {
				t.Errorf("rule targets: %d, want %d", targets, p.RuleTargets)
			}
			if overrides == 0 || folders == 0 || deepest != p.FolderDepth {
				t.Errorf("%d environment overrides, %d folder targets, deepest folder %d (want some, some, %d)", overrides, folders, deepest, p.FolderDepth)
			}
		})
	}
}

// Requests are a realistic mix: members and non-members, objects in folders,
// folder actions, environments; all valid input the Space answers both ways.
func TestRequestsMix(t *testing.T) {
	in := Medium()
	s, _ := access.Compile(in)
	reqs := Requests(in, 2000, 3)
	count := map[string]int{}
	for _, r := range reqs {
		d, err := s.Check(r)
		if err != nil {
			t.Fatalf("%+v is invalid input: %v", r, err)
		}
		switch {
		case d.Reason == access.ReasonNotAMember:
			count["non-member"]++
		case d.Allowed:
			count["allowed"]++
		default:
			count["denied member"]++
		}
		if r.Folder != "" {
			count["in a folder"]++
		}
		if strings.HasSuffix(string(r.Target.Type), "folder") {
			count["folder action"]++
		}
		if r.Environment != "" {
			count["environment"]++
			if d.Reason == access.ReasonReadOnlyEnvironment {
				count["read-only"]++
			}
		}
		if d.Membership == access.MemberIdP {
			count["IdP sign-in"]++
		}
		if d.Source != nil && d.Source.Kind == access.SourceObjectRule {
			count["object rule"]++
		}
		if d.Source != nil && d.Source.Kind == access.SourceFolderRule {
			count["folder rule"]++
		}
	}
	t.Logf("%v", count)
	for _, k := range []string{"non-member", "allowed", "denied member", "in a folder", "folder action", "environment", "read-only", "object rule", "folder rule", "IdP sign-in"} {
		if count[k] < len(reqs)/100 {
			t.Errorf("the mix has %d of %d checks that are %s: %v", count[k], len(reqs), k, count)
		}
	}
}

// Package accesstest generates deterministic Spaces of any size for tests,
// benchmarks and the controllers' scale test: the same parameters give the
// same Space on every run and machine.
package accesstest

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/governor-dev/governor/internal/access"
)

// Params shape a generated Space.
type Params struct {
	Name           string
	Groups         int // custom groups, besides the four built-in ones
	RuleTargets    int // targets over all rules
	TargetsPerRule int
	Users          int
	GroupsPerUser  int
	FolderDepth    int // folder trees up to this depth
	Seed           uint64
}

// LargeParams: 10,000 groups, 100,000 rule targets, 50,000 users in about 3
// groups each, folder trees up to depth 6.
var LargeParams = Params{Name: "large", Groups: 10000, RuleTargets: 100000, TargetsPerRule: 10, Users: 50000, GroupsPerUser: 3, FolderDepth: 6, Seed: 1}

// MediumParams is a tenth of the large Space.
var MediumParams = Params{Name: "medium", Groups: 1000, RuleTargets: 10000, TargetsPerRule: 10, Users: 5000, GroupsPerUser: 3, FolderDepth: 6, Seed: 1}

// SmallParams is a team's Space.
var SmallParams = Params{Name: "small", Groups: 20, RuleTargets: 200, TargetsPerRule: 5, Users: 100, GroupsPerUser: 3, FolderDepth: 4, Seed: 1}

// Large is the large Space.
func Large() access.SpaceInput { return Generate(LargeParams) }

// Medium is the medium Space.
func Medium() access.SpaceInput { return Generate(MediumParams) }

// Small is the small Space.
func Small() access.SpaceInput { return Generate(SmallParams) }

// Environments every generated Space declares.
var Environments = []access.Environment{{Name: "development"}, {Name: "staging", ReadOnly: true}, {Name: "production", ReadOnly: true}}

// Generate builds a Space: the four built-in groups, p.Groups custom groups
// with universal levels, IdP groups and some group admins, users spread over
// about p.GroupsPerUser groups each, and rules naming p.RuleTargets objects
// and folders (some resources with per-environment levels).
func Generate(p Params) access.SpaceInput {
	r := rand.New(rand.NewPCG(p.Seed, 0x9e3779b97f4a7c15))
	in := access.SpaceInput{Name: p.Name, Environments: Environments,
		SSO: access.SSO{RoleMappings: []access.RoleMapping{{IdPGroup: "platform-admins", Group: "admin"}}}}
	in.Groups = append(in.Groups,
		access.Group{Name: "all-users", Builtin: access.AllUsers, Universal: access.Universal{QueryLibrary: access.Use}},
		access.Group{Name: "viewer", Builtin: access.Viewer},
		access.Group{Name: "editor", Builtin: access.Editor, IdPGroups: []string{"developers"}},
		access.Group{Name: "admin", Builtin: access.Admin},
	)
	levels := []access.Level{access.None, access.None, access.Use, access.Edit}
	custom := make([]int, p.Groups) // index into in.Groups
	for i := range p.Groups {
		custom[i] = len(in.Groups)
		in.Groups = append(in.Groups, access.Group{
			Name:      GroupName(i),
			IdPGroups: []string{fmt.Sprintf("idp-%05d", i)},
			Universal: access.Universal{Apps: levels[r.IntN(len(levels))], Workflows: levels[r.IntN(len(levels))],
				Resources: levels[r.IntN(len(levels))], QueryLibrary: levels[r.IntN(3)]},
			Additional: access.Additional{UserList: r.IntN(10) == 0, AuditLog: r.IntN(20) == 0, UnpublishedReleases: r.IntN(5) == 0},
		})
	}
	// Users: a few in built-in groups, the rest in custom groups.
	for u := range p.Users {
		email := UserEmail(u)
		switch {
		case u%500 == 0:
			addMember(&in.Groups[3], email, false) // admin
		case u%50 == 0:
			addMember(&in.Groups[1], email, false) // viewer
		case u%70 == 0:
			addMember(&in.Groups[2], email, false) // editor
		}
		if p.Groups == 0 {
			continue
		}
		for k := range p.GroupsPerUser {
			g := &in.Groups[custom[(u*7+k*p.Groups/p.GroupsPerUser+r.IntN(3))%p.Groups]]
			addMember(g, email, r.IntN(40) == 0)
		}
	}
	// Rules.
	if p.TargetsPerRule <= 0 {
		p.TargetsPerRule = 1
	}
	ruleLevels := []access.Level{access.Use, access.Use, access.Edit, access.Own}
	kinds := []access.Kind{access.App, access.App, access.Workflow, access.Resource}
	for n := 0; n < p.RuleTargets && p.Groups > 0; {
		rule := access.Rule{
			Name:  fmt.Sprintf("rule-%06d", len(in.Rules)),
			Group: in.Groups[custom[r.IntN(p.Groups)]].Name,
			Level: ruleLevels[r.IntN(len(ruleLevels))],
		}
		for range p.TargetsPerRule {
			if n == p.RuleTargets {
				break
			}
			kind := kinds[r.IntN(len(kinds))]
			t := access.RuleTarget{Kind: kind}
			if r.IntN(4) == 0 {
				t.Folder = true
				t.Name = FolderPath(r, p.FolderDepth)
			} else {
				t.Name = ObjectName(kind, r.IntN(max(p.RuleTargets/2, 1)))
				if kind == access.Resource && r.IntN(5) == 0 {
					t.Environments = []access.EnvironmentLevel{{Name: "production", Level: access.Use}}
				}
			}
			rule.Targets = append(rule.Targets, t)
			n++
		}
		in.Rules = append(in.Rules, rule)
	}
	return in
}

func addMember(g *access.Group, email string, admin bool) {
	for _, m := range g.Members {
		if m.Email == email {
			return
		}
	}
	g.Members = append(g.Members, access.Member{Email: email, GroupAdmin: admin})
}

// GroupName is the i-th custom group's name.
func GroupName(i int) string { return fmt.Sprintf("team-%05d", i) }

// UserEmail is the u-th user's email.
func UserEmail(u int) string { return fmt.Sprintf("user%05d@example.com", u) }

// ObjectName is the i-th object of a kind.
func ObjectName(k access.Kind, i int) string {
	return fmt.Sprintf("%s-%06d", strings.ToLower(k.String()), i)
}

// FolderPath is a folder path of depth 1 to maxDepth over a few names per level.
func FolderPath(r *rand.Rand, maxDepth int) string {
	depth := 1 + r.IntN(max(maxDepth, 1))
	parts := make([]string, depth)
	for i := range parts {
		parts[i] = fmt.Sprintf("f%d-%d", i, r.IntN(8))
	}
	return strings.Join(parts, "/")
}

// Requests is a deterministic, realistic mix of n checks on a generated
// Space:
//   - a tenth from non-members;
//   - about half from a member of a group on something that group's rules
//     name (an object named by an object rule, an object inside a folder
//     rule's folder or below it, or that folder itself), as people mostly
//     open what they were given;
//   - the rest from any member on any object or folder that some rule names,
//     the objects in random folders up to depth 6;
//   - some of them signing in with the IdP group of a group instead of being
//     listed (Request.Groups), when the Space's groups map IdP groups;
//   - a third in one of the Space's environments (read-only ones included).
func Requests(in access.SpaceInput, n int, seed uint64) []access.Request {
	r := rand.New(rand.NewPCG(seed, 42))
	var members []string
	byGroup := map[string]*access.Group{}
	for i, g := range in.Groups {
		byGroup[g.Name] = &in.Groups[i]
		for _, m := range g.Members {
			members = append(members, m.Email)
		}
	}
	type ruleTarget struct {
		group string
		t     access.RuleTarget
	}
	var targets []ruleTarget
	for _, rule := range in.Rules {
		for _, t := range rule.Targets {
			targets = append(targets, ruleTarget{group: rule.Group, t: t})
		}
	}
	out := make([]access.Request, n)
	for i := range out {
		req := access.Request{User: fmt.Sprintf("stranger%d@elsewhere.example", i)}
		if len(targets) == 0 {
			if len(members) > 0 && i%10 != 0 {
				req.User = members[r.IntN(len(members))]
			}
			req.Action, req.Target = "use", access.Target{Type: access.TargetApp, Name: "app"}
			out[i] = req
			continue
		}
		t := targets[r.IntN(len(targets))]
		own := false // the request is about what the user's group was given
		switch g := byGroup[t.group]; {
		case i%10 == 0:
		case i%2 == 1 && g != nil && len(g.IdPGroups) > 0 && r.IntN(5) == 0:
			req.User = fmt.Sprintf("sso%d@example.com", i)
			req.Groups = []string{g.IdPGroups[0]}
			own = true
		case i%2 == 1 && g != nil && len(g.Members) > 0:
			req.User = g.Members[r.IntN(len(g.Members))].Email
			own = true
		case len(members) > 0:
			req.User = members[r.IntN(len(members))]
		}
		kind := strings.ToLower(t.t.Kind.String())
		switch {
		case t.t.Folder && own && r.IntN(2) == 0:
			// an object inside the folder, or deeper
			req.Target = access.Target{Type: access.TargetType(kind), Name: ObjectName(t.t.Kind, r.IntN(1_000_000))}
			req.Action = objectAction(r, t.t.Kind)
			req.Folder = t.t.Name
			if r.IntN(2) == 0 {
				req.Folder += "/" + FolderPath(r, 2)
			}
		case t.t.Folder:
			req.Target = access.Target{Type: access.TargetType(kind + "folder"), Name: t.t.Name}
			req.Action = []string{"use", "create", "manage"}[r.IntN(3)]
		default:
			req.Target = access.Target{Type: access.TargetType(kind), Name: t.t.Name}
			req.Action = objectAction(r, t.t.Kind)
			if t.t.Kind != access.Resource {
				req.Folder = FolderPath(r, 6)
			}
		}
		if r.IntN(3) == 0 {
			req.Environment = Environments[r.IntN(len(Environments))].Name
		}
		out[i] = req
	}
	return out
}

func objectAction(r *rand.Rand, k access.Kind) string {
	if k == access.Resource {
		return []string{"use", "write", "configure"}[r.IntN(3)]
	}
	return []string{"use", "edit", "delete"}[r.IntN(3)]
}

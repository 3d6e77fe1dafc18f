package access_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/access/accesstest"
)

// The four ways of asking (Check, WhoCan, Permissions, Diff) agree on the
// seeded Spaces of accesstest, on thousands of sampled questions each.

// agreementCases is how many seeded Spaces each agreement property is tried on.
const agreementCases = 200

// enriched is a small seeded Space with what the generator leaves out: a
// Space-level role mapping, an IdP group mapped to AllUsers, group admins
// and every additional permission somewhere.
func enriched(seed uint64) access.SpaceInput {
	in := small(seed)
	r := rand.New(rand.NewPCG(seed, 7))
	in.SSO.RoleMappings = append(in.SSO.RoleMappings,
		access.RoleMapping{IdPGroup: "contractors", Group: "all-users"},
		access.RoleMapping{IdPGroup: "leads", Group: in.Groups[4+r.IntN(len(in.Groups)-4)].Name})
	for i := 4; i < len(in.Groups); i++ {
		g := &in.Groups[i]
		switch r.IntN(6) {
		case 0:
			g.Additional.Themes = true
		case 1:
			g.Additional.UnpublishedReleases = true
		case 2:
			g.Additional.AccountDetails, g.Additional.UsageAnalytics = true, true
		}
	}
	return in
}

// questions samples n questions: the accesstest mix, every action of each
// target type, the query library, the Space and groups, from listed users,
// IdP groups' users and strangers.
func questions(in access.SpaceInput, n int, seed uint64) []access.Request {
	r := rand.New(rand.NewPCG(seed, 11))
	reqs := accesstest.Requests(in, n, seed)
	for i := range reqs {
		q := &reqs[i]
		switch r.IntN(8) {
		case 0:
			q.Target, q.Folder = access.Target{Type: access.TargetSpace}, ""
		case 1:
			q.Target, q.Folder = access.Target{Type: access.TargetQueryLibrary}, ""
		case 2:
			q.Target, q.Folder = access.Target{Type: access.TargetGroup, Name: in.Groups[r.IntN(len(in.Groups))].Name}, ""
		case 3:
			q.Groups = []string{"contractors"}
			q.User = fmt.Sprintf("contractor%d@example.com", i)
		}
		acts := access.Actions(q.Target.Type)
		q.Action = acts[r.IntN(len(acts))]
	}
	return reqs
}

// whoCanAllows is whether a who-can answer covers the user of decision d:
// a member in a granting group (a group admin, for a group-admin grant), or
// in a group of each side of Together.
func whoCanAllows(res access.WhoCanResult, d access.Decision) bool {
	if d.Membership == "" || res.Denied != "" {
		return false
	}
	in := func(g access.Grant) bool { return g.Everyone || slices.Contains(d.Groups, g.Group) }
	for _, g := range res.Grants {
		if g.Source.Kind == access.SourceGroupAdmin {
			if slices.Contains(g.Members, d.User) {
				return true
			}
		} else if in(g) {
			return true
		}
	}
	if t := res.Together; t != nil {
		return slices.ContainsFunc(t.LevelGroups, in) && slices.ContainsFunc(t.FlagGroups, in)
	}
	return false
}

// listedBy is whether who-can names a listed user: among a grant's
// members, a pair's members, or every member.
func listedBy(res access.WhoCanResult, d access.Decision) bool {
	if d.Membership == "" || res.Denied != "" {
		return false
	}
	for _, g := range res.Grants {
		if (g.Everyone && d.Membership != "") || slices.Contains(g.Members, d.User) {
			return true
		}
	}
	return res.Together != nil && slices.Contains(res.Together.Members, d.User)
}

// who-can lists exactly the users Check allows, in both directions, IdP
// groups' users included.
func TestWhoCanAgreesWithCheck(t *testing.T) {
	allowed, denied := 0, 0
	for seed := range uint64(agreementCases) {
		in := enriched(seed)
		s := compile(t, in)
		for _, req := range questions(in, 2000, seed) {
			d, err := s.Check(req)
			if err != nil {
				t.Fatalf("seed %d: %+v: %v", seed, req, err)
			}
			q := req
			q.User, q.Groups = "", nil
			res, err := s.WhoCan(q)
			if err != nil {
				t.Fatalf("seed %d: who-can %+v: %v", seed, q, err)
			}
			if got := whoCanAllows(res, d); got != d.Allowed {
				t.Fatalf("seed %d: %+v: check allowed=%v (%s), who-can covers the user: %v\n%+v", seed, req, d.Allowed, d.Message, got, res)
			}
			if d.Membership == access.MemberListed && len(req.Groups) == 0 {
				if got := listedBy(res, d); got != d.Allowed {
					t.Fatalf("seed %d: %+v: check allowed=%v (%s), who-can lists them: %v", seed, req, d.Allowed, d.Message, got)
				}
			}
			if d.Allowed {
				allowed++
			} else {
				denied++
			}
		}
	}
	if allowed < agreementCases*100 || denied < agreementCases*100 {
		t.Fatalf("a lopsided sample: %d allowed, %d denied", allowed, denied)
	}
}

// permissions agrees with check on every target it lists, on its universal
// levels (any object no rule of the user's names), the query library, the
// Space and the groups, and on sampled targets it does not list.
func TestPermissionsAgreeWithCheck(t *testing.T) {
	for seed := range uint64(agreementCases / 2) {
		in := enriched(seed)
		s := compile(t, in)
		users := map[string][]string{}
		for _, q := range questions(in, 400, seed) {
			users[q.User] = q.Groups
		}
		reqs := questions(in, 2000, seed+1)
		for user, idp := range users {
			p, err := s.Permissions(user, idp)
			if err != nil {
				t.Fatal(err)
			}
			ask := func(action string, target access.Target) access.Decision {
				d, err := s.Check(access.Request{User: user, Groups: idp, Action: action, Target: target})
				if err != nil {
					t.Fatalf("seed %d: %s %s: %v", seed, action, target, err)
				}
				return d
			}
			agree := func(perm access.Permission, target access.Target) {
				for _, action := range access.Actions(target.Type) {
					d := ask(action, target)
					if d.Allowed != slices.Contains(perm.Actions, action) || (action == "use" && d.Level != perm.Level) {
						t.Fatalf("seed %d: %s %s %s: check allowed=%v level %s (%s); permissions %s %v", seed, user, action, target, d.Allowed, d.Level, d.Message, perm.Level, perm.Actions)
					}
				}
			}
			listed := map[access.Target]access.Permission{}
			for _, perm := range p.Permissions {
				listed[perm.Target] = perm
				agree(perm, perm.Target)
			}
			for _, u := range p.Universal {
				agree(u, access.Target{Type: u.Target.Type, Name: "not-named-by-any-rule"})
			}
			if d := ask("use", access.Target{Type: access.TargetQueryLibrary}); d.Membership != "" && d.Level != p.QueryLibrary {
				t.Fatalf("seed %d: %s query library: check %s, permissions %s", seed, user, d.Level, p.QueryLibrary)
			}
			for _, action := range access.Actions(access.TargetSpace) {
				if d := ask(action, access.Target{Type: access.TargetSpace}); d.Allowed != slices.Contains(p.SpaceActions, action) {
					t.Fatalf("seed %d: %s %s: check %v, permissions %v", seed, user, action, d.Allowed, p.SpaceActions)
				}
			}
			for _, g := range in.Groups {
				d := ask("manage-members", access.Target{Type: access.TargetGroup, Name: g.Name})
				if d.Allowed != (p.Admin || slices.Contains(p.GroupAdminOf, g.Name)) {
					t.Fatalf("seed %d: %s manage-members %s: check %v, permissions admin=%v groupAdminOf=%v", seed, user, g.Name, d.Allowed, p.Admin, p.GroupAdminOf)
				}
			}
			// Sampled objects at the root that the user's rules do not name
			// have the universal level.
			for i := range 40 {
				q := reqs[(i*53+len(user))%len(reqs)]
				if p.Membership == "" {
					break
				}
				kind, err := access.ParseKind(string(q.Target.Type))
				if err != nil {
					continue
				}
				if _, named := listed[q.Target]; named {
					continue
				}
				agree(p.Universal[kind], q.Target)
			}
		}
	}
}

// A question as Diff names it.
type diffKey struct {
	subject string
	target  access.Target
	folder  string
	env     string
}

// diffState is one state of a Space, as the diff property asks it.
type diffState struct {
	in   access.SpaceInput
	snap *access.Snapshot
}

func (st diffState) listed(email string) bool {
	for _, g := range st.in.Groups {
		if g.Builtin == access.AllUsers {
			continue
		}
		for _, m := range g.Members {
			if strings.EqualFold(m.Email, email) {
				return true
			}
		}
	}
	return false
}

func (st diffState) mapped(idp string) bool {
	names := map[string]bool{}
	for _, g := range st.in.Groups {
		names[g.Name] = true
		if g.Builtin != access.AllUsers && slices.Contains(g.IdPGroups, idp) {
			return true
		}
	}
	for _, m := range st.in.SSO.RoleMappings {
		if m.IdPGroup == idp && names[m.Group] {
			return true
		}
	}
	return false
}

// answer is a check's answer: allowed, and the level (None for invalid input).
func (st diffState) answer(t *testing.T, req access.Request) (bool, access.Level) {
	d, err := st.snap.Check(req)
	if err != nil {
		return false, access.None
	}
	return d.Allowed, d.Level
}

// jitDomain is the domain class Diff puts a user of email in ("" without JIT).
func jitDomain(a, b diffState, email string) string {
	if !a.in.SSO.JIT && !b.in.SSO.JIT {
		return ""
	}
	_, dom, _ := strings.Cut(strings.ToLower(email), "@")
	for _, st := range []diffState{a, b} {
		for _, d := range st.in.SSO.AllowedDomains {
			if strings.EqualFold(strings.TrimPrefix(d, "@"), dom) {
				return dom
			}
		}
	}
	return "*"
}

// key is the question class Diff names a sampled question by, or false for
// a question no subject of Diff asks (a user listed nowhere, signing in
// without a mapped IdP group, without JIT: a non-member in both states).
func key(t *testing.T, a, b diffState, req access.Request, cache map[string]map[access.Target]bool) (diffKey, bool) {
	k := diffKey{target: req.Target, env: req.Environment}
	email := strings.ToLower(req.User)
	dom := jitDomain(a, b, email)
	switch {
	case len(req.Groups) == 0 && (a.listed(email) || b.listed(email)):
		k.subject = "user:" + email
	case len(req.Groups) == 1 && (a.mapped(req.Groups[0]) || b.mapped(req.Groups[0])):
		k.subject = "idp:" + req.Groups[0]
		if dom != "" {
			k.subject += " (*@" + dom + ")"
		}
	case dom != "":
		k.subject = "user:*@" + dom
	default:
		return k, false
	}
	// The targets the subject's rules name, in either state.
	named, ok := cache[req.User+" "+strings.Join(req.Groups, ",")]
	if !ok {
		named = map[access.Target]bool{}
		for _, st := range []diffState{a, b} {
			p, err := st.snap.Permissions(req.User, req.Groups)
			if err != nil {
				t.Fatal(err)
			}
			for _, perm := range p.Permissions {
				named[perm.Target] = true
			}
		}
		cache[req.User+" "+strings.Join(req.Groups, ",")] = named
	}
	deepest := func(typ access.TargetType, path string) string {
		for p := strings.Trim(path, "/"); p != ""; {
			if named[access.Target{Type: typ, Name: p}] {
				return p
			}
			i := strings.LastIndexByte(p, '/')
			if i < 0 {
				break
			}
			p = p[:i]
		}
		return ""
	}
	switch req.Target.Type {
	case access.TargetApp, access.TargetWorkflow, access.TargetResource:
		if !named[req.Target] {
			k.target.Name = "*"
		}
		k.folder = deepest(req.Target.Type+"folder", req.Folder)
	case access.TargetAppFolder, access.TargetWorkflowFolder, access.TargetResourceFolder:
		k.target.Name = deepest(req.Target.Type, req.Target.Name)
		if k.target.Name == "" {
			k.target.Name = "*"
		}
	}
	return k, true
}

// mutate changes 1 to 3 access-affecting fields of a Space at random.
func mutate(r *rand.Rand, in *access.SpaceInput) []string {
	var did []string
	custom := func() *access.Group { return &in.Groups[4+r.IntN(len(in.Groups)-4)] }
	for range 1 + r.IntN(3) {
		g := custom()
		switch m := r.IntN(14); m {
		case 0:
			g.Additional.UnpublishedReleases = !g.Additional.UnpublishedReleases
		case 1:
			g.Additional.AuditLog = !g.Additional.AuditLog
		case 2:
			if len(g.Members) > 0 {
				i := r.IntN(len(g.Members))
				g.Members[i].GroupAdmin = !g.Members[i].GroupAdmin
			}
		case 3:
			g.Members = append(g.Members, access.Member{Email: accesstest.UserEmail(r.IntN(120))})
		case 4:
			if len(g.Members) > 0 {
				g.Members = slices.Delete(g.Members, 0, 1)
			}
		case 5:
			in.SSO.RoleMappings = append(in.SSO.RoleMappings, access.RoleMapping{IdPGroup: fmt.Sprintf("idp-%05d", r.IntN(30)), Group: g.Name})
		case 6:
			g.IdPGroups = nil
		case 7:
			in.SSO.JIT = !in.SSO.JIT
			if r.IntN(2) == 0 {
				in.SSO.AllowedDomains = []string{"example.com"}
			}
		case 8:
			if len(in.Rules) > 0 {
				rule := &in.Rules[r.IntN(len(in.Rules))]
				rule.Level = access.Level(1 + r.IntN(3))
			}
		case 9:
			if len(in.Rules) > 0 {
				in.Rules = slices.Delete(in.Rules, 0, 1)
			}
		case 10:
			g.Universal.Apps, g.Universal.QueryLibrary = access.Level(r.IntN(4)), access.Level(r.IntN(3))
		case 11:
			envs := slices.Clone(in.Environments)
			i := r.IntN(len(envs))
			envs[i].ReadOnly = !envs[i].ReadOnly
			in.Environments = envs
		case 12:
			in.Groups[r.IntN(4)].Members = append(in.Groups[r.IntN(4)].Members, access.Member{Email: accesstest.UserEmail(r.IntN(120))})
		case 13:
			in.Rules = append(in.Rules, access.Rule{Name: "added", Group: g.Name, Level: access.Level(1 + r.IntN(3)),
				Targets: []access.RuleTarget{{Kind: access.App, Folder: true, Name: accesstest.FolderPath(r, 3)}}})
		}
		did = append(did, fmt.Sprint(len(did)))
	}
	return did
}

// deepCopy copies a SpaceInput's slices, so that mutating one state leaves the other.
func deepCopy(in access.SpaceInput) access.SpaceInput {
	out := in
	out.Environments = slices.Clone(in.Environments)
	out.SSO.RoleMappings = slices.Clone(in.SSO.RoleMappings)
	out.SSO.AllowedDomains = slices.Clone(in.SSO.AllowedDomains)
	out.Groups = slices.Clone(in.Groups)
	for i := range out.Groups {
		out.Groups[i].Members = slices.Clone(in.Groups[i].Members)
		out.Groups[i].IdPGroups = slices.Clone(in.Groups[i].IdPGroups)
	}
	out.Rules = slices.Clone(in.Rules)
	return out
}

// diff(A, B) names every sampled question whose answer changed, and only
// such questions: it is empty exactly when Check answers every question the
// same in A and B.
func TestDiffNamesEveryChangedQuestion(t *testing.T) {
	changedSeen, emptySeen := 0, 0
	for seed := range uint64(agreementCases) {
		r := rand.New(rand.NewPCG(seed, 13))
		a := diffState{in: enriched(seed)}
		b := diffState{in: deepCopy(a.in)}
		mutate(r, &b.in)
		a.snap, _ = access.Compile(a.in)
		b.snap, _ = access.Compile(b.in)
		res := access.Diff(a.snap, b.snap)
		byKey := map[diffKey]access.Change{}
		for _, c := range res.Changes {
			k := diffKey{subject: c.Subject, target: c.Target, folder: c.Folder, env: c.Environment}
			if _, dup := byKey[k]; dup {
				t.Fatalf("seed %d: two changes for %+v", seed, k)
			}
			byKey[k] = c
		}
		lookup := func(k diffKey) (access.Change, bool) {
			if c, ok := byKey[k]; ok {
				return c, true
			}
			k.env = ""
			c, ok := byKey[k]
			return c, ok
		}
		// Completeness: every sampled question that changed is named.
		changed := 0
		cache := map[string]map[access.Target]bool{}
		for _, req := range questions(a.in, 2000, seed) {
			before, _ := a.answer(t, req)
			after, _ := b.answer(t, req)
			k, asked := key(t, a, b, req, cache)
			if !asked {
				if before != after {
					t.Fatalf("seed %d: %+v changed (%v -> %v) for a user Diff does not ask about", seed, req, before, after)
				}
				continue
			}
			c, ok := lookup(k)
			gained, lost := ok && slices.Contains(c.NowAllowed, req.Action), ok && slices.Contains(c.NoLongerAllowed, req.Action)
			if before != after {
				changed++
			}
			if gained != (!before && after) || lost != (before && !after) {
				t.Fatalf("seed %d: %+v: %v -> %v, as %+v; diff says %+v (found %v)", seed, req, before, after, k, c, ok)
			}
		}
		// Soundness: every change names real questions, with their levels.
		for i, c := range res.Changes {
			if i%7 != 0 && len(res.Changes) > 50 {
				continue
			}
			verifyChange(t, seed, a, b, c)
		}
		if changed > 0 && len(res.Changes) == 0 {
			t.Fatalf("seed %d: %d questions changed, yet the diff is empty", seed, changed)
		}
		if len(res.Changes) == 0 {
			emptySeen++
		} else {
			changedSeen++
		}
	}
	if changedSeen < agreementCases/2 || emptySeen == 0 {
		t.Fatalf("the mutations changed access in %d Spaces and nothing in %d: the property is not exercised both ways", changedSeen, emptySeen)
	}
}

// verifyChange asks Check the questions a change names, in both states.
func verifyChange(t *testing.T, seed uint64, a, b diffState, c access.Change) {
	t.Helper()
	req := access.Request{Target: c.Target, Folder: c.Folder, Environment: c.Environment}
	subject, domain, _ := strings.Cut(c.Subject, " (*@")
	domain = strings.TrimSuffix(domain, ")")
	switch {
	case strings.HasPrefix(subject, "user:*@"):
		domain = strings.TrimPrefix(subject, "user:*@")
	case strings.HasPrefix(subject, "user:"):
		req.User = strings.TrimPrefix(subject, "user:")
	case strings.HasPrefix(subject, "idp:"):
		req.Groups = []string{strings.TrimPrefix(subject, "idp:")}
	}
	if req.User == "" {
		if domain == "" || domain == "*" {
			domain = "not-a-jit-domain.invalid"
		}
		req.User = "someone@" + domain
	}
	if req.Target.Name == "*" {
		req.Target.Name = "not-named-by-any-rule"
		if strings.HasSuffix(string(req.Target.Type), "folder") {
			req.Target.Name = "not/named/by-any-rule"
		}
	}
	for _, action := range access.Actions(c.Target.Type) {
		req.Action = action
		before, from := a.answer(t, req)
		after, to := b.answer(t, req)
		if slices.Contains(c.NowAllowed, action) != (!before && after) || slices.Contains(c.NoLongerAllowed, action) != (before && !after) {
			t.Fatalf("seed %d: %v: %s is %v -> %v", seed, c, action, before, after)
		}
		if action == "use" && c.Target.Type != access.TargetSpace && (from != c.From || to != c.To) {
			if _, err := a.snap.Check(req); err == nil {
				if _, err := b.snap.Check(req); err == nil {
					t.Fatalf("seed %d: %v: levels %s -> %s", seed, c, from, to)
				}
			}
		}
	}
}

package access

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"hash/maphash"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Snapshot is a Space's compiled access model. It is immutable: every method
// is safe for concurrent use, and a new compile makes a new Snapshot.
type Snapshot struct {
	space    string
	revision string
	seed     maphash.Seed // of the target index's hashes

	envs     []Environment
	envIndex map[string]int

	jit        bool
	jitDomains map[string]struct{} // empty: any domain

	groups     []compiledGroup
	groupIndex map[string]int32
	allUsers   int32 // -1 when the Space has no AllUsers group

	// membership: email (lower case) -> the groups that list it, and IdP group -> groups.
	byEmail map[string][]int32
	byIdP   map[string][]int32

	// rules: (group, kind, object or folder) -> the rules on exactly that target.
	rules map[ruleKey]*targetRules

	ruleCount   int
	memberCount int

	expiry expiryState // see expiry.go

	// whoCanIdx is the who-can index (whocan_index.go), built on the first who-can.
	whoCanIdx func() *whoCanIndex
}

type compiledGroup struct {
	name        string
	displayName string
	builtin     Builtin
	universal   [numKinds]Level
	queryLib    Level
	additional  Additional
	flags       flagSet  // additional, as a set
	members     []Member // sorted by email, emails lower-cased
	emails      []string // members' distinct emails, sorted
	idpGroups   []string
	mappedIdP   []string            // sorted: the IdP groups mapped to the group (its own and the Space's role mappings)
	admins      map[string]struct{} // group admins' emails
	// targets are the rule targets of the group, sorted by targetHash, with
	// their hashes and rules beside them (see index.go).
	targets      []ruleKey
	targetHashes []uint64
	targetRules  []*targetRules
	// objectKinds has bit k set when the group has an object rule of kind k;
	// folderDepths[k] has bit d set when it has a folder rule of kind k on a
	// path of d segments. A check looks up only what can exist.
	objectKinds  uint8
	folderDepths [numKinds]uint64
}

type ruleKey struct {
	group  int32
	kind   Kind
	folder bool
	name   string
}

// targetRules are one group's rules on one target. When several rules of a
// group name the same target, the highest level counts.
type targetRules struct {
	level Level
	rule  string // the rule that gives level
	// byEnv: environment index -> the level there and the rule giving it.
	byEnv map[int]envLevel
}

type envLevel struct {
	level Level
	rule  string
	// override: the rule's override for the environment gives level (not
	// the level it inherits).
	override bool
}

// levelIn is the group's level on the target in environment env (-1: none).
func (t *targetRules) levelIn(env int) (Level, string) {
	if env >= 0 && t.byEnv != nil {
		if e, ok := t.byEnv[env]; ok {
			return e.level, e.rule
		}
	}
	return t.level, t.rule
}

// Stats counts what a snapshot holds.
type Stats struct {
	Groups  int `json:"groups"`
	Rules   int `json:"rules"`
	Members int `json:"members"`
}

// Space is the Space's name.
func (s *Snapshot) Space() string { return s.space }

// Revision is the content hash of the compiled input: equal inputs give equal revisions.
func (s *Snapshot) Revision() string { return s.revision }

// ShortRevision is a revision cut to 12 characters, for people.
func ShortRevision(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}

// Stats counts the compiled groups, rules and distinct listed members.
func (s *Snapshot) Stats() Stats {
	return Stats{Groups: len(s.groups), Rules: s.ruleCount, Members: s.memberCount}
}

// Environments are the Space's declared environments.
func (s *Snapshot) Environments() []Environment { return append([]Environment(nil), s.envs...) }

// Compile builds a Space's snapshot. Objects that cannot be compiled (a rule
// naming a missing group, an undeclared environment, a second group with the
// same builtin) are left out and reported as problems; the rest compiles.
func Compile(in SpaceInput) (*Snapshot, []Problem) {
	if in.At.IsZero() {
		in.At = time.Now()
	}
	c := compiler{in: in, domains: domainMemo{}}
	return c.compile()
}

type compiler struct {
	in       SpaceInput
	problems []Problem
	expiry   expiryState
	domains  domainMemo
}

func (c *compiler) problem(kind, name, field, reason, format string, args ...any) {
	c.problems = append(c.problems, Problem{
		Object: ObjectRef{Kind: kind, Name: name}, Field: field, Reason: reason, Message: fmt.Sprintf(format, args...),
	})
}

func (c *compiler) compile() (*Snapshot, []Problem) {
	s := &Snapshot{
		space:      c.in.Name,
		envIndex:   make(map[string]int, len(c.in.Environments)),
		groupIndex: make(map[string]int32, len(c.in.Groups)),
		allUsers:   -1,
		byEmail:    map[string][]int32{},
		byIdP:      map[string][]int32{},
		jit:        c.in.SSO.JIT,
		jitDomains: map[string]struct{}{},
		seed:       maphash.MakeSeed(),
	}
	for i, e := range c.in.Environments {
		if _, dup := s.envIndex[e.Name]; dup {
			c.problem("Space", c.in.Name, fmt.Sprintf("spec.environments[%d].name", i), ReasonDuplicateEnvironment, "environment %q is declared twice", e.Name)
			continue
		}
		s.envIndex[e.Name] = len(s.envs)
		s.envs = append(s.envs, e)
	}
	for i, d := range c.in.SSO.AllowedDomains {
		domain, err := canonicalDomain(strings.TrimPrefix(d, "@"))
		if err != nil {
			c.problem("Space", c.in.Name, fmt.Sprintf("spec.sso.jit.allowedDomains[%d]", i), ReasonInvalidEmail, "%v", err)
			continue
		}
		s.jitDomains[domain] = struct{}{}
	}

	c.compileGroups(s)
	for i, m := range c.in.SSO.RoleMappings {
		g, ok := s.groupIndex[m.Group]
		if !ok {
			c.problem("Space", c.in.Name, fmt.Sprintf("spec.sso.roleMappings[%d].group", i), ReasonGroupNotFound, "group %q does not exist in the Space", m.Group)
			continue
		}
		// A mapping to AllUsers adds no group, but still admits the IdP
		// group's users to the Space (access-model.md, membership rule 2).
		s.byIdP[m.IdPGroup] = appendUnique(s.byIdP[m.IdPGroup], g)
	}
	// In group order (groups are sorted by name), whatever the order of the
	// role mappings: the revision and the groups of a decision depend on it.
	for idp, groups := range s.byIdP {
		slices.Sort(groups)
		for _, g := range groups {
			s.groups[g].mappedIdP = append(s.groups[g].mappedIdP, idp)
		}
	}
	for g := range s.groups {
		slices.Sort(s.groups[g].mappedIdP)
	}
	c.compileRules(s)
	c.expiry.finish(c.in)
	s.expiry = c.expiry
	s.whoCanIdx = sync.OnceValue(func() *whoCanIndex { return buildWhoCanIndex(s) })
	s.revision = revision(s)
	sort.SliceStable(c.problems, func(i, j int) bool {
		a, b := c.problems[i], c.problems[j]
		if a.Object.Kind != b.Object.Kind {
			return a.Object.Kind < b.Object.Kind
		}
		return a.Object.Name < b.Object.Name
	})
	return s, c.problems
}

func (c *compiler) compileGroups(s *Snapshot) {
	groups := append([]Group(nil), c.in.Groups...)
	sort.Slice(groups, func(i, j int) bool { return groups[i].Name < groups[j].Name })
	// Of the groups sharing a builtin, the oldest holds it (then the lowest name).
	builtinOwner := map[Builtin]*Group{}
	for i := range groups {
		g := &groups[i]
		if owner, ok := builtinOwner[g.Builtin]; g.Builtin != Custom && (!ok || g.Created.Before(owner.Created)) {
			builtinOwner[g.Builtin] = g
		}
	}
	emails := map[string]struct{}{}
	for _, g := range groups {
		if owner := builtinOwner[g.Builtin]; g.Builtin != Custom && owner.Name != g.Name {
			c.problem("PermissionGroup", g.Name, "spec.builtin", ReasonDuplicateBuiltin,
				"the older group %q already has builtin %s; a Space has one group per builtin", owner.Name, g.Builtin)
			continue
		}
		id := int32(len(s.groups))
		cg := compiledGroup{name: g.Name, displayName: g.DisplayName, builtin: g.Builtin, additional: g.Additional, idpGroups: append([]string(nil), g.IdPGroups...)}
		for k := Kind(0); k < numKinds; k++ {
			cg.universal[k] = universalOf(g.Builtin, g.Universal, k)
		}
		cg.queryLib = queryLibraryOf(g.Builtin, g.Universal)
		cg.additional = additionalOf(g.Builtin, g.Additional)
		cg.flags = flagsOf(cg.additional)
		if g.Builtin == AllUsers {
			s.allUsers = id
		} else {
			for i, m := range g.Members {
				email, err := canonicalEmail(strings.TrimSpace(m.Email), c.domains.canonical)
				if err != nil {
					c.problem("PermissionGroup", g.Name, fmt.Sprintf("spec.members[%d].email", i), ReasonInvalidEmail, "%v; the member is left out", err)
					continue
				}
				if !c.expiry.admit(c.in.At, Expiry{Kind: "PermissionGroup", Name: g.Name, Email: email, Expires: m.Expires}) {
					continue
				}
				cg.members = append(cg.members, Member{Email: email, GroupAdmin: m.GroupAdmin, Expires: m.Expires})
				s.byEmail[email] = appendUnique(s.byEmail[email], id)
				emails[email] = struct{}{}
				if m.GroupAdmin {
					if cg.admins == nil {
						cg.admins = map[string]struct{}{}
					}
					cg.admins[email] = struct{}{}
				}
			}
			sort.Slice(cg.members, func(i, j int) bool {
				a, b := cg.members[i], cg.members[j]
				return a.Email < b.Email || (a.Email == b.Email && !a.GroupAdmin && b.GroupAdmin)
			})
			cg.emails = make([]string, 0, len(cg.members))
			for _, m := range cg.members {
				if n := len(cg.emails); n == 0 || cg.emails[n-1] != m.Email {
					cg.emails = append(cg.emails, m.Email)
				}
			}
			for _, idp := range g.IdPGroups {
				s.byIdP[idp] = appendUnique(s.byIdP[idp], id)
			}
		}
		s.groupIndex[g.Name] = id
		s.groups = append(s.groups, cg)
	}
	s.memberCount = len(emails)
}

func (c *compiler) compileRules(s *Snapshot) {
	rules := append([]Rule(nil), c.in.Rules...)
	sort.Slice(rules, func(i, j int) bool { return rules[i].Name < rules[j].Name })
	total := 0
	for _, r := range rules {
		total += len(r.Targets)
	}
	s.rules = make(map[ruleKey]*targetRules, total)
	// Every rule's part in each target, so that the per-environment levels of
	// targets with overrides can be resolved once all rules are in.
	contribs := make(map[*targetRules][]contribution, total)
	withEnvs := map[*targetRules]struct{}{}
rules:
	for _, r := range rules {
		// An expired rule is out of the model, whatever else it says.
		if !c.expiry.admit(c.in.At, Expiry{Kind: "AccessRule", Name: r.Name, Expires: r.Expires}) {
			continue
		}
		g, ok := s.groupIndex[r.Group]
		if !ok {
			c.problem("AccessRule", r.Name, "spec.group", ReasonGroupNotFound, "group %q does not exist in this Space (or was left out: see its status)", r.Group)
			continue
		}
		if r.Level == None || r.Level > Own {
			c.problem("AccessRule", r.Name, "spec.level", ReasonInvalidLevel, "level must be Use, Edit or Own")
			continue
		}
		// Validate the whole rule first: a rule is compiled whole or not at all.
		for i, t := range r.Targets {
			if t.Name == "" || (!t.Folder && strings.Contains(t.Name, "/")) {
				c.problem("AccessRule", r.Name, fmt.Sprintf("spec.targets[%d].name", i), ReasonInvalidTarget, "%q is not a valid %s name", t.Name, targetNoun(t))
				continue rules
			}
			if t.Folder {
				if err := CheckFolderPath(t.Name); err != nil {
					c.problem("AccessRule", r.Name, fmt.Sprintf("spec.targets[%d].name", i), ReasonInvalidTarget, "%v", err)
					continue rules
				}
			}
			if len(t.Environments) > 0 && (t.Kind != Resource || t.Folder) {
				c.problem("AccessRule", r.Name, fmt.Sprintf("spec.targets[%d].environments", i), ReasonInvalidTarget, "per-environment levels are only for Resource targets")
				continue rules
			}
			for j, e := range t.Environments {
				if _, ok := s.envIndex[e.Name]; !ok {
					c.problem("AccessRule", r.Name, fmt.Sprintf("spec.targets[%d].environments[%d].name", i, j), ReasonUnknownEnvironment,
						"environment %q is not declared by Space %s (declared: %s)", e.Name, s.space, strings.Join(envNames(s.envs), ", "))
					continue rules
				}
			}
		}
		s.ruleCount++
		for _, t := range r.Targets {
			key := ruleKey{group: g, kind: t.Kind, folder: t.Folder, name: t.Name}
			tr, ok := s.rules[key]
			if !ok {
				tr = &targetRules{level: r.Level, rule: r.Name}
				s.rules[key] = tr
				grp := &s.groups[g]
				grp.targets = append(grp.targets, key)
				if key.folder {
					grp.folderDepths[key.kind] |= 1 << min(pathDepth(key.name), 63)
				} else {
					grp.objectKinds |= 1 << key.kind
				}
			} else if r.Level > tr.level {
				tr.level, tr.rule = r.Level, r.Name
			}
			if len(t.Environments) > 0 {
				withEnvs[tr] = struct{}{}
			}
			contribs[tr] = append(contribs[tr], contribution{rule: r.Name, level: r.Level, envs: t.Environments})
		}
	}
	for tr := range withEnvs {
		tr.resolveEnvironments(s.envIndex, contribs[tr])
	}
	for g := range s.groups {
		s.groups[g].indexTargets(s.seed, s.rules)
	}
}

// contribution is one rule's part in a group's level on a target.
type contribution struct {
	rule  string
	level Level
	envs  []EnvironmentLevel
}

// resolveEnvironments sets the per-environment levels of a target several
// rules (or overrides) speak of: in environment E each rule gives its
// override for E, else its own level (an environment without an override
// inherits the rule's level), and the highest counts.
func (t *targetRules) resolveEnvironments(envIndex map[string]int, contribs []contribution) {
	for _, c := range contribs {
		for _, e := range c.envs {
			idx := envIndex[e.Name]
			if _, done := t.byEnv[idx]; done {
				continue
			}
			best := envLevel{}
			for _, other := range contribs {
				lvl, override := other.level, false
				for _, oe := range other.envs {
					if oe.Name == e.Name {
						lvl, override = oe.Level, true
					}
				}
				if lvl > best.level || best.rule == "" {
					best = envLevel{level: lvl, rule: other.rule, override: override}
				}
			}
			if t.byEnv == nil {
				t.byEnv = map[int]envLevel{}
			}
			t.byEnv[idx] = best
		}
	}
}

func targetNoun(t RuleTarget) string {
	if t.Folder {
		return strings.ToLower(t.Kind.String()) + " folder path"
	}
	return strings.ToLower(t.Kind.String())
}

func envNames(envs []Environment) []string {
	out := make([]string, len(envs))
	for i, e := range envs {
		out[i] = e.Name
	}
	return out
}

func appendUnique(s []int32, v int32) []int32 {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// revision hashes the compiled content in a canonical order, so that the same
// model gives the same revision whatever order its objects came in.
func revision(s *Snapshot) string {
	h := &hashWriter{h: sha256.New()}
	w := func(parts ...string) {
		for _, p := range parts {
			h.writeString(p)
		}
	}
	w("space", s.space)
	for _, e := range s.envs {
		w("env", e.Name, strconv.FormatBool(e.ReadOnly))
	}
	domains := make([]string, 0, len(s.jitDomains))
	for d := range s.jitDomains {
		domains = append(domains, d)
	}
	sort.Strings(domains)
	w("jit", strconv.FormatBool(s.jit))
	w(domains...)
	idps := make([]string, 0, len(s.byIdP))
	for idp := range s.byIdP {
		idps = append(idps, idp)
	}
	sort.Strings(idps)
	for _, idp := range idps {
		w("idp", idp)
		for _, g := range s.byIdP[idp] {
			w(s.groups[g].name)
		}
	}
	for _, g := range s.groups {
		w("group", g.name, g.displayName, string(g.builtin), fmt.Sprint(g.universal, g.queryLib, g.additional))
		for _, m := range g.members {
			w(m.Email, strconv.FormatBool(m.GroupAdmin))
			if !m.Expires.IsZero() {
				w("expires", m.Expires.UTC().Format(time.RFC3339Nano))
			}
		}
		keys := append([]ruleKey(nil), g.targets...)
		sort.Slice(keys, func(i, j int) bool { return lessKey(keys[i], keys[j]) })
		for _, k := range keys {
			tr := s.rules[k]
			w("target", k.kind.String(), strconv.FormatBool(k.folder), k.name, tr.level.String(), tr.rule)
			envs := make([]int, 0, len(tr.byEnv))
			for e := range tr.byEnv {
				envs = append(envs, e)
			}
			sort.Ints(envs)
			for _, e := range envs {
				w(s.envs[e].Name, tr.byEnv[e].level.String(), tr.byEnv[e].rule)
			}
		}
	}
	for _, r := range s.expiry.sortedRules() {
		w("rule-expires", r, s.expiry.rules[r].UTC().Format(time.RFC3339Nano))
	}
	return hex.EncodeToString(h.sum())
}

// hashWriter feeds a hash length-prefixed strings through a buffer, so that
// hashing a large Space does not copy each string on its own.
type hashWriter struct {
	h   hash.Hash
	buf []byte
}

func (w *hashWriter) writeString(s string) {
	w.buf = binary.AppendUvarint(w.buf, uint64(len(s)))
	w.buf = append(w.buf, s...)
	if len(w.buf) >= 64<<10 {
		w.h.Write(w.buf)
		w.buf = w.buf[:0]
	}
}

func (w *hashWriter) sum() []byte {
	w.h.Write(w.buf)
	return w.h.Sum(nil)
}

func lessKey(a, b ruleKey) bool {
	if a.kind != b.kind {
		return a.kind < b.kind
	}
	if a.folder != b.folder {
		return !a.folder
	}
	return a.name < b.name
}

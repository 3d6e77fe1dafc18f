package access

import (
	"sort"
	"strings"
)

// Change is a user's or a group's level moving on one target.
type Change struct {
	// Subject is "user:EMAIL" or "group:NAME".
	Subject string `json:"subject"`
	// Target is an object or folder a rule names, or TYPE/* for a universal level,
	// or querylibrary.
	Target Target `json:"target"`
	// Environment is set when the change is only in that environment.
	Environment string `json:"environment,omitempty"`
	From        Level  `json:"from"`
	To          Level  `json:"to"`
}

// Gained reports whether the subject gains access.
func (c Change) Gained() bool { return c.To > c.From }

// DiffResult is the effective-access difference between two states of a Space.
type DiffResult struct {
	Space        string   `json:"space"`
	FromRevision string   `json:"fromRevision"`
	ToRevision   string   `json:"toRevision"`
	Changes      []Change `json:"changes"`
}

// diffTarget is a target compared across the two snapshots.
type diffTarget struct {
	kind   Kind
	folder bool
	name   string
	env    string // "" or an environment with an override in either snapshot
}

// Diff compares two snapshots of a Space: which groups and which listed users
// gain or lose which level on which target (the targets either state's rules
// name, every kind's universal level, and the query library). Objects are
// compared at the root of the folder tree; resources also in each environment
// that a rule overrides.
func Diff(from, to *Snapshot) DiffResult {
	res := DiffResult{Space: to.space, FromRevision: from.revision, ToRevision: to.revision, Changes: []Change{}}

	groupNames := map[string]struct{}{}
	for _, s := range []*Snapshot{from, to} {
		for _, g := range s.groups {
			groupNames[g.name] = struct{}{}
		}
	}
	for _, name := range sortedKeys(groupNames) {
		fg, tg := groupIDs(from, name), groupIDs(to, name)
		res.Changes = append(res.Changes, compareSubjects("group:"+name, from, fg, to, tg)...)
	}

	users := map[string]struct{}{}
	for _, s := range []*Snapshot{from, to} {
		for email := range s.byEmail {
			users[email] = struct{}{}
		}
	}
	for _, email := range sortedKeys(users) {
		fg, _ := from.membership(email, nil)
		tg, _ := to.membership(email, nil)
		res.Changes = append(res.Changes, compareSubjects("user:"+email, from, fg, to, tg)...)
	}
	return res
}

func groupIDs(s *Snapshot, name string) []int32 {
	if g, ok := s.groupIndex[name]; ok {
		return []int32{g}
	}
	return nil
}

// compareSubjects compares the combined level of a set of groups in each snapshot.
func compareSubjects(subject string, from *Snapshot, fg []int32, to *Snapshot, tg []int32) []Change {
	var out []Change
	for _, t := range unionTargets(from, fg, to, tg) {
		a, b := from.levelOf(fg, t), to.levelOf(tg, t)
		if a != b {
			out = append(out, Change{Subject: subject, Target: Target{Type: objectType(t.kind, t.folder), Name: t.name}, Environment: t.env, From: a, To: b})
		}
	}
	for k := Kind(0); k < numKinds; k++ {
		if a, b := from.universalOf(fg, k), to.universalOf(tg, k); a != b {
			out = append(out, Change{Subject: subject, Target: Target{Type: objectType(k, false), Name: "*"}, From: a, To: b})
		}
	}
	if a, b := from.queryLibraryOf(fg), to.queryLibraryOf(tg); a != b {
		out = append(out, Change{Subject: subject, Target: Target{Type: TargetQueryLibrary}, From: a, To: b})
	}
	return out
}

func unionTargets(from *Snapshot, fg []int32, to *Snapshot, tg []int32) []diffTarget {
	set := map[diffTarget]struct{}{}
	add := func(s *Snapshot, groups []int32) {
		for _, g := range groups {
			for _, key := range s.groups[g].targets {
				set[diffTarget{kind: key.kind, folder: key.folder, name: key.name}] = struct{}{}
				for env := range s.rules[key].byEnv {
					set[diffTarget{kind: key.kind, folder: key.folder, name: key.name, env: s.envs[env].Name}] = struct{}{}
				}
			}
		}
	}
	add(from, fg)
	add(to, tg)
	out := make([]diffTarget, 0, len(set))
	for t := range set {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.kind != b.kind {
			return a.kind < b.kind
		}
		if a.folder != b.folder {
			return !a.folder
		}
		if a.name != b.name {
			return a.name < b.name
		}
		return a.env < b.env
	})
	return out
}

// levelOf is the highest level of groups on t (Admin: Own).
func (s *Snapshot) levelOf(groups []int32, t diffTarget) Level {
	env := -1
	if t.env != "" {
		idx, ok := s.envIndex[t.env]
		if !ok {
			return None
		}
		env = idx
	}
	best := None
	for _, g := range groups {
		if s.groups[g].builtin == Admin {
			return Own
		}
		if lvl, _ := s.groupLevel(g, t.kind, t.folder, t.name, "", env); lvl > best {
			best = lvl
		}
	}
	return best
}

func (s *Snapshot) universalOf(groups []int32, k Kind) Level {
	best := None
	for _, g := range groups {
		if lvl := s.groups[g].universal[k]; lvl > best {
			best = lvl
		}
	}
	return best
}

func (s *Snapshot) queryLibraryOf(groups []int32) Level {
	best := None
	for _, g := range groups {
		if lvl := s.groups[g].queryLib; lvl > best {
			best = lvl
		}
	}
	return best
}

func sortedKeys(m map[string]struct{}) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// String renders a change for people: "+ user:alice@example.com app/payouts: Use -> Edit".
func (c Change) String() string {
	sign := "-"
	if c.Gained() {
		sign = "+"
	}
	t := c.Target.String()
	if c.Environment != "" {
		t += " (" + c.Environment + ")"
	}
	return strings.Join([]string{sign, c.Subject, t + ":", c.From.String(), "->", c.To.String()}, " ")
}

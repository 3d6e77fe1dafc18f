package access

import (
	"maps"
	"runtime"
	"slices"
	"sort"
	"strings"
)

// Change is one subject's answers moving on one target: every question
// (subject, action, target, folder, environment) whose answer differs
// between the two states is named by exactly one Change, in NowAllowed or NoLongerAllowed.
type Change struct {
	// Subject is who asks:
	//   - "user:EMAIL": a user listed in a group, signing in without IdP groups;
	//   - "idp:GROUP": a user no group lists, signing in with that IdP group;
	//   - "user:*@DOMAIN": a user no group lists, of a domain JIT names;
	//   - "user:*@*": a user no group lists, of any other domain.
	Subject string `json:"subject"`
	// Target is an object, a folder, the query library, the Space or a
	// group. An object or folder named "*" is any that the subject's rules
	// (in either state) do not name.
	Target Target `json:"target"`
	// Folder is where an object is: "" the root, else a folder the subject's
	// rules name; it stands for every folder below it that no deeper rule of
	// theirs names.
	Folder string `json:"folder,omitempty"`
	// Environment is "" (no environment) or one of the Space's. A change
	// with no environment holds in every environment that has no change of
	// its own for the same subject, target and folder; an environment's own
	// change may be "unchanged" (From == To, no actions).
	Environment string `json:"environment,omitempty"`
	// From and To are the subject's level on the target (objects, folders,
	// the query library).
	From Level `json:"from"`
	To   Level `json:"to"`
	// NowAllowed are the actions allowed in the second state and not in the
	// first; NoLongerAllowed the reverse.
	NowAllowed      []string `json:"nowAllowed,omitempty"`
	NoLongerAllowed []string `json:"noLongerAllowed,omitempty"`
	// Group is the group the change comes from: the deciding group in the
	// second state, or in the first for access lost ("" when no one group
	// decides, as for most Space actions). NowAllowed and NoLongerAllowed
	// may be shared between changes: read them, do not modify them.
	Group string `json:"group,omitempty"`
}

// Gained reports whether the subject gains access and loses none.
func (c Change) Gained() bool {
	return len(c.NoLongerAllowed) == 0 && (len(c.NowAllowed) > 0 || c.To > c.From)
}

// Unchanged reports whether the change says that nothing changes (in its
// environment, unlike with no environment).
func (c Change) Unchanged() bool {
	return c.From == c.To && len(c.NowAllowed) == 0 && len(c.NoLongerAllowed) == 0
}

// Lost reports whether the subject loses access and gains none.
func (c Change) Lost() bool {
	return len(c.NowAllowed) == 0 && (len(c.NoLongerAllowed) > 0 || c.To < c.From)
}

// DiffResult is the effective-access difference between two states of a
// Space; no Changes means every question has the same answer in both.
type DiffResult struct {
	Space        string   `json:"space"`
	FromRevision string   `json:"fromRevision"`
	ToRevision   string   `json:"toRevision"`
	Changes      []Change `json:"changes"`
}

// Diff compares two states of a Space question by question: for every
// subject who can sign in (each listed user, each IdP group, and the users
// JIT admits), every action on every target their rules name (objects also
// in each folder their rules name, and any object or folder no rule of
// theirs names), the query library, the Space and each group, with no
// environment and in each environment, it asks the policy chain in both
// states and reports the questions whose answers differ. Subjects none of
// whose groups changed are not asked again.
func Diff(from, to *Snapshot) DiffResult {
	res := DiffResult{Space: to.space, FromRevision: from.revision, ToRevision: to.revision, Changes: []Change{}}
	_ = DiffEach(from, to, func(c Change) error {
		res.Changes = append(res.Changes, c)
		return nil
	})
	return res
}

// DiffEach is Diff streamed: it emits Diff's changes one by one, in Diff's
// order, computing one subject at a time, so that two states that differ
// for everyone are compared without holding every change. It stops at
// emit's first error and returns it.
func DiffEach(from, to *Snapshot, emit func(Change) error) error {
	if from.revision == to.revision {
		return nil
	}
	d := differ{from: from, to: to, changed: changedGroups(from, to), everyone: !sameEnvironments(from, to)}
	d.envs = append(d.envs, "")
	for _, s := range []*Snapshot{from, to} {
		for _, e := range s.envs {
			if !slices.Contains(d.envs, e.Name) {
				d.envs = append(d.envs, e.Name)
			}
		}
	}
	subjects := diffSubjects(from, to)
	sort.SliceStable(subjects, func(i, j int) bool { return subjects[i].name < subjects[j].name })
	workers := runtime.GOMAXPROCS(0)
	if workers < 2 || len(subjects) < 2*diffBatch {
		var buf []Change
		for _, sub := range subjects {
			buf = d.changesOf(sub, buf[:0])
			for i := range buf {
				if err := emit(buf[i]); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return d.parallel(subjects, workers, emit)
}

// diffBatch is how many subjects a worker compares at a time.
const diffBatch = 256

// changesOf appends one subject's changes to out, in Diff's order.
func (d *differ) changesOf(sub diffSubject, out []Change) []Change {
	first := len(out)
	out = d.compare(sub, out)
	mine := out[first:]
	sort.SliceStable(mine, func(i, j int) bool { return lessChange(&mine[i], &mine[j]) })
	return out
}

// parallel compares batches of subjects on several goroutines and emits
// their changes in order; at most 2*workers batches are held at once.
func (d *differ) parallel(subjects []diffSubject, workers int, emit func(Change) error) error {
	type batch struct {
		subjects []diffSubject
		changes  []Change
		done     chan struct{}
	}
	stop := make(chan struct{})
	defer close(stop)
	work := make(chan *batch)
	order := make(chan *batch, 2*workers)
	go func() {
		defer close(order)
		defer close(work)
		for start := 0; start < len(subjects); start += diffBatch {
			b := &batch{subjects: subjects[start:min(start+diffBatch, len(subjects))], done: make(chan struct{})}
			select {
			case order <- b:
			case <-stop:
				return
			}
			select {
			case work <- b:
			case <-stop:
				return
			}
		}
	}()
	for range workers {
		go func() {
			for b := range work {
				for _, sub := range b.subjects {
					b.changes = d.changesOf(sub, b.changes)
				}
				close(b.done)
			}
		}()
	}
	for b := range order {
		<-b.done
		for i := range b.changes {
			if err := emit(b.changes[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// diffSubject is someone who can sign in: a listed user, an IdP group's
// user, or a user JIT admits.
type diffSubject struct {
	name  string
	email string
	idp   []string
}

func diffSubjects(from, to *Snapshot) []diffSubject {
	emails, idps, domains := map[string]struct{}{}, map[string]struct{}{}, map[string]struct{}{}
	jit := false
	for _, s := range []*Snapshot{from, to} {
		for e := range s.byEmail {
			emails[e] = struct{}{}
		}
		for idp := range s.byIdP {
			idps[idp] = struct{}{}
		}
		for dom := range s.jitDomains {
			domains[dom] = struct{}{}
		}
		jit = jit || s.jit
	}
	// The domains JIT tells apart: each it names, and any other ("*").
	classes := []string{"*"}
	if jit {
		classes = append(sortedKeys(domains), "*")
		classes = classes[:len(slices.Compact(classes))]
	}
	var out []diffSubject
	for _, e := range sortedKeys(emails) {
		out = append(out, diffSubject{name: "user:" + e, email: e})
	}
	for _, idp := range sortedKeys(idps) {
		for _, dom := range classes {
			name := "idp:" + idp
			if jit {
				name += " (*@" + dom + ")"
			}
			out = append(out, diffSubject{name: name, email: "*@" + dom, idp: []string{idp}})
		}
	}
	if jit {
		for _, dom := range classes {
			out = append(out, diffSubject{name: "user:*@" + dom, email: "*@" + dom})
		}
	}
	return out
}

type differ struct {
	from, to *Snapshot
	changed  map[string]aspect // groups whose access-affecting content differs, and in what
	everyone bool              // the environments differ: every subject is compared
	envs     []string          // "" and every environment of either state
}

// side is a subject in one state.
type side struct {
	s *Snapshot
	u subject
}

// compare asks every question of one subject in both states, and appends
// the changes to out.
func (d *differ) compare(sub diffSubject, out []Change) []Change {
	a := side{s: d.from, u: subject{email: sub.email}}
	b := side{s: d.to, u: subject{email: sub.email}}
	var howA, howB string
	a.u.groups, howA = d.from.membership(sub.email, sub.idp)
	b.u.groups, howB = d.to.membership(sub.email, sub.idp)
	a.u.member, b.u.member = howA != "", howB != ""
	asked := aspectAll
	if !d.everyone {
		asked = d.affected(&a, &b)
	}
	if asked == 0 {
		return out
	}
	// The changes with no environment, by target and folder: an
	// environment's change is listed only where it differs from these.
	base := map[classKey]int{}
	emit := func(t Target, folder, env string, oa, ob outcome) {
		key := classKey{t, folder}
		if oa.level == ob.level && oa.allowed == ob.allowed {
			if _, ok := base[key]; ok && env != "" {
				// Unchanged here, though changed with no environment.
				out = append(out, Change{Subject: sub.name, Target: t, Folder: folder, Environment: env, From: oa.level, To: ob.level})
			}
			return
		}
		c := Change{Subject: sub.name, Target: t, Folder: folder, Environment: env, From: oa.level, To: ob.level,
			NowAllowed: actionNames(t.Type, ob.allowed&^oa.allowed), NoLongerAllowed: actionNames(t.Type, oa.allowed&^ob.allowed)}
		switch {
		case c.Lost() && oa.group >= 0:
			c.Group = d.from.groups[oa.group].name
		case !c.Lost() && ob.group >= 0:
			c.Group = d.to.groups[ob.group].name
		}
		if env == "" {
			base[key] = len(out)
		} else if i, ok := base[key]; ok && sameChange(&out[i], &c) {
			return // as with no environment
		}
		out = append(out, c)
	}
	// Each class is asked with no environment, then in each environment:
	// there only named resources can have other levels (per-environment
	// overrides); elsewhere an environment differs only by refusing changes
	// when it is read-only.
	class := func(t Target, kind Kind, folder bool, name, dir string, tgA, tgB int32) {
		oa0 := a.ask(true, t.Type, kind, folder, name, dir, -1, tgA)
		ob0 := b.ask(true, t.Type, kind, folder, name, dir, -1, tgB)
		emit(t, dir, "", oa0, ob0)
		overrides := t.Type == TargetResource && name != ""
		for _, env := range d.envs[1:] {
			ea, okA := d.from.envOf(env)
			eb, okB := d.to.envOf(env)
			var oa, ob outcome
			if overrides {
				oa = a.ask(okA, t.Type, kind, folder, name, dir, ea, tgA)
				ob = b.ask(okB, t.Type, kind, folder, name, dir, eb, tgB)
			} else {
				oa, ob = a.inEnv(oa0, t.Type, okA, ea), b.inEnv(ob0, t.Type, okB, eb)
			}
			emit(t, dir, env, oa, ob)
		}
	}
	for k := Kind(0); k < numKinds; k++ {
		if asked&(aspectKind<<k) == 0 && (k != App || asked&aspectFlags == 0) {
			continue
		}
		objects, folders := d.named(&a, &b, k)
		for _, f := range folders {
			class(Target{Type: objectType(k, true), Name: orStar(f)}, k, true, f, "", -1, -1)
		}
		for _, o := range objects {
			t := Target{Type: objectType(k, false), Name: orStar(o)}
			for _, f := range folders {
				class(t, k, false, o, f, -1, -1)
			}
		}
	}
	if asked&aspectQueryLibrary != 0 {
		class(Target{Type: TargetQueryLibrary}, 0, false, "", "", -1, -1)
	}
	if asked&aspectFlags != 0 {
		class(Target{Type: TargetSpace}, 0, false, "", "", -1, -1)
	}
	if asked&aspectAdmins == 0 {
		return out
	}
	for _, g := range d.groupTargets(&a, &b) {
		class(Target{Type: TargetGroup, Name: g}, 0, false, "", "", groupIndexOr(d.from, g), groupIndexOr(d.to, g))
	}
	return out
}

// inEnv is an outcome with no environment as environment env sees it, for
// a target without per-environment levels: nothing when the environment is
// not declared, no changes when it is read-only.
func (sd *side) inEnv(o outcome, t TargetType, declared bool, env int) outcome {
	switch {
	case !declared:
		return outcome{group: -1}
	case sd.s.envs[env].ReadOnly:
		o.allowed &^= mutatingOf(t)
	}
	return o
}

// classKey is a target (and an object's folder) Diff compares.
type classKey struct {
	target Target
	folder string
}

func sameChange(a, b *Change) bool {
	return a.From == b.From && a.To == b.To && slices.Equal(a.NowAllowed, b.NowAllowed) && slices.Equal(a.NoLongerAllowed, b.NoLongerAllowed)
}

// ask answers every action of a target type for the side's subject; a
// question the state cannot answer (an undeclared environment, a missing
// group) allows nothing.
func (sd *side) ask(declared bool, t TargetType, kind Kind, folder bool, name, dir string, env int, targetGroup int32) outcome {
	if !declared || (t == TargetGroup && targetGroup < 0) {
		return outcome{group: -1}
	}
	if _, _, isObject := (Target{Type: t}).objectKind(); isObject {
		var p probe
		sd.s.newProbe(&p, kind, folder, name, dir)
		return sd.s.evaluate(&sd.u, t, &p, env, targetGroup)
	}
	return sd.s.evaluate(&sd.u, t, nil, env, targetGroup)
}

// aspect is a part of the questions that a group's change can alter.
type aspect uint8

const (
	// aspectKind << k: objects and folders of kind k (rules, universal level).
	aspectKind aspect = 1 << iota
	_
	_
	aspectQueryLibrary
	aspectFlags         // the Space's actions, and apps' view-unpublished
	aspectAdmins        // the groups' manage-members
	aspectAll    aspect = 0xff
)

// affected is what a subject may answer differently: everything when its
// groups or membership differ between the states, else what its groups'
// changes alter.
func (d *differ) affected(a, b *side) aspect {
	if a.u.member != b.u.member || len(a.u.groups) != len(b.u.groups) {
		return aspectAll
	}
	names := make(map[string]bool, len(a.u.groups))
	for _, g := range a.u.groups {
		names[a.s.groups[g].name] = true
	}
	var out aspect
	for _, g := range b.u.groups {
		name := b.s.groups[g].name
		if !names[name] {
			return aspectAll
		}
		out |= d.changed[name]
	}
	return out
}

// named lists the objects and the folders of kind k that the rules of the
// subject's groups name in either state, each list led by "" (an object no
// rule names; the root folder), then sorted.
func (d *differ) named(a, b *side, k Kind) (objects, folders []string) {
	objSet, dirSet := map[string]struct{}{}, map[string]struct{}{}
	for _, sd := range []*side{a, b} {
		for _, g := range sd.u.groups {
			for _, key := range sd.s.groups[g].targets {
				if key.kind != k {
					continue
				}
				if key.folder {
					dirSet[key.name] = struct{}{}
				} else {
					objSet[key.name] = struct{}{}
				}
			}
		}
	}
	return append([]string{""}, sortedKeys(objSet)...), append([]string{""}, sortedKeys(dirSet)...)
}

// groupTargets are the groups whose manage-members question the subject
// may answer differently: every group when the subject is Admin in either
// state, else the groups it is a group admin of in either state.
func (d *differ) groupTargets(a, b *side) []string {
	set := map[string]struct{}{}
	for _, sd := range []*side{a, b} {
		if sd.s.adminGroup(sd.u.groups) >= 0 {
			for _, g := range sd.s.groups {
				set[g.name] = struct{}{}
			}
			continue
		}
		for _, g := range sd.u.groups {
			if _, ok := sd.s.groups[g].admins[sd.u.email]; ok {
				set[sd.s.groups[g].name] = struct{}{}
			}
		}
	}
	return sortedKeys(set)
}

// envOf resolves an environment name: -1 for none; false when undeclared.
func (s *Snapshot) envOf(name string) (int, bool) {
	if name == "" {
		return -1, true
	}
	i, ok := s.envIndex[name]
	return i, ok
}

func groupIndexOr(s *Snapshot, name string) int32 {
	if g, ok := s.groupIndex[name]; ok {
		return g
	}
	return -1
}

func orStar(name string) string {
	if name == "" {
		return "*"
	}
	return name
}

func sameEnvironments(a, b *Snapshot) bool {
	return slices.Equal(a.envs, b.envs)
}

// changedGroups names the groups that differ in anything access depends
// on (or exist in one state only), with what they change. Who is in a group
// is compared per subject (their groups), not here.
func changedGroups(a, b *Snapshot) map[string]aspect {
	changed := map[string]aspect{}
	for i := range a.groups {
		ga := &a.groups[i]
		j, ok := b.groupIndex[ga.name]
		if !ok {
			changed[ga.name] = aspectAll
		} else if delta := groupDelta(a, ga, b, &b.groups[j]); delta != 0 {
			changed[ga.name] = delta
		}
	}
	for i := range b.groups {
		if _, ok := a.groupIndex[b.groups[i].name]; !ok {
			changed[b.groups[i].name] = aspectAll
		}
	}
	return changed
}

// groupDelta is what differs between two states of a group.
func groupDelta(a *Snapshot, ga *compiledGroup, b *Snapshot, gb *compiledGroup) aspect {
	if ga.builtin != gb.builtin {
		return aspectAll
	}
	var out aspect
	for k := Kind(0); k < numKinds; k++ {
		if ga.universal[k] != gb.universal[k] {
			out |= aspectKind << k
		}
	}
	if ga.queryLib != gb.queryLib {
		out |= aspectQueryLibrary
	}
	if ga.flags != gb.flags {
		out |= aspectFlags
	}
	if !maps.Equal(ga.admins, gb.admins) {
		out |= aspectAdmins
	}
	// Targets in one state only, or with other levels.
	for _, pair := range [2][2]*compiledGroup{{ga, gb}, {gb, ga}} {
		x, y := pair[0], pair[1]
		sx, sy := a, b
		if x == gb {
			sx, sy = b, a
		}
		for i, k := range x.targets {
			ty := y.find(targetHash(sy.seed, k.kind, k.folder, k.name), k.kind, k.folder, k.name)
			if ty == nil || !sameLevels(sx, x.targetRules[i], sy, ty) {
				out |= aspectKind << k.kind
			}
		}
	}
	return out
}

// sameLevels compares a target's levels in every environment (by name).
func sameLevels(a *Snapshot, ta *targetRules, b *Snapshot, tb *targetRules) bool {
	if ta.level != tb.level || len(ta.byEnv) != len(tb.byEnv) {
		return false
	}
	for e, la := range ta.byEnv {
		eb, ok := b.envIndex[a.envs[e].Name]
		if !ok {
			return false
		}
		if lb, ok := tb.byEnv[eb]; !ok || lb.level != la.level {
			return false
		}
	}
	return true
}

func lessChange(a, b *Change) bool {
	switch {
	case a.Subject != b.Subject:
		return a.Subject < b.Subject
	case a.Target.Type != b.Target.Type:
		return a.Target.Type < b.Target.Type
	case a.Target.Name != b.Target.Name:
		return a.Target.Name < b.Target.Name
	case a.Folder != b.Folder:
		return a.Folder < b.Folder
	}
	return a.Environment < b.Environment
}

func sortedKeys(m map[string]struct{}) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// String renders a change for people:
// "+ user:alice@example.com app/payouts in finance (production): Use -> Edit: +edit +release".
func (c Change) String() string {
	sign := "±"
	switch {
	case c.Unchanged():
		sign = "="
	case c.Gained():
		sign = "+"
	case c.Lost():
		sign = "-"
	}
	var b strings.Builder
	b.WriteString(sign + " " + c.Subject + " " + c.Target.String())
	if c.Folder != "" {
		b.WriteString(" in " + c.Folder)
	}
	if c.Environment != "" {
		b.WriteString(" (" + c.Environment + ")")
	}
	b.WriteString(":")
	if c.Unchanged() {
		b.WriteString(" unchanged")
	}
	if c.From != c.To {
		b.WriteString(" " + c.From.String() + " -> " + c.To.String())
	}
	for _, a := range c.NowAllowed {
		b.WriteString(" +" + a)
	}
	for _, a := range c.NoLongerAllowed {
		b.WriteString(" -" + a)
	}
	return b.String()
}

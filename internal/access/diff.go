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
// environment and in each environment, it answers in both states and
// reports the questions whose answers differ, as the policy chain decides
// them. Subjects none of whose groups changed are not asked again; the
// others are answered from a grid of their groups' levels (diff_grid.go),
// not question by question.
func Diff(from, to *Snapshot) DiffResult {
	res := DiffResult{Space: to.space, FromRevision: from.revision, ToRevision: to.revision, Changes: []Change{}}
	_ = DiffEach(from, to, func(c Change) error {
		res.Changes = append(res.Changes, c)
		return nil
	})
	return res
}

// DiffEach is Diff streamed: it emits Diff's changes one by one, in Diff's
// order, computing one batch of subjects at a time, so that two states that
// differ for everyone are compared without holding every change. It stops
// at emit's first error and returns it.
func DiffEach(from, to *Snapshot, emit func(Change) error) error {
	if from.revision == to.revision {
		return nil
	}
	d := newDiffer(from, to)
	return d.run(diffSubjects(from, to), runtime.GOMAXPROCS(0), nil,
		func(b *subjectBatch) error {
			for i := range b.changes {
				if err := emit(b.changes[i]); err != nil {
					return err
				}
			}
			return nil
		})
}

// batchSize is how many subjects a worker compares at a time.
const batchSize = 256

// subjectBatch is a run of subjects, in Diff's order, and what comparing them gave.
type subjectBatch struct {
	subjects []diffSubject
	changes  []Change
	done     chan struct{}
}

// run compares the subjects in batches on workers goroutines. Once a batch
// is compared, after (when not nil) gets it on its worker, with the
// worker's number; consume then receives the batches in order, on the
// caller's goroutine. At most 2*workers batches are held at once. It stops
// at consume's first error.
func (d *differ) run(subjects []diffSubject, workers int, after func(w int, b *subjectBatch), consume func(*subjectBatch) error) error {
	compare := func(w int, b *subjectBatch, sc *diffScratch) {
		for _, sub := range b.subjects {
			b.changes = d.compare(sub, sc, b.changes)
		}
		if after != nil {
			after(w, b)
		}
	}
	if workers < 2 || len(subjects) < 2*batchSize {
		var sc diffScratch
		b := &subjectBatch{}
		for start := 0; start < len(subjects); start += batchSize {
			b.subjects, b.changes = subjects[start:min(start+batchSize, len(subjects))], b.changes[:0]
			compare(0, b, &sc)
			if err := consume(b); err != nil {
				return err
			}
		}
		return nil
	}
	stop := make(chan struct{})
	defer close(stop)
	work := make(chan *subjectBatch)
	order := make(chan *subjectBatch, 2*workers)
	// Consumed batches come back for reuse: there are never more than
	// maxBatches, so that comparing every subject allocates (and grows) a
	// few batches' memory, not one per batch.
	maxBatches := 2*workers + 1
	free := make(chan *subjectBatch, maxBatches)
	go func() {
		defer close(order)
		defer close(work)
		created := 0
		for start := 0; start < len(subjects); start += batchSize {
			var b *subjectBatch
			if created < maxBatches {
				select {
				case b = <-free:
				default:
					b = &subjectBatch{}
					created++
				}
			} else {
				select {
				case b = <-free:
				case <-stop:
					return
				}
			}
			b.changes = b.changes[:0]
			b.subjects, b.done = subjects[start:min(start+batchSize, len(subjects))], make(chan struct{})
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
	for w := range workers {
		go func() {
			var sc diffScratch
			for b := range work {
				compare(w, b, &sc)
				close(b.done)
			}
		}()
	}
	for b := range order {
		<-b.done
		if err := consume(b); err != nil {
			return err
		}
		free <- b // never full: it holds every batch
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

// diffSubjects are the subjects of both states, sorted by name.
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
	out := make([]diffSubject, 0, len(emails)+len(idps)*len(classes)+len(classes))
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
	sort.SliceStable(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

type differ struct {
	from, to *Snapshot
	changed  map[string]aspect // groups whose access-affecting content differs, and in what
	everyone bool              // the environments differ: every subject is compared
	// envNames are the environments of either state, sorted; envs[0] and
	// envs[1] say what each name is in the first and the second state.
	envNames []string
	envs     [2][]envSide
}

// envSide is an environment as one state declares it (or not).
type envSide struct {
	declared bool
	index    int
	readOnly bool
}

func newDiffer(from, to *Snapshot) *differ {
	d := &differ{from: from, to: to, changed: changedGroups(from, to), everyone: !sameEnvironments(from, to)}
	for _, s := range []*Snapshot{from, to} {
		for _, e := range s.envs {
			if !slices.Contains(d.envNames, e.Name) {
				d.envNames = append(d.envNames, e.Name)
			}
		}
	}
	slices.Sort(d.envNames)
	for i, s := range []*Snapshot{from, to} {
		for _, name := range d.envNames {
			idx, ok := s.envIndex[name]
			d.envs[i] = append(d.envs[i], envSide{declared: ok, index: idx, readOnly: ok && s.envs[idx].ReadOnly})
		}
	}
	return d
}

// side is a subject in one state.
type side struct {
	s *Snapshot
	u subject
}

// cell is a subject's answers on one target in one state: the level, the
// deciding group (-1: none) and the allowed actions (bit i: the target
// type's i-th requirement).
type cell struct {
	level   Level
	group   int32
	allowed uint16
}

func cellOf(o outcome) cell { return cell{level: o.level, group: o.group, allowed: o.allowed} }

// sides are a subject's standing in the two states, and the aspects of
// it the change between them can reach (0: none, the subject is skipped).
func (d *differ) sides(sub diffSubject) (a, b side, asked aspect) {
	a = side{s: d.from, u: subject{email: sub.email}}
	b = side{s: d.to, u: subject{email: sub.email}}
	var howA, howB string
	a.u.groups, howA = d.from.membership(sub.email, sub.idp)
	b.u.groups, howB = d.to.membership(sub.email, sub.idp)
	a.u.member, b.u.member = howA != "", howB != ""
	asked = aspectAll
	if !d.everyone {
		asked = d.affected(&a, &b)
	}
	return a, b, asked
}

// compare appends one subject's changes to out, in Diff's order. The
// questions on objects and folders are answered from the subject's grids
// (diff_grid.go); those on the query library, the Space and groups, which
// are a few per subject, through the policy chain.
func (d *differ) compare(sub diffSubject, sc *diffScratch, out []Change) []Change {
	first := len(out)
	a, b, asked := d.sides(sub)
	if asked == 0 {
		return out
	}
	for _, t := range diffTypeOrder {
		kind, folder, isObject := Target{Type: t}.objectKind()
		switch {
		case isObject:
			if asked&(aspectKind<<kind) == 0 && (kind != App || asked&aspectFlags == 0) {
				continue
			}
			g := sc.grid(&a, &b, kind)
			if folder {
				out = g.folderRows(d, sub.name, t, sc, out)
			} else {
				out = g.objectRows(d, sub.name, t, sc, out)
			}
		case t == TargetQueryLibrary && asked&aspectQueryLibrary != 0:
			out = d.askedRows(sub.name, Target{Type: t}, &a, &b, -1, -1, sc, out)
		case t == TargetSpace && asked&aspectFlags != 0:
			out = d.askedRows(sub.name, Target{Type: t}, &a, &b, -1, -1, sc, out)
		case t == TargetGroup && asked&aspectAdmins != 0:
			for _, g := range d.groupTargets(&a, &b) {
				out = d.askedRows(sub.name, Target{Type: TargetGroup, Name: g}, &a, &b, groupIndexOr(d.from, g), groupIndexOr(d.to, g), sc, out)
			}
		}
	}
	sc.reset()
	// Generated in order; a name that sorts before "*" (an object no rule
	// names) is put in its place here.
	mine := out[first:]
	for i := 1; i < len(mine); i++ {
		if compareChanges(&mine[i-1], &mine[i]) > 0 {
			slices.SortStableFunc(mine, func(a, b Change) int { return compareChanges(&a, &b) })
			break
		}
	}
	return out
}

// diffTypeOrder is the target types in Diff's order (by name).
var diffTypeOrder = slices.Sorted(slices.Values(targetTypes[:]))

// askedRows appends the changes of a target that is not an object or a
// folder (the query library, the Space, a group), asked through the policy
// chain with no environment and derived for each environment.
func (d *differ) askedRows(subject string, t Target, a, b *side, tgA, tgB int32, sc *diffScratch, out []Change) []Change {
	ca, cb := sc.cells(len(d.envNames) + 1)
	oa, ob := a.ask(true, t.Type, 0, false, "", "", -1, tgA), b.ask(true, t.Type, 0, false, "", "", -1, tgB)
	ca[0], cb[0] = cellOf(oa), cellOf(ob)
	mutating := mutatingOf(t.Type)
	for i := range d.envNames {
		ca[i+1], cb[i+1] = inEnv(ca[0], d.envs[0][i], mutating), inEnv(cb[0], d.envs[1][i], mutating)
	}
	return d.rows(out, subject, t, "", ca, cb)
}

// inEnv is a cell with no environment as an environment sees it, for a
// target without per-environment levels: nothing when the environment is
// not declared, no changes when it is read-only.
func inEnv(c cell, e envSide, mutating uint16) cell {
	switch {
	case !e.declared:
		return cell{group: -1}
	case e.readOnly:
		c.allowed &^= mutating
	}
	return c
}

// rows appends the changes of one target (and an object's folder): a and b
// are its cells in each state with no environment ([0]) and in each of
// d.envNames. An environment's change is listed only where it differs from
// the change with no environment, and as "unchanged" where there is one
// with no environment but none in the environment.
func (d *differ) rows(out []Change, subject string, t Target, folder string, a, b []cell) []Change {
	base := -1
	for i := range a {
		env := ""
		if i > 0 {
			env = d.envNames[i-1]
		}
		ca, cb := a[i], b[i]
		if ca.level == cb.level && ca.allowed == cb.allowed {
			if base >= 0 {
				out = append(out, Change{Subject: subject, Target: t, Folder: folder, Environment: env, From: ca.level, To: cb.level})
			}
			continue
		}
		c := Change{Subject: subject, Target: t, Folder: folder, Environment: env, From: ca.level, To: cb.level,
			NowAllowed: actionNames(t.Type, cb.allowed&^ca.allowed), NoLongerAllowed: actionNames(t.Type, ca.allowed&^cb.allowed)}
		switch {
		case c.Lost() && ca.group >= 0:
			c.Group = d.from.groups[ca.group].name
		case !c.Lost() && cb.group >= 0:
			c.Group = d.to.groups[cb.group].name
		}
		if i == 0 {
			base = len(out)
		} else if base >= 0 && sameChange(&out[base], &c) {
			continue // as with no environment
		}
		out = append(out, c)
	}
	return out
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
	var out aspect
	for _, g := range b.u.groups {
		name := b.s.groups[g].name
		if !slices.ContainsFunc(a.u.groups, func(ga int32) bool { return a.s.groups[ga].name == name }) {
			return aspectAll
		}
		out |= d.changed[name]
	}
	return out
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

// compareChanges orders changes as Diff lists them: by subject, target
// type and name, folder, then environment.
func compareChanges(a, b *Change) int {
	if c := strings.Compare(a.Subject, b.Subject); c != 0 {
		return c
	}
	if c := strings.Compare(string(a.Target.Type), string(b.Target.Type)); c != 0 {
		return c
	}
	if c := strings.Compare(a.Target.Name, b.Target.Name); c != 0 {
		return c
	}
	if c := strings.Compare(a.Folder, b.Folder); c != 0 {
		return c
	}
	return strings.Compare(a.Environment, b.Environment)
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

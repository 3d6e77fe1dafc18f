package access

import (
	"slices"
)

// referenceCompare is how Diff compared a subject before its fast path
// (diff.go): every question asked through the policy chain (evaluate) in
// both states. The tests hold the fast path to it.
func (d *differ) referenceCompare(sub diffSubject, out []Change) []Change {
	a, b, asked := d.sides(sub)
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
		for _, env := range d.envNames {
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
		objects, folders := d.referenceNamed(&a, &b, k)
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

// classKey is a target (and an object's folder) referenceCompare compares.
type classKey struct {
	target Target
	folder string
}

// referenceNamed lists the objects and the folders of kind k that the rules of the
// subject's groups name in either state, each list led by "" (an object no
// rule names; the root folder), then sorted.
func (d *differ) referenceNamed(a, b *side, k Kind) (objects, folders []string) {
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

// referenceDiff is Diff computed by referenceCompare, subject by subject.
func referenceDiff(from, to *Snapshot) []Change {
	out := []Change{}
	if from.revision == to.revision {
		return out
	}
	d := newDiffer(from, to)
	for _, sub := range diffSubjects(from, to) {
		first := len(out)
		out = d.referenceCompare(sub, out)
		mine := out[first:]
		slices.SortStableFunc(mine, func(a, b Change) int { return compareChanges(&a, &b) })
	}
	return out
}

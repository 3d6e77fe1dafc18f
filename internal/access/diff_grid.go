package access

import (
	"slices"
	"sort"
	"strings"
	"sync"
)

// A subject's answers on the objects and folders of one kind, as Diff
// compares them, without asking the policy chain question by question.
//
// A group's level on an object in a folder is its rule on the object, else
// its nearest folder rule, else its universal level (access-model.md). So
// Diff collects the rules of the subject's groups on the objects and
// folders of the kind once, in both states, resolves each group's level on
// each named folder once (the grid), and a question (object, folder,
// environment) is then the highest of a few levels already at hand. The actions a level allows depend only on the
// target type, the level, the subject's membership, Admin, additional
// permissions and universal level: a table computed once (objectMask). The
// cost of a subject is its named objects times its named folders times its
// groups, in integer operations; referenceCompare in the tests asks every
// question through the policy chain and is held equal to this.

// diffScratch is a diff worker's reusable memory.
type diffScratch struct {
	grids        [numKinds]kindGrid
	built        uint8 // bit k: grids[k] is the current subject's
	cellA, cellB []cell
	named        []namedRule
}

// reset forgets the current subject's grids.
func (sc *diffScratch) reset() { sc.built = 0 }

// cells are two rows of n cells, reused from question to question.
func (sc *diffScratch) cells(n int) ([]cell, []cell) {
	if cap(sc.cellA) < n {
		sc.cellA, sc.cellB = make([]cell, n), make([]cell, n)
	}
	return sc.cellA[:n], sc.cellB[:n]
}

// kindGrid is a subject's levels on the objects and folders of one kind
// that the rules of their groups name in either state.
type kindGrid struct {
	// objects are the named objects, sorted, led by "" (any object no rule
	// names); folders the named folders, sorted, led by "" (the root).
	objects, folders []string
	// objStar and dirStar are where "" goes among objects and folders when
	// they are listed as targets ("*"): after the names that sort before "*".
	objStar, dirStar int
	states           [2]gridState
}

// gridState is a kindGrid in one state.
type gridState struct {
	groups []int32
	admin  int32 // the Admin group among groups, or -1
	// objMask and dirMask are the actions allowed on an object and on a
	// folder with no environment, by level; objMutating and dirMutating
	// the actions a read-only environment refuses.
	objMask, dirMask         [numLevels]uint16
	objMutating, dirMutating uint16
	// objRules[o*len(groups)+i] are group i's rules on objects[o] (nil:
	// none); dirLevels[f*len(groups)+i] is group i's level on folders[f]
	// (its nearest folder rule, else its universal level), which is also
	// its level on an object in that folder that it has no rule on.
	objRules  []*targetRules
	dirLevels []Level
	// dirRules[f*len(groups)+i] are group i's rules on folders[f] itself.
	dirRules []*targetRules
}

const numLevels = int(Own) + 1

// grid is the subject's grid of kind k, built on first use.
func (sc *diffScratch) grid(a, b *side, k Kind) *kindGrid {
	g := &sc.grids[k]
	if sc.built&(1<<k) != 0 {
		return g
	}
	sc.built |= 1 << k
	// Every rule of the subject's groups on an object or folder of kind k,
	// in either state: the targets to ask about, and the rules to answer from.
	sc.named = sc.named[:0]
	for s, sd := range [2]*side{a, b} {
		for i, grp := range sd.u.groups {
			cg := &sd.s.groups[grp]
			if cg.objectKinds&(1<<k) == 0 && cg.folderDepths[k] == 0 {
				continue
			}
			for j, key := range cg.targets {
				if key.kind == k {
					sc.named = append(sc.named, namedRule{name: key.name, folder: key.folder, state: uint8(s), group: int32(i), rules: cg.targetRules[j]})
				}
			}
		}
	}
	slices.SortFunc(sc.named, func(x, y namedRule) int {
		if x.folder != y.folder {
			return b2i(x.folder) - b2i(y.folder)
		}
		return strings.Compare(x.name, y.name)
	})
	g.objects, g.folders = append(g.objects[:0], ""), append(g.folders[:0], "")
	for i := range sc.named {
		r := &sc.named[i]
		list := &g.objects
		if r.folder {
			list = &g.folders
		}
		if last := (*list)[len(*list)-1]; last != r.name || len(*list) == 1 {
			*list = append(*list, r.name)
		}
		r.index = len(*list) - 1
	}
	g.objStar = sort.SearchStrings(g.objects[1:], "*")
	g.dirStar = sort.SearchStrings(g.folders[1:], "*")
	for s, sd := range [2]*side{a, b} {
		g.states[s].build(sd, k, g, sc.named, uint8(s))
	}
	return g
}

// namedRule is one group's rules on one object or folder, as a grid
// collects them: index is the target's position in the grid's objects or
// folders, group the group's position in the subject's groups of state.
type namedRule struct {
	name   string
	folder bool
	state  uint8
	group  int32
	index  int
	rules  *targetRules
}

// build places the subject's groups' rules on the grid's objects and
// folders, and resolves each folder's level per group: the nearest folder
// rule of the group on it or above it (all of them are in the grid), else
// the group's universal level.
func (st *gridState) build(sd *side, k Kind, g *kindGrid, named []namedRule, state uint8) {
	s, groups := sd.s, sd.u.groups
	n := len(groups)
	st.groups, st.admin = groups, s.adminGroup(groups)
	var flags flagSet
	var universal Level
	for _, grp := range groups {
		flags |= s.groups[grp].flags
		universal = max(universal, s.groups[grp].universal[k])
	}
	objType, dirType := objectType(k, false), objectType(k, true)
	for lvl := range numLevels {
		st.objMask[lvl] = objectMask(objType, sd.u.member, st.admin >= 0, flags, universal, Level(lvl))
		st.dirMask[lvl] = objectMask(dirType, sd.u.member, st.admin >= 0, flags, universal, Level(lvl))
	}
	st.objMutating, st.dirMutating = mutatingOf(objType), mutatingOf(dirType)

	st.objRules = resized(st.objRules, len(g.objects)*n)
	st.dirRules = resized(st.dirRules, len(g.folders)*n)
	for i := range named {
		r := &named[i]
		switch {
		case r.state != state:
		case r.folder:
			st.dirRules[r.index*n+int(r.group)] = r.rules
		default:
			st.objRules[r.index*n+int(r.group)] = r.rules
		}
	}
	st.dirLevels = slices.Grow(st.dirLevels[:0], len(g.folders)*n)[:len(g.folders)*n]
	for f, path := range g.folders {
		levels := st.dirLevels[f*n : f*n+n]
		for i, grp := range groups {
			levels[i] = s.groups[grp].universal[k]
		}
		// From the folder up, each group's nearest rule.
		found := 0
		for dir := path; dir != "" && found < n; dir = parentPath(dir) {
			d := f
			if dir != path {
				var ok bool
				if d, ok = slices.BinarySearch(g.folders[1:], dir); !ok {
					continue
				}
				d++
			}
			for i, tr := range st.dirRules[d*n : d*n+n] {
				if tr != nil && levels[i]&levelSet == 0 {
					levels[i] = tr.level | levelSet
					found++
				}
			}
		}
		for i := range levels {
			levels[i] &^= levelSet
		}
	}
}

// levelSet marks a level found while resolving folders.
const levelSet Level = 0x80

// resized is s with n nil elements, reusing its memory.
func resized(s []*targetRules, n int) []*targetRules {
	s = slices.Grow(s[:0], n)[:n]
	clear(s)
	return s
}

// object is the subject's level on objects[o] in folders[f] in environment
// env (-1: none) and the group that decides it: the first group with the
// highest level, or the Admin group.
func (st *gridState) object(o, f, env int) (Level, int32) {
	if st.admin >= 0 {
		return Own, st.admin
	}
	n := len(st.groups)
	rules, dirs := st.objRules[o*n:o*n+n], st.dirLevels[f*n:f*n+n]
	best, group := None, int32(-1)
	for i, lvl := range dirs {
		if tr := rules[i]; tr != nil {
			lvl, _ = tr.levelIn(env)
		}
		if group < 0 || lvl > best {
			best, group = lvl, st.groups[i]
		}
	}
	return best, group
}

// folder is the subject's level on folders[f] and the group that decides it.
func (st *gridState) folder(f int) (Level, int32) {
	if st.admin >= 0 {
		return Own, st.admin
	}
	n := len(st.groups)
	best, group := None, int32(-1)
	for i, lvl := range st.dirLevels[f*n : f*n+n] {
		if group < 0 || lvl > best {
			best, group = lvl, st.groups[i]
		}
	}
	return best, group
}

// targetOrder calls f with the indexes of names (led by "") in the order
// of their targets' names, "" being "*" after the star names that sort
// before it.
func targetOrder(n, star int, f func(i int)) {
	for i := 1; i <= star; i++ {
		f(i)
	}
	f(0)
	for i := star + 1; i < n; i++ {
		f(i)
	}
}

// objectRows appends the changes on the objects of target type t: each
// named object (and any other) in each named folder (and the root), with
// no environment and in each environment. Only named resources can have
// per-environment levels; elsewhere an environment differs only by
// refusing changes when it is read-only.
func (g *kindGrid) objectRows(d *differ, subject string, t TargetType, sc *diffScratch, out []Change) []Change {
	rows := [2][]cell{}
	rows[0], rows[1] = sc.cells(len(d.envNames) + 1)
	targetOrder(len(g.objects), g.objStar, func(o int) {
		target := Target{Type: t, Name: orStar(g.objects[o])}
		overrides := t == TargetResource && o > 0
		for f := range g.folders {
			for s := range rows {
				st := &g.states[s]
				lvl, grp := st.object(o, f, -1)
				rows[s][0] = cell{level: lvl, group: grp, allowed: st.objMask[lvl]}
			}
			if !overrides && d.unchanged(rows[0][0], rows[1][0]) {
				continue
			}
			for s := range rows {
				st, row := &g.states[s], rows[s]
				for i, e := range d.envs[s] {
					if !overrides || !e.declared {
						row[i+1] = inEnv(row[0], e, st.objMutating)
						continue
					}
					lvl, grp := st.object(o, f, e.index)
					row[i+1] = inEnv(cell{level: lvl, group: grp, allowed: st.objMask[lvl]}, e, st.objMutating)
				}
			}
			out = d.rows(out, subject, target, g.folders[f], rows[0], rows[1])
		}
	})
	return out
}

// unchanged reports whether a target whose answers with no environment are
// a and b in the two states has no change at all: the same answers, and
// the same environments on both sides to derive the others from.
func (d *differ) unchanged(a, b cell) bool {
	return !d.everyone && a.level == b.level && a.allowed == b.allowed
}

// folderRows appends the changes on the folders of target type t: each
// named folder and any other, with no environment and in each environment.
func (g *kindGrid) folderRows(d *differ, subject string, t TargetType, sc *diffScratch, out []Change) []Change {
	rows := [2][]cell{}
	rows[0], rows[1] = sc.cells(len(d.envNames) + 1)
	targetOrder(len(g.folders), g.dirStar, func(f int) {
		for s := range rows {
			st := &g.states[s]
			lvl, grp := st.folder(f)
			rows[s][0] = cell{level: lvl, group: grp, allowed: st.dirMask[lvl]}
		}
		if d.unchanged(rows[0][0], rows[1][0]) {
			return
		}
		for s := range rows {
			st, row := &g.states[s], rows[s]
			for i, e := range d.envs[s] {
				row[i+1] = inEnv(row[0], e, st.dirMutating)
			}
		}
		out = d.rows(out, subject, Target{Type: t, Name: orStar(g.folders[f])}, "", rows[0], rows[1])
	})
	return out
}

// objectMask is the actions of an object or folder target type allowed to
// a subject with the given membership, Admin, additional permissions and
// universal level on the type's kind, at level: the policy chain's answer
// for each of the type's requirements, as evaluate gives it.
func objectMask(t TargetType, member, admin bool, flags flagSet, universal, level Level) uint16 {
	i := typeIndex(t)
	if i < 0 || i >= numObjectTypes {
		panic("objectMask: not an object or folder type: " + string(t))
	}
	idx := i
	for _, v := range [...]struct{ v, n int }{{b2i(member), 2}, {b2i(admin), 2}, {int(flags), numFlagSets}, {int(universal), numLevels}, {int(level), numLevels}} {
		idx = idx*v.n + v.v
	}
	return objectMaskTable()[idx]
}

// The object and folder target types are the first six of targetTypes.
const (
	numObjectTypes = 6
	numFlagSets    = 1 << 6
)

var objectMaskTable = sync.OnceValue(func() []uint16 {
	table := make([]uint16, 0, numObjectTypes*2*2*numFlagSets*numLevels*numLevels)
	for _, t := range targetTypes[:numObjectTypes] {
		reqs := requirementsOf(t)
		for _, member := range []bool{false, true} {
			for _, admin := range []bool{false, true} {
				for flags := range numFlagSets {
					for universal := range numLevels {
						for level := range numLevels {
							st := standing{member: member, admin: admin, flags: flagSet(flags)}
							var mask uint16
							for i := range reqs {
								st.level = Level(level)
								if reqs[i].scale == scaleUniversal {
									st.level = Level(universal)
								}
								if ok, _ := decide(&reqs[i], &st); ok {
									mask |= 1 << i
								}
							}
							table = append(table, mask)
						}
					}
				}
			}
		}
	}
	return table
})

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

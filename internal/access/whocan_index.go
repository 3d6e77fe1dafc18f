package access

import (
	"cmp"
	"slices"
)

// The who-can index: for a question, the groups that may answer it, in
// group order, so that a page examines the groups of its own grants and
// few others, never every group of the Space.
//
// A group grants an action on its own, or as one side of a pair, only with
// a level of at least the action's threshold, the action's additional
// permission, or the Admin role. On an object or folder a level comes from
// a rule on the object, a rule on one of its folders, or the universal
// level (access-model.md), so the groups that can reach the threshold are
// those with a rule on the target or one of its folders, and those whose
// universal level reaches it. The index keeps each of these as a sorted
// list; a page merges the lists of its question from its position on, and
// decides each group it meets exactly as before (whoCan).

type whoCanIndex struct {
	// targetHashes and targetGroups are every (rule target, group) pair,
	// sorted by the target's hash (targetHash) then group: the groups with
	// a rule on one target are a run of targetGroups.
	targetHashes []uint64
	targetGroups []int32
	// universal[k][l] are the groups whose universal level on kind k is at
	// least l; queryLibrary[l] the same for the query library.
	universal    [numKinds][numLevels][]int32
	queryLibrary [numLevels][]int32
	// flags[i] are the groups with the additional permission 1<<i; admins
	// the Admin group (at most one compiles).
	flags  [numFlagBits][]int32
	admins []int32
}

const numFlagBits = 6

func buildWhoCanIndex(s *Snapshot) *whoCanIndex {
	idx := &whoCanIndex{}
	type pair struct {
		hash  uint64
		group int32
	}
	pairs := make([]pair, 0, len(s.rules))
	for g := range s.groups {
		grp := &s.groups[g]
		for _, h := range grp.targetHashes {
			pairs = append(pairs, pair{h, int32(g)})
		}
		for k := range numKinds {
			for l := Use; l <= grp.universal[k]; l++ {
				idx.universal[k][l] = append(idx.universal[k][l], int32(g))
			}
		}
		for l := Use; l <= grp.queryLib; l++ {
			idx.queryLibrary[l] = append(idx.queryLibrary[l], int32(g))
		}
		for i := range numFlagBits {
			if grp.flags&(1<<i) != 0 {
				idx.flags[i] = append(idx.flags[i], int32(g))
			}
		}
		if grp.builtin == Admin {
			idx.admins = append(idx.admins, int32(g))
		}
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		if c := cmp.Compare(a.hash, b.hash); c != 0 {
			return c
		}
		return cmp.Compare(a.group, b.group)
	})
	idx.targetHashes = make([]uint64, len(pairs))
	idx.targetGroups = make([]int32, len(pairs))
	for i, p := range pairs {
		idx.targetHashes[i], idx.targetGroups[i] = p.hash, p.group
	}
	return idx
}

// withRule are the groups with a rule on the target of hash h (a hash
// collision adds groups, which the page then finds to grant nothing).
func (idx *whoCanIndex) withRule(h uint64) []int32 {
	lo, _ := slices.BinarySearch(idx.targetHashes, h)
	hi := lo
	for hi < len(idx.targetHashes) && idx.targetHashes[hi] == h {
		hi++
	}
	return idx.targetGroups[lo:hi]
}

// candidates are the groups a question's page examines: the merge of a
// few sorted lists of groups, or every group.
type candidates struct {
	every int // every group below every is a candidate (0: none is)
	lists [][]int32
	inner [12][]int32 // lists' memory for most questions
}

// candidatesFor gathers the groups that may grant q's action: with a level
// of at least the threshold, with its additional permission, or Admin.
func (s *Snapshot) candidatesFor(q *question, c *candidates) {
	idx := s.whoCanIdx()
	c.lists, c.every = c.inner[:0], 0
	r := q.req
	threshold := r.need
	if r.flag != 0 && r.scale != scaleNone {
		threshold = min(threshold, r.flagWith) // one side of a pair
	}
	c.add(idx.admins)
	if r.flag != 0 {
		for i := range numFlagBits {
			if r.flag&(1<<i) != 0 {
				c.add(idx.flags[i])
			}
		}
	}
	if r.scale != scaleNone && threshold == None {
		c.every = len(s.groups) // every level reaches None
		return
	}
	switch r.scale {
	case scaleObject:
		p := &q.probe
		c.add(idx.universal[p.kind][threshold])
		if p.object {
			c.add(idx.withRule(p.objHash))
		}
		for i := range p.dirs {
			c.add(idx.withRule(p.dirHash(i)))
		}
	case scaleUniversal:
		c.add(idx.universal[q.probe.kind][threshold])
	case scaleQueryLibrary:
		c.add(idx.queryLibrary[threshold])
	}
}

func (c *candidates) add(list []int32) {
	if len(list) > 0 {
		c.lists = append(c.lists, list)
	}
}

// next is the first candidate at or after position pos, or end when none is.
func (c *candidates) next(pos, end int) int {
	if pos < c.every {
		return pos
	}
	best := end
	for i, list := range c.lists {
		if len(list) > 0 && int(list[0]) < pos {
			// Lists are read forwards: a binary search the first time, a
			// step or two after.
			if len(list) > 8 && int(list[7]) < pos {
				j, _ := slices.BinarySearch(list, int32(pos))
				list = list[j:]
			}
			for len(list) > 0 && int(list[0]) < pos {
				list = list[1:]
			}
			c.lists[i] = list
		}
		if len(list) > 0 && int(list[0]) < best {
			best = int(list[0])
		}
	}
	return best
}

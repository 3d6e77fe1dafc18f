package access

import (
	"hash/maphash"
	"slices"
	"sort"
	"strings"
)

// The per-group target index. A check asks, for each of the user's few
// groups, whether the group has a rule on the object and on each folder the
// object lives in. Each group keeps its rule targets sorted by hash in its
// own small arrays, and a check hashes the object and its folder paths once
// (a probe), so a group's answer is a binary search in a few cache lines
// rather than a lookup per path in one Space-wide map of every target.

// targetHash hashes a rule target's kind, folder flag and name.
func targetHash(seed maphash.Seed, kind Kind, folder bool, name string) uint64 {
	tag := uint64(kind) << 1
	if folder {
		tag |= 1
	}
	return maphash.String(seed, name) ^ (tag+1)*0x9e3779b97f4a7c15
}

// indexTargets sorts the group's targets by hash, beside their rules.
func (g *compiledGroup) indexTargets(seed maphash.Seed, rules map[ruleKey]*targetRules) {
	type entry struct {
		hash uint64
		key  ruleKey
	}
	entries := make([]entry, len(g.targets))
	for i, k := range g.targets {
		entries[i] = entry{hash: targetHash(seed, k.kind, k.folder, k.name), key: k}
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].hash < entries[j].hash })
	g.targetHashes = make([]uint64, len(entries))
	g.targetRules = make([]*targetRules, len(entries))
	for i, e := range entries {
		g.targetHashes[i], g.targets[i], g.targetRules[i] = e.hash, e.key, rules[e.key]
	}
}

// find is the group's rules on exactly (kind, folder, name), whose hash is h.
func (g *compiledGroup) find(h uint64, kind Kind, folder bool, name string) *targetRules {
	i, _ := slices.BinarySearch(g.targetHashes, h)
	for ; i < len(g.targetHashes) && g.targetHashes[i] == h; i++ {
		if k := &g.targets[i]; k.kind == kind && k.folder == folder && k.name == name {
			return g.targetRules[i]
		}
	}
	return nil
}

// probe is an object or folder as checks look it up in every group: its
// hashes, computed once per check and only when some group needs them. It
// holds its folder paths in arrays, not slices into itself, so that it stays
// on the stack.
type probe struct {
	seed    maphash.Seed
	kind    Kind
	object  bool // an object named name in folder dir(0); else the folder dir(0)
	name    string
	objHash uint64
	// The folder paths that apply, nearest first ("a/b/c", "a/b", "a"):
	// dirs of them, depth the number of segments of the first.
	dirs, depth int
	near        [probeDirs]string
	far         []string // beyond probeDirs (rare: very deep folders)
	hashes      [probeDirs]uint64
	hashed      uint32 // bit i: hashes[i] is computed
}

const probeDirs = 16

// newProbe prepares the lookups of an object (folder false: name in folder
// path dir) or a folder (folder true: the folder path name).
func (s *Snapshot) newProbe(p *probe, kind Kind, folder bool, name, dir string) {
	p.seed, p.kind, p.object, p.name = s.seed, kind, !folder, name
	p.dirs, p.hashed, p.far = 0, 0, nil
	if folder {
		dir = name
	}
	if p.object {
		p.objHash = targetHash(s.seed, kind, false, name)
	}
	if dir == "" {
		return
	}
	p.depth = pathDepth(dir)
	for d := dir; d != ""; d = parentPath(d) {
		if p.dirs < probeDirs {
			p.near[p.dirs] = d
		} else {
			p.far = append(p.far, d)
		}
		p.dirs++
	}
}

// dir is the i-th folder path, nearest first.
func (p *probe) dir(i int) string {
	if i < probeDirs {
		return p.near[i]
	}
	return p.far[i-probeDirs]
}

// dirHash is the hash of the i-th folder path.
func (p *probe) dirHash(i int) uint64 {
	if i >= probeDirs {
		return targetHash(p.seed, p.kind, true, p.dir(i))
	}
	if p.hashed&(1<<i) == 0 {
		p.hashes[i] = targetHash(p.seed, p.kind, true, p.near[i])
		p.hashed |= 1 << i
	}
	return p.hashes[i]
}

// pathDepth is the number of segments of a folder path ("a/b" is 2).
func pathDepth(p string) int { return strings.Count(p, "/") + 1 }

func parentPath(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return ""
}

package access

import (
	"runtime"
	"sort"
)

// DiffSummary summarises a Diff for people: how many answers change, for
// how many subjects, the groups and targets with the most changes, and the
// first changes. It is computed from DiffEach without holding every change.
type DiffSummary struct {
	Space        string `json:"space"`
	FromRevision string `json:"fromRevision"`
	ToRevision   string `json:"toRevision"`
	// Total is the number of changes Diff lists, for Subjects subjects.
	Total    int `json:"total"`
	Subjects int `json:"subjects"`
	// NowAllowed and NoLongerAllowed count the actions over all changes.
	NowAllowed      int `json:"nowAllowed"`
	NoLongerAllowed int `json:"noLongerAllowed"`
	// ByGroup and ByTarget count the changes per group (Change.Group, "" for
	// none) and per target, most changes first (at most top of each);
	// Groups and Targets are how many there are in all.
	ByGroup  []DiffCount `json:"byGroup"`
	ByTarget []DiffCount `json:"byTarget"`
	Groups   int         `json:"groups"`
	Targets  int         `json:"targets"`
	// Changes are the first changes, in Diff's order; Truncated is set when
	// there are more.
	Changes   []Change `json:"changes"`
	Truncated bool     `json:"truncated,omitempty"`
}

// DiffCount is the changes of one group or target.
type DiffCount struct {
	Name    string `json:"name"`
	Changes int    `json:"changes"`
	// Subjects is how many subjects these changes are for.
	Subjects int `json:"subjects"`
	// Gained and Lost count the changes that only gain or only lose access.
	Gained int `json:"gained"`
	Lost   int `json:"lost"`
}

// SummarizeDiff summarises the difference between two states, keeping the
// first changes and the top groups and targets. It counts every change
// DiffEach would emit, on the workers that compute them, without building
// the list or a name per change.
func SummarizeDiff(from, to *Snapshot, first, top int) DiffSummary {
	sum := DiffSummary{Space: to.space, FromRevision: from.revision, ToRevision: to.revision, Changes: []Change{},
		ByGroup: []DiffCount{}, ByTarget: []DiffCount{}}
	if from.revision == to.revision {
		return sum
	}
	first = max(first, 0)
	d := newDiffer(from, to)
	workers := max(runtime.GOMAXPROCS(0), 1)
	tallies := make([]diffTally, workers)
	_ = d.run(diffSubjects(from, to), workers,
		func(w int, b *subjectBatch) {
			tallies[w].add(b.changes)
			b.changes = b.changes[:min(len(b.changes), first)] // only the first can be shown
		},
		func(b *subjectBatch) error {
			if n := first - len(sum.Changes); n > 0 {
				sum.Changes = append(sum.Changes, b.changes[:min(n, len(b.changes))]...)
			}
			return nil
		})
	groups, targets := map[string]*DiffCount{}, map[string]*DiffCount{}
	for i := range tallies {
		t := &tallies[i]
		sum.Total += t.total
		sum.Subjects += t.subjects
		sum.NowAllowed += t.nowAllowed
		sum.NoLongerAllowed += t.noLongerAllowed
		for name, c := range t.groups {
			merge(groups, name, &c.DiffCount)
		}
		for target, c := range t.targets {
			merge(targets, target.String(), &c.DiffCount)
		}
	}
	sum.Truncated = sum.Total > len(sum.Changes)
	sum.Groups, sum.Targets = len(groups), len(targets)
	sum.ByGroup, sum.ByTarget = most(groups, top), most(targets, top)
	return sum
}

// diffTally counts one worker's changes. A subject's changes are all
// compared by one worker, one after the other, so that counting subjects
// where the subject changes is exact, and the workers' counts add up.
type diffTally struct {
	total, subjects, nowAllowed, noLongerAllowed int
	last                                         string // the last subject counted
	groups                                       map[string]*subjectCount
	targets                                      map[Target]*subjectCount
	// The groups counted last (a subject's changes come from their few
	// groups), and the target counted last (changes come in runs of one).
	recent     [8]recentGroup
	next       int
	lastTarget Target
	target     *subjectCount
}

type recentGroup struct {
	name  string
	count *subjectCount
}

// group is the count of the named group.
func (t *diffTally) group(name string) *subjectCount {
	for i := range t.recent {
		if r := &t.recent[i]; r.count != nil && r.name == name {
			return r.count
		}
	}
	c := counter(t.groups, name)
	t.recent[t.next] = recentGroup{name: name, count: c}
	t.next = (t.next + 1) % len(t.recent)
	return c
}

// subjectCount is a DiffCount and the last subject it counted.
type subjectCount struct {
	DiffCount
	last string
}

func (t *diffTally) add(changes []Change) {
	if t.groups == nil {
		t.groups, t.targets = map[string]*subjectCount{}, map[Target]*subjectCount{}
	}
	var group *subjectCount
	lastGroup := ""
	for i := range changes {
		c := &changes[i]
		t.total++
		newSubject := c.Subject != t.last
		if newSubject {
			t.subjects++
			t.last = c.Subject
		}
		t.nowAllowed += len(c.NowAllowed)
		t.noLongerAllowed += len(c.NoLongerAllowed)
		if t.target == nil || c.Target != t.lastTarget {
			t.target, t.lastTarget = counter(t.targets, c.Target), c.Target
		}
		if group == nil || c.Group != lastGroup {
			group, lastGroup = t.group(c.Group), c.Group
		}
		gained, lost := c.Gained(), c.Lost()
		group.count(c.Subject, gained, lost)
		t.target.count(c.Subject, gained, lost)
	}
}

func counter[K comparable](m map[K]*subjectCount, key K) *subjectCount {
	c, ok := m[key]
	if !ok {
		c = &subjectCount{}
		m[key] = c
	}
	return c
}

// count counts a change of subject that gains or loses access (or both, or
// neither: an unchanged environment).
func (s *subjectCount) count(subject string, gained, lost bool) {
	s.Changes++
	if s.last != subject {
		s.Subjects++
		s.last = subject
	}
	switch {
	case gained:
		s.Gained++
	case lost:
		s.Lost++
	}
}

func merge(m map[string]*DiffCount, name string, c *DiffCount) {
	into, ok := m[name]
	if !ok {
		into = &DiffCount{Name: name}
		m[name] = into
	}
	into.Changes += c.Changes
	into.Subjects += c.Subjects
	into.Gained += c.Gained
	into.Lost += c.Lost
}

// most are the top counts, most changes first, then by name.
func most(m map[string]*DiffCount, top int) []DiffCount {
	out := make([]DiffCount, 0, len(m))
	for _, c := range m {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Changes != out[j].Changes {
			return out[i].Changes > out[j].Changes
		}
		return out[i].Name < out[j].Name
	})
	return out[:min(len(out), top)]
}

package access

import "sort"

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
// first changes and the top groups and targets.
func SummarizeDiff(from, to *Snapshot, first, top int) DiffSummary {
	sum := DiffSummary{Space: to.space, FromRevision: from.revision, ToRevision: to.revision, Changes: []Change{},
		ByGroup: []DiffCount{}, ByTarget: []DiffCount{}}
	type tally struct {
		DiffCount
		last string // the last subject counted
	}
	groups, targets := map[string]*tally{}, map[string]*tally{}
	count := func(m map[string]*tally, name string, c *Change) {
		t, ok := m[name]
		if !ok {
			t = &tally{DiffCount: DiffCount{Name: name}}
			m[name] = t
		}
		t.Changes++
		if t.last != c.Subject {
			t.Subjects++
			t.last = c.Subject
		}
		switch {
		case c.Gained():
			t.Gained++
		case c.Lost():
			t.Lost++
		}
	}
	last := ""
	_ = DiffEach(from, to, func(c Change) error {
		sum.Total++
		if c.Subject != last {
			sum.Subjects++
			last = c.Subject
		}
		sum.NowAllowed += len(c.NowAllowed)
		sum.NoLongerAllowed += len(c.NoLongerAllowed)
		count(groups, c.Group, &c)
		count(targets, c.Target.String(), &c)
		if len(sum.Changes) < first {
			sum.Changes = append(sum.Changes, c)
		} else {
			sum.Truncated = true
		}
		return nil
	})
	most := func(m map[string]*tally) []DiffCount {
		out := make([]DiffCount, 0, len(m))
		for _, t := range m {
			out = append(out, t.DiffCount)
		}
		sort.Slice(out, func(i, j int) bool {
			if out[i].Changes != out[j].Changes {
				return out[i].Changes > out[j].Changes
			}
			return out[i].Name < out[j].Name
		})
		return out[:min(len(out), top)]
	}
	sum.Groups, sum.Targets = len(groups), len(targets)
	sum.ByGroup, sum.ByTarget = most(groups), most(targets)
	return sum
}

package access

import (
	"fmt"
	"slices"
	"testing"
)

// A who-can page examines only the groups that may grant: those with a
// rule on the object or one of its folders, a universal level that
// reaches the threshold, the action's additional permission, or Admin;
// never the thousands of groups that cannot, however many there are.
func TestWhoCanExaminesOnlyGroupsThatMayGrant(t *testing.T) {
	in := SpaceInput{Name: "s", Groups: []Group{{Name: "admin", Builtin: Admin}}}
	for i := range 3000 {
		in.Groups = append(in.Groups, Group{Name: fmt.Sprintf("g%04d", i), Members: []Member{{Email: fmt.Sprintf("u%d@x.io", i)}}})
	}
	in.Groups[1501].Universal.Apps = Use                  // g1500
	in.Groups[2001].Additional.UnpublishedReleases = true // g2000
	in.Groups[2501].Universal.Apps = Edit                 // g2500
	in.Rules = []Rule{
		{Name: "object", Group: "g0500", Level: Use, Targets: []RuleTarget{{Kind: App, Name: "x"}}},
		{Name: "folder", Group: "g1000", Level: Own, Targets: []RuleTarget{{Kind: App, Folder: true, Name: "a"}}},
		{Name: "lower", Group: "g2500", Level: Use, Targets: []RuleTarget{{Kind: App, Folder: true, Name: "a/b"}}},
		{Name: "elsewhere", Group: "g2999", Level: Own, Targets: []RuleTarget{{Kind: App, Folder: true, Name: "c"}, {Kind: Workflow, Name: "x"}}},
	}
	s := mustCompile(t, in)
	index := func(names ...string) []int {
		var out []int
		for _, n := range names {
			out = append(out, int(s.groupIndex[n]))
		}
		slices.Sort(out)
		return out
	}
	cases := map[string]struct {
		req  Request
		want []int
	}{
		"use: rules on the object and its folders, universal Use": {
			Request{Action: "use", Target: Target{Type: TargetApp, Name: "x"}, Folder: "a/b"},
			index("admin", "g0500", "g1000", "g2500", "g1500")},
		"edit: a universal Use cannot reach Edit": {
			Request{Action: "edit", Target: Target{Type: TargetApp, Name: "x"}, Folder: "a/b"},
			index("admin", "g0500", "g1000", "g2500")},
		"view-unpublished: one side of a pair needs Use, the other the permission": {
			Request{Action: "view-unpublished", Target: Target{Type: TargetApp, Name: "y"}},
			index("admin", "g1500", "g2000", "g2500")},
		"a folder: rules on it and above": {
			Request{Action: "manage", Target: Target{Type: TargetAppFolder, Name: "a/b/c"}},
			index("admin", "g1000", "g2500")},
		"create-folder: the universal level only": {
			Request{Action: "create-folder", Target: Target{Type: TargetAppFolder, Name: "a"}},
			index("admin", "g2500")},
		"a Space action: the permission only": {
			Request{Action: "view-users", Target: Target{Type: TargetSpace}},
			index("admin")},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var q question
			if err := s.prepare(&q, tc.req); err != nil {
				t.Fatal(err)
			}
			var c candidates
			s.candidatesFor(&q, &c)
			var got []int
			for pos := c.next(0, len(s.groups)); pos < len(s.groups); pos = c.next(pos+1, len(s.groups)) {
				got = append(got, pos)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("examined %v, want %v", got, tc.want)
			}
			// From the middle of the answer on, as a later page does.
			c = candidates{}
			s.candidatesFor(&q, &c)
			if len(tc.want) > 1 {
				if first := c.next(tc.want[1], len(s.groups)); first != tc.want[1] {
					t.Fatalf("from %d: first candidate %d", tc.want[1], first)
				}
			}
			// And the answer is the one every group gives when asked.
			res, err := s.WhoCan(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range res.Grants {
				if !slices.Contains(tc.want, int(s.groupIndex[g.Group])) {
					t.Fatalf("grant of %s, not a candidate", g.Group)
				}
			}
		})
	}
}

package access

import "testing"

// Targets whose hashes collide are told apart by their keys.
func TestFindTellsCollidingTargetsApart(t *testing.T) {
	a, b, c := &targetRules{rule: "a"}, &targetRules{rule: "b"}, &targetRules{rule: "c"}
	g := compiledGroup{
		targets:      []ruleKey{{kind: App, name: "x"}, {kind: App, folder: true, name: "x"}, {kind: Workflow, name: "y"}},
		targetHashes: []uint64{7, 7, 9},
		targetRules:  []*targetRules{a, b, c},
	}
	for _, tc := range []struct {
		hash   uint64
		kind   Kind
		folder bool
		name   string
		want   *targetRules
	}{
		{7, App, false, "x", a},
		{7, App, true, "x", b},
		{9, Workflow, false, "y", c},
		{7, Workflow, false, "x", nil},
		{8, App, false, "x", nil},
		{10, App, false, "x", nil},
	} {
		if got := g.find(tc.hash, tc.kind, tc.folder, tc.name); got != tc.want {
			t.Errorf("find(%d, %s, %v, %s) = %v, want %v", tc.hash, tc.kind, tc.folder, tc.name, got, tc.want)
		}
	}
}

package access

import (
	"errors"
	"fmt"
	"testing"
)

func TestDiffSummaryAndStream(t *testing.T) {
	from := mustCompile(t, workedExample())
	in := workedExample()
	in.Rules[1].Level = Edit                                                              // finance-payouts Use -> Edit
	in.Groups[0].Members = nil                                                            // alice leaves finance
	in.Groups[1].Members = append(in.Groups[1].Members, Member{Email: "new@example.com"}) // a new Viewer
	to := mustCompile(t, in)
	whole := Diff(from, to)

	// The stream is Diff, in Diff's order, and stops at emit's error.
	var streamed []Change
	if err := DiffEach(from, to, func(c Change) error { streamed = append(streamed, c); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(streamed) != len(whole.Changes) {
		t.Fatalf("streamed %d changes, Diff has %d", len(streamed), len(whole.Changes))
	}
	for i := range streamed {
		if streamed[i].String() != whole.Changes[i].String() {
			t.Fatalf("change %d: %s, Diff has %s", i, streamed[i], whole.Changes[i])
		}
	}
	stop := errors.New("stop")
	if err := DiffEach(from, to, func(Change) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("DiffEach returned %v", err)
	}

	sum := SummarizeDiff(from, to, 2, 10)
	if sum.Total != len(whole.Changes) || len(sum.Changes) != 2 || !sum.Truncated || sum.Changes[0].String() != whole.Changes[0].String() {
		t.Fatalf("summary: total %d (want %d), first %v", sum.Total, len(whole.Changes), sum.Changes)
	}
	groups := map[string]DiffCount{}
	for _, g := range sum.ByGroup {
		groups[g.Name] = g
	}
	// alice's losses come from finance (before), new's gains from viewer
	// (after); finance is left with no one, so its rule's raise changes nothing.
	if g := groups["finance"]; g.Lost == 0 || g.Gained != 0 || g.Subjects != 1 {
		t.Fatalf("finance: %+v (groups %+v)", g, sum.ByGroup)
	}
	if g := groups["viewer"]; g.Gained == 0 || g.Lost != 0 || g.Subjects != 1 {
		t.Fatalf("viewer: %+v", g)
	}
	n := 0
	for _, c := range sum.ByTarget {
		n += c.Changes
	}
	if sum.Targets <= 10 && n != sum.Total {
		t.Fatalf("targets count %d changes of %d", n, sum.Total)
	}
	for _, c := range whole.Changes {
		if c.Subject == "user:alice@example.com" && c.Group != "finance" && c.Lost() {
			t.Fatalf("alice's loss is not attributed to finance: %+v", c)
		}
	}
}

// Compared on several goroutines, a Space with many subjects gives the
// changes in the same order as one subject after the other.
func TestDiffInParallelKeepsTheOrder(t *testing.T) {
	p := mediumForDiff()
	from, _ := Compile(p)
	for i := 4; i < len(p.Groups); i += 3 {
		p.Groups[i].Universal.Apps = (p.Groups[i].Universal.Apps + 1) % 4
	}
	to, _ := Compile(p)
	d := differ{from: from, to: to, changed: changedGroups(from, to)}
	d.envs = []string{""}
	for _, e := range from.envs {
		d.envs = append(d.envs, e.Name)
	}
	subjects := diffSubjects(from, to)
	if len(subjects) < 4*diffBatch {
		t.Fatalf("only %d subjects: too few to be compared in batches", len(subjects))
	}
	var sequential []Change
	for _, sub := range subjects {
		sequential = d.changesOf(sub, sequential)
	}
	var parallel []Change
	if err := d.parallel(subjects, 4, func(c Change) error { parallel = append(parallel, c); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(parallel) != len(sequential) || len(parallel) == 0 {
		t.Fatalf("%d changes in parallel, %d one by one", len(parallel), len(sequential))
	}
	for i := range parallel {
		if parallel[i].String() != sequential[i].String() {
			t.Fatalf("change %d: %s in parallel, %s one by one", i, parallel[i], sequential[i])
		}
	}
	stop := errors.New("stop")
	n := 0
	if err := d.parallel(subjects, 4, func(Change) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Fatalf("parallel returned %v after %d changes", err, n)
	}
}

// mediumForDiff is a Space of 2,000 listed users in 50 groups with rules on
// apps and folders (accesstest imports this package, so it is not used here).
func mediumForDiff() SpaceInput {
	in := SpaceInput{Name: "medium", Environments: []Environment{{Name: "development"}, {Name: "production", ReadOnly: true}}}
	in.Groups = append(in.Groups, Group{Name: "all-users", Builtin: AllUsers}, Group{Name: "viewer", Builtin: Viewer},
		Group{Name: "editor", Builtin: Editor}, Group{Name: "admin", Builtin: Admin, Members: []Member{{Email: "root@example.com"}}})
	for g := range 50 {
		in.Groups = append(in.Groups, Group{Name: fmt.Sprintf("team-%02d", g), Universal: Universal{Apps: Level(g % 3)}})
	}
	for u := range 2000 {
		for _, g := range []int{4 + u%50, 4 + (u*7)%50} {
			in.Groups[g].Members = append(in.Groups[g].Members, Member{Email: fmt.Sprintf("user%04d@example.com", u)})
		}
	}
	for r := range 200 {
		t := RuleTarget{Kind: App, Name: fmt.Sprintf("app-%03d", r)}
		if r%3 == 0 {
			t = RuleTarget{Kind: App, Folder: true, Name: fmt.Sprintf("f%d/g%d", r%5, r%7)}
		}
		in.Rules = append(in.Rules, Rule{Name: fmt.Sprintf("rule-%03d", r), Group: fmt.Sprintf("team-%02d", r%50), Level: Level(1 + r%3), Targets: []RuleTarget{t}})
	}
	return in
}

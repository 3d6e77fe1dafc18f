package access

import (
	"errors"
	"fmt"
	"slices"
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
	d := newDiffer(from, to)
	subjects := diffSubjects(from, to)
	if len(subjects) < 4*batchSize {
		t.Fatalf("only %d subjects: too few to be compared in batches", len(subjects))
	}
	var sequential []Change
	var sc diffScratch
	for _, sub := range subjects {
		sequential = d.compare(sub, &sc, sequential)
	}
	var parallel []Change
	if err := d.run(subjects, 4, nil, func(b *subjectBatch) error { parallel = append(parallel, b.changes...); return nil }); err != nil {
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
	if err := d.run(subjects, 4, nil, func(*subjectBatch) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Fatalf("run returned %v after %d batches", err, n)
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

// The summary counts, on the workers, exactly what the list of changes
// holds: totals, subjects, and per group and per target.
func TestDiffSummaryCountsTheList(t *testing.T) {
	p := mediumForDiff()
	from, _ := Compile(p)
	for i := 4; i < len(p.Groups); i += 2 {
		p.Groups[i].Universal.Apps = (p.Groups[i].Universal.Apps + 1) % 4
		p.Groups[i].Additional.AuditLog = i%4 == 0
	}
	p.Rules[3].Level = Own
	p.Groups[7].Members = p.Groups[7].Members[5:]
	to, _ := Compile(p)
	list := Diff(from, to).Changes
	want := DiffSummary{Total: len(list)}
	groups, targets := map[string]*DiffCount{}, map[string]*DiffCount{}
	lastSubject := map[*DiffCount]string{}
	count := func(m map[string]*DiffCount, name string, c Change) {
		if m[name] == nil {
			m[name] = &DiffCount{Name: name}
		}
		n := m[name]
		n.Changes++
		if lastSubject[n] != c.Subject {
			n.Subjects++
			lastSubject[n] = c.Subject
		}
		if c.Gained() {
			n.Gained++
		} else if c.Lost() {
			n.Lost++
		}
	}
	for i, c := range list {
		if i == 0 || list[i-1].Subject != c.Subject {
			want.Subjects++
		}
		want.NowAllowed += len(c.NowAllowed)
		want.NoLongerAllowed += len(c.NoLongerAllowed)
		count(groups, c.Group, c)
		count(targets, c.Target.String(), c)
	}
	got := SummarizeDiff(from, to, 50, 1<<20)
	if got.Total != want.Total || got.Subjects != want.Subjects || got.NowAllowed != want.NowAllowed || got.NoLongerAllowed != want.NoLongerAllowed {
		t.Fatalf("summary %d changes for %d subjects (+%d -%d); the list %d for %d (+%d -%d)", got.Total, got.Subjects, got.NowAllowed, got.NoLongerAllowed,
			want.Total, want.Subjects, want.NowAllowed, want.NoLongerAllowed)
	}
	if want.Total < 1000 {
		t.Fatalf("only %d changes: the summary is not exercised", want.Total)
	}
	if got.Groups != len(groups) || got.Targets != len(targets) || len(got.ByGroup) != len(groups) || len(got.ByTarget) != len(targets) {
		t.Fatalf("%d groups and %d targets counted, the list has %d and %d", got.Groups, got.Targets, len(groups), len(targets))
	}
	for _, c := range got.ByGroup {
		if *groups[c.Name] != c {
			t.Fatalf("group %q: %+v, the list gives %+v", c.Name, c, *groups[c.Name])
		}
	}
	for _, c := range got.ByTarget {
		if *targets[c.Name] != c {
			t.Fatalf("target %q: %+v, the list gives %+v", c.Name, c, *targets[c.Name])
		}
	}
	if len(got.Changes) != 50 || !got.Truncated || !slices.EqualFunc(got.Changes, list[:50], func(a, b Change) bool { return compareChanges(&a, &b) == 0 && a.String() == b.String() }) {
		t.Fatalf("the first changes are not the list's first")
	}
}

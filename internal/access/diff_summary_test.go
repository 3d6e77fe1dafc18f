package access

import (
	"errors"
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

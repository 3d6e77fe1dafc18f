package access_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/access/accesstest"
)

// Diff answers from each subject's grid of levels (diff_grid.go); asking
// every question through the policy chain gives exactly the same changes,
// in the same order, with the same deciding groups, on random Spaces and
// random changes to them, both ways.
func TestDiffFastPathAgreesWithEvaluation(t *testing.T) {
	changes := 0
	for seed := range uint64(agreementCases / 2) {
		r := rand.New(rand.NewPCG(seed, 29))
		a := gridStress(r, enriched(seed))
		b := deepCopy(a)
		mutate(r, &b)
		switch r.IntN(4) {
		case 0: // every custom group's universal level on one kind
			k := r.IntN(3)
			for i := 4; i < len(b.Groups); i++ {
				u := &b.Groups[i].Universal
				switch k {
				case 0:
					u.Apps = (u.Apps + 1) % 4
				case 1:
					u.Workflows = (u.Workflows + 1) % 4
				default:
					u.Resources = (u.Resources + 1) % 4
				}
			}
		case 1: // per-environment levels moved
			b.Rules = slices.Clone(b.Rules)
			for i := range b.Rules {
				if r.IntN(3) == 0 {
					b.Rules[i].Targets = overrideEnvironments(r, b.Rules[i].Targets)
				}
			}
		case 2: // an environment added or dropped: everyone is compared
			if r.IntN(2) == 0 {
				b.Environments = append(slices.Clone(b.Environments), access.Environment{Name: "qa", ReadOnly: r.IntN(2) == 0})
			} else {
				b.Environments = slices.Clone(b.Environments[:len(b.Environments)-1])
				b.Rules = dropEnvironment(b.Rules, a.Environments[len(a.Environments)-1].Name)
			}
		}
		from, to := compile(t, a), compile(t, b)
		for _, pair := range [][2]*access.Snapshot{{from, to}, {to, from}} {
			fast := access.Diff(pair[0], pair[1]).Changes
			want := access.ReferenceDiff(pair[0], pair[1])
			if !reflect.DeepEqual(fast, want) {
				t.Fatalf("seed %d: Diff has %d changes, question by question %d; first difference:\n%s", seed, len(fast), len(want), firstDifference(fast, want))
			}
			changes += len(fast)
		}
	}
	if changes < agreementCases*5 {
		t.Fatalf("only %d changes over %d Spaces: the agreement is not exercised", changes, agreementCases)
	}
}

// gridStress adds what the grid must get right to a Space: names that sort
// before "*" (an object no rule names), per-environment levels on
// resources of several rules, a resource folder rule, and a group with
// rules on the same object and its folders.
func gridStress(r *rand.Rand, in access.SpaceInput) access.SpaceInput {
	g := in.Groups[4+r.IntN(len(in.Groups)-4)].Name
	in.Rules = append(in.Rules,
		access.Rule{Name: "early-names", Group: g, Level: access.Level(1 + r.IntN(3)), Targets: []access.RuleTarget{
			{Kind: access.App, Name: "(legacy)"}, {Kind: access.App, Folder: true, Name: "#shared/x"},
			{Kind: access.Workflow, Name: "!cron"}, {Kind: access.Resource, Folder: true, Name: "dbs"}}},
		access.Rule{Name: "db-overrides", Group: g, Level: access.Use, Targets: overrideEnvironments(r, []access.RuleTarget{
			{Kind: access.Resource, Name: accesstest.ObjectName(access.Resource, r.IntN(50))},
			{Kind: access.Resource, Name: "(primary)"}})},
	)
	return in
}

// overrideEnvironments gives the resource targets random per-environment levels.
func overrideEnvironments(r *rand.Rand, targets []access.RuleTarget) []access.RuleTarget {
	out := slices.Clone(targets)
	for i := range out {
		if out[i].Kind != access.Resource || out[i].Folder {
			continue
		}
		out[i].Environments = nil
		for _, e := range accesstest.Environments {
			if r.IntN(2) == 0 {
				out[i].Environments = append(out[i].Environments, access.EnvironmentLevel{Name: e.Name, Level: access.Level(r.IntN(4))})
			}
		}
	}
	return out
}

// dropEnvironment removes an environment's overrides from the rules.
func dropEnvironment(rules []access.Rule, env string) []access.Rule {
	out := slices.Clone(rules)
	for i := range out {
		out[i].Targets = slices.Clone(out[i].Targets)
		for j := range out[i].Targets {
			out[i].Targets[j].Environments = slices.DeleteFunc(slices.Clone(out[i].Targets[j].Environments),
				func(e access.EnvironmentLevel) bool { return e.Name == env })
		}
	}
	return out
}

func firstDifference(got, want []access.Change) string {
	for i := range min(len(got), len(want)) {
		if !reflect.DeepEqual(got[i], want[i]) {
			return fmt.Sprintf("change %d:\n  got  %v (group %q)\n  want %v (group %q)", i, got[i], got[i].Group, want[i], want[i].Group)
		}
	}
	if len(got) > len(want) {
		return fmt.Sprintf("extra: %v", got[len(want)])
	}
	if len(want) > len(got) {
		return fmt.Sprintf("missing: %v", want[len(got)])
	}
	return "none"
}

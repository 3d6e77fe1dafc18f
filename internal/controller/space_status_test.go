package controller

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/access"
)

func rel(name, version string, state governorv1alpha1.ReleaseState, created int) governorv1alpha1.Release {
	return governorv1alpha1.Release{
		ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(time.Unix(int64(created), 0))},
		Spec:       governorv1alpha1.ReleaseSpec{App: "payouts", Version: version, State: state},
	}
}

func TestOrderReleases(t *testing.T) {
	pub, draft := governorv1alpha1.ReleasePublished, governorv1alpha1.ReleaseDraft
	cases := map[string]struct {
		releases []governorv1alpha1.Release
		live     string
		phases   map[string]governorv1alpha1.ReleasePhase
	}{
		"none": {nil, "", map[string]governorv1alpha1.ReleasePhase{}},
		"drafts only": {
			[]governorv1alpha1.Release{rel("a", "1.0.0", draft, 1)}, "",
			map[string]governorv1alpha1.ReleasePhase{"a": "Draft"},
		},
		"semantic, not string, order": {
			[]governorv1alpha1.Release{rel("a", "1.9.0", pub, 1), rel("b", "1.10.0", pub, 2), rel("c", "1.2.0", pub, 3)}, "b",
			map[string]governorv1alpha1.ReleasePhase{"a": "Superseded", "b": "Live", "c": "Superseded"},
		},
		"a higher draft does not go live": {
			[]governorv1alpha1.Release{rel("a", "1.0.0", pub, 1), rel("b", "2.0.0", draft, 2)}, "a",
			map[string]governorv1alpha1.ReleasePhase{"a": "Live", "b": "Draft"},
		},
		"prerelease below its release": {
			[]governorv1alpha1.Release{rel("a", "2.0.0-rc.1", pub, 1), rel("b", "2.0.0", pub, 2)}, "b",
			map[string]governorv1alpha1.ReleasePhase{"a": "Superseded", "b": "Live"},
		},
		"a repeated version fails, the older keeps it": {
			[]governorv1alpha1.Release{rel("late", "1.0.0", pub, 5), rel("early", "1.0.0", pub, 1), rel("later", "v1.0.0", pub, 9)}, "early",
			map[string]governorv1alpha1.ReleasePhase{"early": "Live", "late": "Failed", "later": "Failed"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			order := orderReleases(tc.releases)
			live := ""
			if order.live != nil {
				live = order.live.Name
			}
			if live != tc.live {
				t.Errorf("live = %q, want %q", live, tc.live)
			}
			for n, want := range tc.phases {
				if got := order.phases[n]; got != want {
					t.Errorf("phase of %s = %q, want %q", n, got, want)
				}
			}
			if len(order.phases) != len(tc.phases) {
				t.Errorf("phases = %v, want %v", order.phases, tc.phases)
			}
		})
	}
	dup := orderReleases(cases["a repeated version fails, the older keeps it"].releases)
	if dup.duplicateOf["later"] != "early" || dup.duplicateOf["late"] != "early" {
		t.Errorf("duplicates should name the release that has the version: %v", dup.duplicateOf)
	}
}

func TestLiveReleasesPerApp(t *testing.T) {
	a := rel("a", "1.0.0", governorv1alpha1.ReleasePublished, 1)
	b := rel("b", "0.1.0", governorv1alpha1.ReleaseDraft, 1)
	b.Spec.App = "ledger"
	// The app's live versions per environment come from the live release's
	// observation; a draft's observation serves when nothing is live.
	a.Status.Environments = []governorv1alpha1.ReleaseEnvironmentStatus{{Name: "production", LiveVersion: "1.0.0"}}
	b.Status.Environments = []governorv1alpha1.ReleaseEnvironmentStatus{{Name: "development", Message: "app ledger is not in this instance"}}
	c := rel("c", "0.9.0", governorv1alpha1.ReleasePublished, 1)
	c.Status.Environments = []governorv1alpha1.ReleaseEnvironmentStatus{{Name: "production", LiveVersion: "0.9.0"}} // older observation
	got := liveReleases([]governorv1alpha1.Release{c, a, b})
	want := []governorv1alpha1.AppReleaseStatus{
		{App: "ledger", Environments: b.Status.Environments},
		{App: "payouts", Live: "1.0.0", Environments: a.Status.Environments},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("liveReleases = %+v, want %+v", got, want)
	}
	if liveReleases(nil) != nil {
		t.Error("no releases: status.releases stays unset")
	}
}

func TestSetConditions(t *testing.T) {
	var conds []metav1.Condition
	setConditions(&conds, 3, stalled("GroupNotFound", "spec.group: no group %q", "x"))
	if len(conds) != 2 || conds[0].Type != "Ready" || conds[0].Status != "False" || conds[1].Type != "Stalled" || conds[1].ObservedGeneration != 3 {
		t.Fatalf("stalled conditions = %+v", conds)
	}
	setConditions(&conds, 4, reconciling("Compiling", "compiling"))
	if len(conds) != 2 || conds[1].Type != "Reconciling" {
		t.Fatalf("reconciling conditions = %+v", conds)
	}
	setConditions(&conds, 4, ready("Compiled", "ok"))
	if len(conds) != 1 || conds[0].Status != "True" || conds[0].ObservedGeneration != 4 {
		t.Fatalf("ready conditions = %+v (abnormal-true conditions are removed when false)", conds)
	}
	before := conds[0].LastTransitionTime
	setConditions(&conds, 4, ready("Compiled", "ok"))
	if conds[0].LastTransitionTime != before {
		t.Error("an unchanged outcome must not move the transition time")
	}
}

func TestClassify(t *testing.T) {
	if o, requeue := classify(stall("X", "m")); o.state != stateStalled || requeue {
		t.Errorf("stalled: %+v %v", o, requeue)
	}
	if o, requeue := classify(wait("Y", "m")); o.state != stateReconciling || requeue {
		t.Errorf("waiting: %+v %v", o, requeue)
	}
	if o, requeue := classify(errTransient); o.state != stateReconciling || !requeue {
		t.Errorf("transient: %+v %v", o, requeue)
	}
}

var errTransient = &transientTestError{}

type transientTestError struct{}

func (*transientTestError) Error() string { return "connection refused" }

// The Space's own compile problems stall it, each naming its field.
func TestSpaceProblems(t *testing.T) {
	in := access.SpaceInput{Name: "shop",
		Environments: []access.Environment{{Name: "prod"}, {Name: "prod"}},
		SSO:          access.SSO{RoleMappings: []access.RoleMapping{{IdPGroup: "sellers", Group: "missing"}}},
		Groups:       []access.Group{{Name: "team"}},
		Rules:        []access.Rule{{Name: "r", Group: "gone", Level: access.Use, Targets: []access.RuleTarget{{Kind: access.App, Name: "a"}}}},
	}
	snap, problems := access.Compile(in)
	m := &Model{Space: "shop", Snapshot: snap, Problems: map[ObjectRef][]access.Problem{}}
	for _, p := range problems {
		ref := ObjectRef{Kind: p.Object.Kind, Name: p.Object.Name}
		m.Problems[ref] = append(m.Problems[ref], p)
	}
	err := spaceProblems(m, "shop")
	var stalled *stalledError
	if !errors.As(err, &stalled) {
		t.Fatalf("want a stalling error, got %v", err)
	}
	for _, field := range []string{"spec.environments[1].name", "spec.sso.roleMappings[0].group"} {
		if !strings.Contains(stalled.message, field) {
			t.Errorf("the message names %s: %s", field, stalled.message)
		}
	}
	if strings.Contains(stalled.message, "spec.group") {
		t.Errorf("a rule's problem is the rule's, not the Space's: %s", stalled.message)
	}
	out, _ := classify(err)
	var conds []metav1.Condition
	setConditions(&conds, 1, out)
	if c := meta.FindStatusCondition(conds, governorv1alpha1.ConditionReady); c == nil || c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, "spec.sso.roleMappings[0].group") {
		t.Fatalf("Ready: %+v", c)
	}
	if !meta.IsStatusConditionTrue(conds, governorv1alpha1.ConditionStalled) {
		t.Fatalf("Stalled: %+v", conds)
	}
	delete(m.Problems, ObjectRef{Kind: "Space", Name: "shop"})
	if err := spaceProblems(m, "shop"); err != nil {
		t.Fatalf("no Space problems, no error: %v", err)
	}
}

package spacemodel

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/access"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func at(d time.Duration) metav1.Time { return metav1.NewTime(t0.Add(d)) }

func tenancyObjects() *Objects {
	admin := func(name string, created metav1.Time, email string) governorv1alpha1.PermissionGroup {
		return governorv1alpha1.PermissionGroup{
			ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: name, CreationTimestamp: created},
			Spec:       governorv1alpha1.PermissionGroupSpec{Builtin: governorv1alpha1.BuiltinAdmin, Members: []governorv1alpha1.Member{{Email: email}}},
		}
	}
	return &Objects{
		Spaces: []governorv1alpha1.Space{{ObjectMeta: metav1.ObjectMeta{Name: "team", CreationTimestamp: at(time.Hour)}}},
		Groups: []governorv1alpha1.PermissionGroup{
			admin("a-planted", at(0), "mallory@example.com"), // before the Space
			admin("z-admins", at(2*time.Hour), "alice@example.com"),
		},
		Rules: []governorv1alpha1.AccessRule{{
			ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "planted-rule", CreationTimestamp: at(0)},
			Spec: governorv1alpha1.AccessRuleSpec{Group: "z-admins", Level: governorv1alpha1.LevelUse,
				Targets: []governorv1alpha1.Target{{Kind: governorv1alpha1.TargetApp, Name: "a"}}},
		}},
	}
}

func isAdmin(t *testing.T, snap *access.Snapshot, user string) bool {
	t.Helper()
	d, err := snap.Check(access.Request{User: user, Action: "manage-settings", Target: access.Target{Type: access.TargetSpace}})
	if err != nil {
		t.Fatal(err)
	}
	return d.Allowed
}

// Objects created before the Space are left out, each saying why, unless
// the Space sets spec.adoptExistingObjects.
func TestObjectsOlderThanTheSpaceAreNotTrusted(t *testing.T) {
	objs := tenancyObjects()
	l, err := Load(context.Background(), objs, "team")
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Groups) != 2 || len(l.Rules) != 1 {
		t.Fatalf("Groups and Rules keep every live object: %d, %d", len(l.Groups), len(l.Rules))
	}
	snap, problems := l.Compile()
	var untrusted []string
	for _, p := range problems {
		if p.Reason == ReasonCreatedBeforeSpace {
			if p.Field != "metadata.creationTimestamp" || !strings.Contains(p.Message, "spec.adoptExistingObjects") {
				t.Errorf("problem %v", p)
			}
			untrusted = append(untrusted, p.Object.Kind+"/"+p.Object.Name)
		}
	}
	if strings.Join(untrusted, ",") != "AccessRule/planted-rule,PermissionGroup/a-planted" {
		t.Fatalf("untrusted %v (problems %v)", untrusted, problems)
	}
	if isAdmin(t, snap, "mallory@example.com") || !isAdmin(t, snap, "alice@example.com") {
		t.Error("the planted Admin group must not count; the Space's own must")
	}
	if st := snap.Stats(); st.Rules != 0 || st.Groups != 1 {
		t.Errorf("stats %+v: only z-admins", st)
	}

	objs.Spaces[0].Spec.AdoptExistingObjects = true
	l, err = Load(context.Background(), objs, "team")
	if err != nil {
		t.Fatal(err)
	}
	snap, problems = l.Compile()
	// Trusted, the older group holds the builtin (creation time, not name).
	for _, p := range problems {
		if p.Reason == ReasonCreatedBeforeSpace {
			t.Errorf("adopted, nothing is untrusted: %v", p)
		}
	}
	if !isAdmin(t, snap, "mallory@example.com") || isAdmin(t, snap, "alice@example.com") {
		t.Errorf("adopted objects are trusted, and the older a-planted holds Admin: %v", problems)
	}
}

// The builtin clash goes to the older group whatever the names.
func TestBuiltinClashByCreationTime(t *testing.T) {
	objs := tenancyObjects()
	objs.Groups[0].Name, objs.Groups[0].CreationTimestamp = "a-newer", at(3*time.Hour)
	l, err := Load(context.Background(), objs, "team")
	if err != nil {
		t.Fatal(err)
	}
	snap, problems := l.Compile()
	if !isAdmin(t, snap, "alice@example.com") || isAdmin(t, snap, "mallory@example.com") {
		t.Errorf("z-admins is older and holds Admin: problems %v", problems)
	}
}

// A Space whose status says it does not own its namespace is refused.
func TestLoadRefusesASpaceThatDoesNotOwnItsNamespace(t *testing.T) {
	objs := tenancyObjects()
	objs.Spaces[0].Status.Conditions = []metav1.Condition{{Type: governorv1alpha1.ConditionNamespaceOwned, Status: metav1.ConditionFalse,
		Reason: "NamespaceConflict", Message: `spec.namespace: namespace team is already governed by Space "other"`}}
	_, err := Load(context.Background(), objs, "team")
	var no *NotOwnedError
	if !errors.As(err, &no) || no.Reason != "NamespaceConflict" || !strings.Contains(err.Error(), "does not own namespace team") {
		t.Fatalf("Load: %v, want a NotOwnedError", err)
	}
	objs.Spaces[0].Status.Conditions[0].Status = metav1.ConditionTrue
	if _, err := Load(context.Background(), objs, "team"); err != nil {
		t.Fatal(err)
	}
}

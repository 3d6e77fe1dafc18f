package spacemodel

import (
	"context"
	"testing"
	"time"

	"github.com/governor-dev/governor/internal/access"
)

// Expiries in manifests reach the engine: a member and a rule are in the
// model before their instant and out of it from then on.
func TestExpiresReachesTheEngine(t *testing.T) {
	manifests := `apiVersion: governor.dev/v1alpha1
kind: Space
metadata: {name: shop}
---
apiVersion: governor.dev/v1alpha1
kind: PermissionGroup
metadata: {name: sellers}
spec:
  members:
  - {email: sam@example.com}
  - {email: tia@example.com, expires: "2026-12-11T17:00:00Z"}
---
apiVersion: governor.dev/v1alpha1
kind: AccessRule
metadata: {name: sellers-catalog}
spec: {group: sellers, level: Edit, targets: [{kind: App, name: catalog}], expires: "2026-12-20T00:00:00+01:00"}
`
	objs, err := Parse("shop.yaml", []byte(manifests))
	if err != nil {
		t.Fatal(err)
	}
	l, err := Load(context.Background(), objs, "shop")
	if err != nil {
		t.Fatal(err)
	}
	ruleEnds := time.Date(2026, 12, 19, 23, 0, 0, 0, time.UTC)
	if got := l.Input.Rules[0].Expires; !got.Equal(ruleEnds) {
		t.Fatalf("rule expires %v, want %v", got, ruleEnds)
	}
	edit := func(at time.Time, user string) bool {
		l.Input.At = at
		snap, problems := l.Compile()
		if len(problems) > 0 {
			t.Fatal(problems)
		}
		tg, _ := access.ParseTarget("app/catalog")
		d, err := snap.Check(access.Request{User: user, Action: "edit", Target: tg})
		if err != nil {
			t.Fatal(err)
		}
		return d.Allowed
	}
	tiaEnds := time.Date(2026, 12, 11, 17, 0, 0, 0, time.UTC)
	if !edit(tiaEnds.Add(-time.Second), "tia@example.com") || edit(tiaEnds, "tia@example.com") {
		t.Error("tia edits the catalog until 2026-12-11T17:00:00Z and not from then on")
	}
	if !edit(ruleEnds.Add(-time.Second), "sam@example.com") || edit(ruleEnds, "sam@example.com") {
		t.Error("sam edits the catalog until the rule ends and not from then on")
	}
}

package spacemodel

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/governor-dev/governor/internal/access"
)

func TestLoadSamplesAndCompile(t *testing.T) {
	objs, err := LoadManifests(filepath.Join("..", "..", "config", "samples"))
	if err != nil {
		t.Fatal(err)
	}
	if len(objs.Spaces) != 2 || len(objs.Groups) != 7 || len(objs.Rules) != 5 || len(objs.Releases) != 3 {
		t.Fatalf("loaded %d spaces, %d groups, %d rules, %d releases", len(objs.Spaces), len(objs.Groups), len(objs.Rules), len(objs.Releases))
	}
	l, err := Load(context.Background(), objs, "payments")
	if err != nil {
		t.Fatal(err)
	}
	space := l.Effective
	if space.Spec.SourceControl == nil || space.Spec.SourceControl.Repository == "" || l.Inherited == nil || l.Inherited.SourceControl == nil {
		t.Error("payments inherits source control from hub")
	}
	if space.Spec.SSO.JIT == nil || space.Spec.SSO.JIT.Enabled {
		t.Error("payments keeps its own sso (JIT off)")
	}
	snap, problems := l.Compile()
	if len(problems) > 0 {
		t.Fatalf("the samples compile without problems: %v", problems)
	}
	tg, _ := access.ParseTarget("resource/ledger-db")
	d, err := snap.Check(access.Request{User: "frank@example.com", Action: "use", Target: tg, Environment: "production"})
	if err != nil || d.Allowed || d.Source.Environment != "production" {
		t.Errorf("oncall-ledger-db sets None in production: %+v %v", d, err)
	}
	var nf *NotFoundError
	if _, err := Load(context.Background(), objs, "nope"); !errors.As(err, &nf) || nf.Name != "nope" {
		t.Errorf("a missing Space is a NotFoundError: %v", err)
	}
	if got := strings.Join(objs.SpaceNames(), ", "); got != "hub, payments" {
		t.Errorf("SpaceNames: %s", got)
	}
}

func TestBadManifestsNameFileAndDocument(t *testing.T) {
	dir := t.TempDir()
	bad := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: skipped}\n---\napiVersion: governor.dev/v1alpha1\nkind: AccessRule\nmetadata: {name: r}\nspec: {group: g, level: Use, targets: [{kind: App, name: a}], colour: red}\n"
	path := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadManifests(dir)
	if err == nil || !strings.Contains(err.Error(), "rules.yaml: document 2 (AccessRule)") || !strings.Contains(err.Error(), "colour") {
		t.Fatalf("want an error naming the file, document and field, got %v", err)
	}
}

// FuzzParse: no input makes manifest parsing panic.
func FuzzParse(f *testing.F) {
	samples, _ := filepath.Glob(filepath.Join("..", "..", "config", "samples", "*.yaml"))
	for _, s := range samples {
		data, _ := os.ReadFile(s)
		f.Add(data)
	}
	f.Add([]byte("---\n---\n"))
	f.Add([]byte("apiVersion: governor.dev/v1alpha1\nkind: Space\nmetadata: [1, 2]\n"))
	f.Add([]byte("\xff\xfe"))
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, err := Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		for _, name := range objs.SpaceNames() {
			if l, err := Load(context.Background(), objs, name); err == nil {
				l.Compile()
			}
		}
	})
}

// A team's repository often leaves metadata.namespace to `kubectl apply -n`
// or to its Argo CD Application: such groups and rules are the Space's.
func TestObjectsWithoutNamespaceBelongToTheSpace(t *testing.T) {
	manifests := `apiVersion: governor.dev/v1alpha1
kind: Space
metadata: {name: shop}
spec: {namespace: shop-team}
---
apiVersion: governor.dev/v1alpha1
kind: PermissionGroup
metadata: {name: sellers}
spec: {members: [{email: sam@example.com}]}
---
apiVersion: governor.dev/v1alpha1
kind: PermissionGroup
metadata: {name: elsewhere, namespace: other}
spec: {members: [{email: sam@example.com}]}
---
apiVersion: governor.dev/v1alpha1
kind: AccessRule
metadata: {name: sellers-catalog}
spec: {group: sellers, level: Edit, targets: [{kind: App, name: catalog}]}
`
	objs, err := Parse("shop.yaml", []byte(manifests))
	if err != nil {
		t.Fatal(err)
	}
	l, err := Load(context.Background(), objs, "shop")
	if err != nil {
		t.Fatal(err)
	}
	groups, rules := l.Groups, l.Rules
	if len(groups) != 1 || groups[0].Name != "sellers" || groups[0].Namespace != "shop-team" || len(rules) != 1 || rules[0].Namespace != "shop-team" {
		t.Fatalf("want sellers and its rule in shop-team, and not the group of namespace other: %v %v", groups, rules)
	}
	snap, problems := l.Compile()
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	tg, _ := access.ParseTarget("app/catalog")
	if d, err := snap.Check(access.Request{User: "sam@example.com", Action: "edit", Target: tg}); err != nil || !d.Allowed {
		t.Errorf("sam edits the catalog through sellers: %+v %v", d, err)
	}
}

// One rule for inheritance, whatever the reader: a Space inheriting from
// itself or from a missing Space compiles with its own settings and the
// loader names spec.inheritFrom; the namespace is spec.namespace, else the
// Space's name.
func TestLoadInheritanceAndNamespace(t *testing.T) {
	manifests := `apiVersion: governor.dev/v1alpha1
kind: Space
metadata: {name: loop}
spec: {inheritFrom: loop}
---
apiVersion: governor.dev/v1alpha1
kind: Space
metadata: {name: orphan}
spec: {inheritFrom: gone, namespace: orphans}
---
apiVersion: governor.dev/v1alpha1
kind: PermissionGroup
metadata: {name: in-loop, namespace: loop}
spec: {members: [{email: a@example.com}]}
---
apiVersion: governor.dev/v1alpha1
kind: PermissionGroup
metadata: {name: in-orphans, namespace: orphans}
spec: {members: [{email: b@example.com}]}
`
	objs, err := Parse("spaces.yaml", []byte(manifests))
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		namespace, group, reason string
	}{
		"loop":   {"loop", "in-loop", ReasonInheritLoop},
		"orphan": {"orphans", "in-orphans", ReasonInheritSourceNotFound},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			l, err := Load(context.Background(), objs, name)
			if err != nil {
				t.Fatal(err)
			}
			if l.Namespace != tc.namespace || len(l.Groups) != 1 || l.Groups[0].Name != tc.group {
				t.Fatalf("namespace %s, groups %v", l.Namespace, l.Groups)
			}
			if l.Source != nil || l.Inherited != nil || l.Effective != l.Space {
				t.Fatalf("nothing is inherited: %+v", l)
			}
			_, problems := l.Compile()
			if len(problems) != 1 || problems[0].Object != (access.ObjectRef{Kind: "Space", Name: name}) ||
				problems[0].Field != "spec.inheritFrom" || problems[0].Reason != tc.reason {
				t.Fatalf("problems: %v", problems)
			}
		})
	}
}

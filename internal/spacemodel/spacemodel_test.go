package spacemodel

import (
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
	if len(objs.Spaces) != 2 || len(objs.Groups) != 6 || len(objs.Rules) != 5 || len(objs.Releases) != 2 {
		t.Fatalf("loaded %d spaces, %d groups, %d rules, %d releases", len(objs.Spaces), len(objs.Groups), len(objs.Rules), len(objs.Releases))
	}
	space, groups, rules, err := objs.Space("payments")
	if err != nil {
		t.Fatal(err)
	}
	if space.Spec.SourceControl == nil || space.Spec.SourceControl.Repository == "" {
		t.Error("payments inherits source control from hub")
	}
	if space.Spec.SSO.JIT == nil || space.Spec.SSO.JIT.Enabled {
		t.Error("payments keeps its own sso (JIT off)")
	}
	snap, problems := access.Compile(Input(space, groups, rules))
	if len(problems) > 0 {
		t.Fatalf("the samples compile without problems: %v", problems)
	}
	tg, _ := access.ParseTarget("resource/ledger-db")
	d, err := snap.Check(access.Request{User: "frank@example.com", Action: "use", Target: tg, Environment: "production"})
	if err != nil || d.Allowed || d.Source.Environment != "production" {
		t.Errorf("oncall-ledger-db sets None in production: %+v %v", d, err)
	}
	if _, _, _, err := objs.Space("nope"); err == nil || !strings.Contains(err.Error(), "hub, payments") {
		t.Errorf("a missing Space names the ones found: %v", err)
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
		for _, s := range objs.Spaces {
			space, groups, rules, err := objs.Space(s.Name)
			if err == nil {
				access.Compile(Input(space, groups, rules))
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
	space, groups, rules, err := objs.Space("shop")
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 1 || groups[0].Name != "sellers" || groups[0].Namespace != "shop-team" || len(rules) != 1 || rules[0].Namespace != "shop-team" {
		t.Fatalf("want sellers and its rule in shop-team, and not the group of namespace other: %v %v", groups, rules)
	}
	snap, problems := access.Compile(Input(space, groups, rules))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	tg, _ := access.ParseTarget("app/catalog")
	if d, err := snap.Check(access.Request{User: "sam@example.com", Action: "edit", Target: tg}); err != nil || !d.Allowed {
		t.Errorf("sam edits the catalog through sellers: %+v %v", d, err)
	}
}

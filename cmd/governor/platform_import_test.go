package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/platform"
	"github.com/governor-dev/governor/internal/platform/emulator"
	"github.com/governor-dev/governor/internal/platform/importer"
	"github.com/governor-dev/governor/internal/platform/retool"
	"github.com/governor-dev/governor/internal/platform/syncer"
	"github.com/governor-dev/governor/internal/spacemodel"
	"github.com/governor-dev/governor/internal/testenv"
)

// TestImportCommandAgainstACluster runs `governor platform import` as the
// adoption walkthrough does, against a real API server and the development
// and production instances that `governor dev --populate` filled (it stores
// the Space's tokens in Governor's namespace, once): every object printed is accepted by the CRDs
// (schemas and CEL), and once they are created the Space's model plans
// only the calls the import announced, after which `governor platform
// verify` reports the one difference the import marked.
func TestImportCommandAgainstACluster(t *testing.T) {
	env, err := testenv.Start(testenv.Options{})
	if err != nil {
		t.Fatalf("the control plane (KUBEBUILDER_ASSETS=$(hack/build-control-plane.sh)): %v", err)
	}
	defer func() { _ = env.Stop() }()
	ctx := context.Background()
	c := env.Client
	kubeconfig, err := env.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, kubeconfig, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{"governor-system", adoptionSpace} {
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
	}
	space := &governorv1alpha1.Space{ObjectMeta: metav1.ObjectMeta{Name: adoptionSpace},
		Spec: governorv1alpha1.SpaceSpec{DisplayName: adoptionDisplayName, Namespace: adoptionSpace}}
	clients := map[string]*retool.Client{}
	var instances []devInstance
	for _, name := range []string{"development", "staging", "production"} {
		srv := emulator.New(emulator.Options{Domain: devDomain("hub", name), RequestsPerMinute: -1})
		ts := httptest.NewServer(srv)
		defer ts.Close()
		instances = append(instances, devInstance{env: name, addr: ts.Listener.Addr().String(), server: srv})
	}
	// governor dev --populate, twice: the second run finds the Spaces and
	// leaves them as they are.
	var populated bytes.Buffer
	for run := 0; run < 2; run++ {
		populated.Reset()
		if err := populateAdoption(ctx, c, instances, &populated); err != nil {
			t.Fatal(err)
		}
		if got := strings.Count(populated.String(), "Populated the"); got != 2*(1-run) {
			t.Errorf("run %d populated %d instances: %s", run+1, got, populated.String())
		}
	}
	for _, inst := range instances {
		domain := devDomain(adoptionSpace, inst.env)
		readOnly, adopted := adoptionEnvironments[inst.env]
		sp := inst.server.Space(domain)
		if !adopted {
			if sp != nil {
				t.Errorf("the %s instance holds the Space %s", inst.env, adoptionSpace)
			}
			continue
		}
		secret := "retool-" + inst.env + "-" + adoptionSpace
		url := "http://" + inst.addr
		space.Spec.Environments = append(space.Spec.Environments, governorv1alpha1.Environment{Name: inst.env, ReadOnly: readOnly,
			Instance: &governorv1alpha1.Instance{URL: url, Domain: domain, TokenSecretRef: governorv1alpha1.SecretKeyReference{Name: secret}}})
		var err error
		if clients[inst.env], err = retool.New(retool.Options{URL: url, Domain: domain, Token: sp.Token(), RequestsPerMinute: -1}); err != nil {
			t.Fatal(err)
		}
		if groups, _ := clients[inst.env].ListGroups(ctx); len(groups) != 7 {
			t.Errorf("%s: %d groups after populating twice", inst.env, len(groups))
		}
	}
	if err := c.Create(ctx, space); err != nil {
		t.Fatal(err)
	}

	cmd := newImportCommand()
	var stdout, stderr bytes.Buffer
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	cmd.SetArgs([]string{"--kubeconfig", path, "--space", adoptionSpace, "--env", "development", "--env", "production", "--platform-requests-per-minute", "-1"})
	if err := cmd.ExecuteContext(ctx); err != nil {
		t.Fatalf("import: %v\n%s", err, stderr.String())
	}
	out := stdout.String()
	if !strings.HasPrefix(out, "# Imported by `governor platform import --space ops --env development --env production`.\n") {
		t.Errorf("the header: %.300s", out)
	}
	// Every active user is in a group: the Space needs no JIT, and says nothing.
	if !strings.Contains(stderr.String(), "reading the production instance") || strings.Contains(stderr.String(), "warning:") {
		t.Errorf("progress and warnings: %s", stderr.String())
	}
	var created int
	for _, doc := range strings.Split(out, "\n---\n") {
		obj := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &obj.Object); err != nil {
			t.Fatal(err)
		}
		if len(obj.Object) == 0 {
			continue // the header alone
		}
		if err := c.Create(ctx, obj); err != nil {
			t.Fatalf("the API server refuses %s %s: %v", obj.GetKind(), obj.GetName(), err)
		}
		created++
	}
	if created != 12 {
		t.Errorf("%d objects created, want 7 groups and 5 rules", created)
	}

	loaded, err := spacemodel.Load(ctx, c, adoptionSpace)
	if err != nil {
		t.Fatal(err)
	}
	snap, problems := loaded.Compile()
	if len(problems) > 0 {
		t.Fatalf("the imported objects do not compile: %v", problems)
	}
	for _, e := range space.Spec.Environments {
		res := syncer.Pass(ctx, clients[e.Name], syncer.Input{Model: snap, Environment: platform.Environment{Name: e.Name, ReadOnly: e.ReadOnly},
			Mode: platform.Additive, GrantReads: -1, Apply: true})
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		if len(res.Plan.Ops) != 1 || res.Plan.Ops[0].InheritedFrom != "finance" {
			t.Errorf("%s: the first sync: %+v", e.Name, res.Plan.Ops)
		}
		f := verifyFlags{planFlags: planFlags{space: adoptionSpace, env: e.Name, kubeconfig: path, namespace: "governor-system", requestsPerMinute: -1}}
		v, err := verify(ctx, f, &stderr)
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Differences) != 1 || v.Differences[0].User != "quinn@example.com" {
			t.Errorf("%s: verify: %+v", e.Name, v.Differences)
		}
	}
}

func TestImportFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--space", "ops", "--env", "dev", "-o", "json"}, "-o json: the only output is yaml"},
		{[]string{"--space", "ops"}, `required flag(s) "env" not set`},
	} {
		cmd := newImportCommand()
		cmd.SetArgs(c.args)
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		if err := cmd.ExecuteContext(context.Background()); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.args, err, c.want)
		}
	}
	t.Setenv("HOME", t.TempDir())
	t.Setenv("KUBECONFIG", "")
	_, _, err := importSpace(context.Background(), importFlags{planFlags: planFlags{space: "ops"}, envs: []string{"dev", "dev"}}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "--env dev: given twice") {
		t.Errorf("an environment twice: %v", err)
	}
}

func TestImportWarnings(t *testing.T) {
	res := importer.Result{
		Groups:     []governorv1alpha1.PermissionGroup{{ObjectMeta: metav1.ObjectMeta{Name: "support"}}, {ObjectMeta: metav1.ObjectMeta{Name: "all-users"}}},
		Rules:      []governorv1alpha1.AccessRule{{ObjectMeta: metav1.ObjectMeta{Name: "support-use"}}},
		JITDomains: []string{"example.com", "example.org"},
	}
	space := &governorv1alpha1.Space{Spec: governorv1alpha1.SpaceSpec{SSO: &governorv1alpha1.SSO{JIT: &governorv1alpha1.JIT{Enabled: true, AllowedDomains: []string{"example.com"}}}}}
	groups := []governorv1alpha1.PermissionGroup{
		{ObjectMeta: metav1.ObjectMeta{Name: "all-users", Labels: map[string]string{governorv1alpha1.LabelManagedBy: governorv1alpha1.ManagedByGovernor}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "support"}},
		{ObjectMeta: metav1.ObjectMeta{Name: "legacy"}},
	}
	got := strings.Join(importWarnings(res, space, groups, nil), "\n")
	for _, want := range []string{
		"declares PermissionGroup/support already: applying the import replaces their spec",
		"also declares PermissionGroup/legacy, which the import does not hold",
		"users of example.org are in no group but All Users",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("warnings lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "all-users") || strings.Contains(got, "example.com,") {
		t.Errorf("warnings: %s", got)
	}
}

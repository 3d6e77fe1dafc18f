package charts_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestLint(t *testing.T) {
	requireHelm(t)
	for _, c := range []chart{operatorChart, instancesChart} {
		t.Run(c.name, func(t *testing.T) {
			out, err := helm(t, "lint", "--strict", c.dir())
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out, "0 chart(s) failed") {
				t.Fatalf("helm lint:\n%s", out)
			}
			// Every values file of ci/ lints too.
			files, _ := filepath.Glob(c.valuesFile("*.yaml"))
			for _, f := range files {
				if _, err := helm(t, "lint", "--strict", c.dir(), "--values", f); err != nil {
					t.Errorf("%s: %v", filepath.Base(f), err)
				}
			}
		})
	}
}

// goldenCases are the renders kept in testdata/: defaults and the values
// files of each chart's ci/ directory.
var goldenCases = []struct {
	golden string
	chart  chart
	values []string
}{
	{"governor-default.yaml", operatorChart, nil},
	{"governor-production.yaml", operatorChart, []string{"production-values.yaml"}},
	{"governor-minimal.yaml", operatorChart, []string{"minimal-values.yaml"}},
	{"instances-default.yaml", instancesChart, nil},
	{"instances-production.yaml", instancesChart, []string{"production-values.yaml"}},
	{"instances-single-instance.yaml", instancesChart, []string{"single-instance-values.yaml"}},
}

func valuesPaths(c chart, names []string) []string {
	var out []string
	for _, n := range names {
		out = append(out, c.valuesFile(n))
	}
	return out
}

// withoutCRDs drops the CRDs from a render: they are generated from the API
// types and checked by TestChartRendersGeneratedCRDs, so an API change does
// not need new goldens.
func withoutCRDs(rendered string) string {
	docs := strings.Split(rendered, "\n---\n")
	kept := docs[:0]
	for _, d := range docs {
		if !strings.Contains(d, "# Source: governor/templates/crds.yaml") {
			kept = append(kept, d)
		}
	}
	return strings.Join(kept, "\n---\n")
}

// TestGolden compares `helm template` with the renders in testdata/;
// -update rewrites them.
func TestGolden(t *testing.T) {
	requireHelm(t)
	for _, gc := range goldenCases {
		t.Run(strings.TrimSuffix(gc.golden, ".yaml"), func(t *testing.T) {
			got := withoutCRDs(mustTemplate(t, gc.chart, valuesPaths(gc.chart, gc.values)))
			path := filepath.Join("testdata", gc.golden)
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("helm template differs from %s (-want +got); if intended, rerun with -update:\n%s", path, diff)
			}
		})
	}
}

// env returns a container's plain environment (name -> value) and the names
// of the variables taken from Secrets (name -> "secret/key").
func env(t *testing.T, deploy *unstructured.Unstructured) (plain, secret map[string]string) {
	t.Helper()
	containers, _, _ := unstructured.NestedSlice(deploy.Object, "spec", "template", "spec", "containers")
	if len(containers) != 1 {
		t.Fatalf("%s: want one container, got %d", deploy.GetName(), len(containers))
	}
	plain, secret = map[string]string{}, map[string]string{}
	vars, _, _ := unstructured.NestedSlice(containers[0].(map[string]any), "env")
	for _, v := range vars {
		v := v.(map[string]any)
		name := v["name"].(string)
		if ref, ok, _ := unstructured.NestedMap(v, "valueFrom", "secretKeyRef"); ok {
			secret[name] = ref["name"].(string) + "/" + ref["key"].(string)
			continue
		}
		value, _ := v["value"].(string)
		plain[name] = value
	}
	return plain, secret
}

// TestInstancesDefaults checks what the defaults promise: a development,
// staging and production set, each with HPA and PDB, read-only wiring on
// staging and production only, secrets by reference.
func TestInstancesDefaults(t *testing.T) {
	requireHelm(t)
	objs := objects(t, mustTemplate(t, instancesChart, nil))
	want := map[string]struct {
		readOnly bool
		branch   string
	}{
		"development": {false, ""},
		"staging":     {true, "staging"},
		"production":  {true, "main"},
	}
	serviceTypes := map[string]string{
		"backend":           "MAIN_BACKEND,DB_CONNECTOR,DB_SSH_CONNECTOR",
		"jobs-runner":       "JOBS_RUNNER",
		"workflows-backend": "WORKFLOW_BACKEND,DB_CONNECTOR,DB_SSH_CONNECTOR",
		"workflows-worker":  "WORKFLOW_TEMPORAL_WORKER",
	}
	for envName, w := range want {
		prefix := "retool-" + envName + "-"
		for component, serviceType := range serviceTypes {
			d := find(t, objs, "Deployment", prefix+component)
			plain, secret := env(t, d)
			if plain["SERVICE_TYPE"] != serviceType {
				t.Errorf("%s: SERVICE_TYPE=%q, want %q", d.GetName(), plain["SERVICE_TYPE"], serviceType)
			}
			if got := plain["VERSION_CONTROL_LOCKED"]; (got == "true") != w.readOnly {
				t.Errorf("%s: VERSION_CONTROL_LOCKED=%q, read-only %v", d.GetName(), got, w.readOnly)
			}
			if got := plain["GITHUB_MAIN_BRANCH"]; got != w.branch {
				t.Errorf("%s: GITHUB_MAIN_BRANCH=%q, want %q", d.GetName(), got, w.branch)
			}
			for _, name := range []string{"POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD", "ENCRYPTION_KEY", "JWT_SECRET", "LICENSE_KEY"} {
				if _, ok := secret[name]; !ok {
					t.Errorf("%s: %s is not taken from a Secret", d.GetName(), name)
				}
			}
			if got := d.GetLabels()["governor.dev/environment"]; got != envName {
				t.Errorf("%s: governor.dev/environment=%q", d.GetName(), got)
			}
		}
		runner := find(t, objs, "Deployment", prefix+"jobs-runner")
		if r, _, _ := unstructured.NestedInt64(runner.Object, "spec", "replicas"); r != 1 {
			t.Errorf("%s: %d replicas, want exactly 1", runner.GetName(), r)
		}
		for _, component := range []string{"backend", "workflows-worker"} {
			hpa := find(t, objs, "HorizontalPodAutoscaler", prefix+component)
			if target, _, _ := unstructured.NestedString(hpa.Object, "spec", "scaleTargetRef", "name"); target != prefix+component {
				t.Errorf("%s: scales %q", hpa.GetName(), target)
			}
			d := find(t, objs, "Deployment", prefix+component)
			if _, ok, _ := unstructured.NestedFieldNoCopy(d.Object, "spec", "replicas"); ok {
				t.Errorf("%s: sets spec.replicas although its HPA owns them", d.GetName())
			}
			find(t, objs, "PodDisruptionBudget", prefix+component)
		}
		find(t, objs, "PodDisruptionBudget", prefix+"workflows-backend")
		find(t, objs, "Service", "retool-"+envName)
	}
	if n := len(byKind(objs, "Deployment")); n != 12 {
		t.Errorf("%d Deployments, want 12 (4 per environment)", n)
	}
	if n := len(byKind(objs, "Secret")); n != 0 {
		t.Errorf("the chart renders %d Secrets; secrets are referenced by name, never inlined", n)
	}
}

// TestInstancesOverrides checks the overridable variable names and the
// single-instance values.
func TestInstancesOverrides(t *testing.T) {
	requireHelm(t)
	objs := objects(t, mustTemplate(t, instancesChart, nil,
		"--set", "sourceControl.lockedVariable=SOURCE_CONTROL_LOCKED",
		"--set", "sourceControl.branchVariable=AZURE_REPOS_MAIN_BRANCH"))
	plain, _ := env(t, find(t, objs, "Deployment", "retool-staging-backend"))
	if plain["SOURCE_CONTROL_LOCKED"] != "true" || plain["AZURE_REPOS_MAIN_BRANCH"] != "staging" {
		t.Errorf("overridden variables not used: %v", plain)
	}
	if _, ok := plain["VERSION_CONTROL_LOCKED"]; ok {
		t.Errorf("VERSION_CONTROL_LOCKED still set after overriding its name")
	}

	objs = objects(t, mustTemplate(t, instancesChart, valuesPaths(instancesChart, []string{"single-instance-values.yaml"})))
	for _, o := range objs {
		if got := o.GetLabels()["governor.dev/environment"]; got != "production" {
			t.Errorf("%s %s: environment %q in a single-instance render", o.GetKind(), o.GetName(), got)
		}
	}
	d := find(t, objs, "Deployment", "retool-production-backend")
	if r, _, _ := unstructured.NestedInt64(d.Object, "spec", "replicas"); r != 2 {
		t.Errorf("single instance: backend replicas %d, want 2", r)
	}
}

// TestOperatorDeployment checks the operator's command line, probes and security context.
func TestOperatorDeployment(t *testing.T) {
	requireHelm(t)
	objs := objects(t, mustTemplate(t, operatorChart, nil))
	d := find(t, objs, "Deployment", "governor")
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	c := containers[0].(map[string]any)
	args, _, _ := unstructured.NestedStringSlice(c, "args")
	wantArgs := []string{"manager", "--leader-elect", "--metrics-bind-address=:8443", "--health-probe-bind-address=:8081"}
	if diff := cmp.Diff(wantArgs, args); diff != "" {
		t.Errorf("args (-want +got):\n%s", diff)
	}
	for probe, path := range map[string]string{"livenessProbe": "/healthz", "readinessProbe": "/readyz"} {
		if got, _, _ := unstructured.NestedString(c, probe, "httpGet", "path"); got != path {
			t.Errorf("%s path %q, want %q", probe, got, path)
		}
	}
	sc, _, _ := unstructured.NestedMap(c, "securityContext")
	for field, want := range map[string]any{"runAsNonRoot": true, "readOnlyRootFilesystem": true, "allowPrivilegeEscalation": false} {
		if sc[field] != want {
			t.Errorf("securityContext.%s = %v, want %v", field, sc[field], want)
		}
	}
	if drop, _, _ := unstructured.NestedStringSlice(sc, "capabilities", "drop"); !cmp.Equal(drop, []string{"ALL"}) {
		t.Errorf("capabilities.drop = %v", drop)
	}
	if seccomp, _, _ := unstructured.NestedString(sc, "seccompProfile", "type"); seccomp != "RuntimeDefault" {
		t.Errorf("seccompProfile %q", seccomp)
	}
	for _, crd := range byKind(objs, "CustomResourceDefinition") {
		if crd.GetAnnotations()["helm.sh/resource-policy"] != "keep" {
			t.Errorf("CRD %s is not kept on uninstall", crd.GetName())
		}
		if crd.GetAnnotations()["argocd.argoproj.io/sync-options"] != "Prune=false,Delete=false" {
			t.Errorf("CRD %s is not kept when Argo CD prunes or deletes the Application", crd.GetName())
		}
	}
	if n := len(byKind(objs, "CustomResourceDefinition")); n != 4 {
		t.Errorf("%d CRDs rendered, want 4", n)
	}
}

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
	{"instances-shared.yaml", instancesChart, []string{"shared-values.yaml"}},
}

// TestGoldenCoversEveryCIValuesFile: a values file added to a chart's ci/
// directory (which `helm lint` and CI install) gets a golden render too.
func TestGoldenCoversEveryCIValuesFile(t *testing.T) {
	for _, c := range []chart{operatorChart, instancesChart} {
		files, err := filepath.Glob(c.valuesFile("*.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			covered := false
			for _, gc := range goldenCases {
				if gc.chart.name == c.name && len(gc.values) == 1 && gc.values[0] == filepath.Base(f) {
					covered = true
				}
			}
			if !covered {
				t.Errorf("charts/%s/ci/%s has no golden render: add it to goldenCases", c.name, filepath.Base(f))
			}
		}
	}
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

// TestOperatorDeployment checks the operator's command line, probes and security context.
func TestOperatorDeployment(t *testing.T) {
	requireHelm(t)
	objs := objects(t, mustTemplate(t, operatorChart, nil))
	d := find(t, objs, "Deployment", "governor")
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	c := containers[0].(map[string]any)
	args, _, _ := unstructured.NestedStringSlice(c, "args")
	wantArgs := []string{"manager", "--leader-elect", "--metrics-bind-address=:8443", "--health-probe-bind-address=:8081",
		"--platform-requests-per-minute=45", "--platform-resync=10m", "--platform-pass-timeout=2m",
		"--max-groups-per-space=20000", "--max-rules-per-space=20000", "--max-members-per-space=500000"}
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

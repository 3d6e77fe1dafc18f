package charts_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// TestChartCRDsInSync fails when the operator chart's CRDs differ from the
// generated ones: run `make manifests` (hack/sync-chart-crds.sh).
func TestChartCRDsInSync(t *testing.T) {
	generated, _ := filepath.Glob(filepath.Join(root, "config", "crd", "bases", "governor.dev_*.yaml"))
	copies, _ := filepath.Glob(filepath.Join(root, "charts", "governor", "files", "crds", "*.yaml"))
	if len(generated) == 0 {
		t.Fatal("no CRDs in config/crd/bases: run `make manifests`")
	}
	names := func(paths []string) []string {
		var out []string
		for _, p := range paths {
			out = append(out, filepath.Base(p))
		}
		return out
	}
	if !slices.Equal(names(generated), names(copies)) {
		t.Fatalf("charts/governor/files/crds has %v, config/crd/bases has %v: run `make manifests` (hack/sync-chart-crds.sh)", names(copies), names(generated))
	}
	for _, g := range generated {
		want, _ := os.ReadFile(g)
		got, err := os.ReadFile(filepath.Join(root, "charts", "governor", "files", "crds", filepath.Base(g)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(want, got) {
			t.Errorf("charts/governor/files/crds/%s differs from config/crd/bases: run `make manifests` (hack/sync-chart-crds.sh)", filepath.Base(g))
		}
	}
}

// TestChartRendersGeneratedCRDs checks that the rendered CRDs are the
// generated ones plus the chart's labels and annotations only.
func TestChartRendersGeneratedCRDs(t *testing.T) {
	requireHelm(t)
	rendered := byKind(objects(t, mustTemplate(t, operatorChart, nil)), "CustomResourceDefinition")
	generated, _ := filepath.Glob(filepath.Join(root, "config", "crd", "bases", "governor.dev_*.yaml"))
	if len(rendered) != len(generated) {
		t.Fatalf("%d CRDs rendered, %d generated", len(rendered), len(generated))
	}
	for _, path := range generated {
		data, _ := os.ReadFile(path)
		var want map[string]any
		if err := yaml.Unmarshal(data, &want); err != nil {
			t.Fatal(err)
		}
		w := &unstructured.Unstructured{Object: want}
		got := find(t, rendered, "CustomResourceDefinition", w.GetName()).DeepCopy()
		got.SetLabels(nil)
		ann := got.GetAnnotations()
		delete(ann, "helm.sh/resource-policy")
		delete(ann, "argocd.argoproj.io/sync-options")
		got.SetAnnotations(ann)
		gotJSON, _ := got.MarshalJSON()
		wantJSON, _ := w.MarshalJSON()
		if !bytes.Equal(normalise(t, gotJSON), normalise(t, wantJSON)) {
			t.Errorf("rendered CRD %s differs from %s beyond labels and annotations", w.GetName(), filepath.Base(path))
		}
	}
}

func normalise(t *testing.T, j []byte) []byte {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(j, &v); err != nil {
		t.Fatal(err)
	}
	out, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The chart's admission policy is config/admission/group-admins.yaml, byte for byte.
func TestChartAdmissionPolicyInSync(t *testing.T) {
	want, err := os.ReadFile(filepath.Join(root, "config", "admission", "group-admins.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(root, "charts", "governor", "files", "admission", "group-admins.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("charts/governor/files/admission/group-admins.yaml differs from config/admission/group-admins.yaml; run `make manifests`")
	}
}

// TestChartRendersAdmissionPolicy: the rendered ValidatingAdmissionPolicy and
// its binding are config/admission/group-admins.yaml's (same kinds, names and
// spec; the chart adds labels only), and admissionPolicy.enabled=false
// renders neither.
func TestChartRendersAdmissionPolicy(t *testing.T) {
	requireHelm(t)
	data, err := os.ReadFile(filepath.Join(root, "config", "admission", "group-admins.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want := objects(t, string(data))
	if len(want) != 2 {
		t.Fatalf("config/admission/group-admins.yaml has %d objects, want the policy and its binding", len(want))
	}
	// The operator's own namespace policy (rbac.namespacePolicy) is another matter.
	groupAdmins := func(objs []*unstructured.Unstructured, kind string) int {
		n := 0
		for _, o := range byKind(objs, kind) {
			if o.GetName() == "governor-group-admins" {
				n++
			}
		}
		return n
	}
	rendered := objects(t, mustTemplate(t, operatorChart, nil))
	kinds := []string{"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"}
	for _, kind := range kinds {
		if n := groupAdmins(rendered, kind); n != 1 {
			t.Errorf("%d %s governor-group-admins rendered, want 1", n, kind)
		}
	}
	for _, w := range want {
		if !slices.Contains(kinds, w.GetKind()) {
			t.Errorf("config/admission/group-admins.yaml holds a %s", w.GetKind())
			continue
		}
		got := find(t, rendered, w.GetKind(), w.GetName())
		if got.GetAPIVersion() != w.GetAPIVersion() {
			t.Errorf("%s %s: apiVersion %s, the file says %s", w.GetKind(), w.GetName(), got.GetAPIVersion(), w.GetAPIVersion())
		}
		wantSpec, _ := json.Marshal(w.Object["spec"])
		gotSpec, _ := json.Marshal(got.Object["spec"])
		if !bytes.Equal(normalise(t, gotSpec), normalise(t, wantSpec)) {
			t.Errorf("%s %s: the rendered spec differs from config/admission/group-admins.yaml's:\nrendered:\n%s\nfile:\n%s",
				w.GetKind(), w.GetName(), normalise(t, gotSpec), normalise(t, wantSpec))
		}
		if got.GetLabels()["app.kubernetes.io/managed-by"] != "Helm" {
			t.Errorf("%s %s does not carry the chart's labels", w.GetKind(), w.GetName())
		}
	}
	off := objects(t, mustTemplate(t, operatorChart, nil, "--set", "admissionPolicy.enabled=false"))
	for _, kind := range kinds {
		if n := groupAdmins(off, kind); n != 0 {
			t.Errorf("admissionPolicy.enabled=false still renders %d %s", n, kind)
		}
	}
}

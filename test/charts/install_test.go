package charts_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

const fieldManager = "governor-chart-test"

func newClient(t *testing.T) client.Client {
	t.Helper()
	c, err := client.New(apiServer, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// apply server-side applies objects, CRDs first, and returns the kinds the
// server does not serve.
func apply(t *testing.T, c client.Client, objs []*unstructured.Unstructured) (unknown []string) {
	t.Helper()
	ctx := context.Background()
	slices.SortStableFunc(objs, func(a, b *unstructured.Unstructured) int {
		rank := func(o *unstructured.Unstructured) int {
			switch o.GetKind() {
			case "CustomResourceDefinition":
				return 0
			case "Namespace":
				return 1
			}
			return 2
		}
		return rank(a) - rank(b)
	})
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		if _, err := c.RESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version); err != nil {
			if meta.IsNoMatchError(err) {
				unknown = append(unknown, gvk.String())
				continue
			}
			t.Fatalf("%s %s: %v", gvk, o.GetName(), err)
		}
		if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(o), client.FieldOwner(fieldManager), client.ForceOwnership); err != nil {
			t.Errorf("the API server refused %s %s/%s: %v", o.GetKind(), o.GetNamespace(), o.GetName(), err)
			continue
		}
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(gvk)
		if err := c.Get(ctx, client.ObjectKeyFromObject(o), got); err != nil {
			t.Errorf("%s %s/%s applied but not found: %v", o.GetKind(), o.GetNamespace(), o.GetName(), err)
		}
	}
	return unknown
}

func ensureNamespace(t *testing.T, c client.Client, name string) {
	t.Helper()
	ns := &corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}, ObjectMeta: metav1.ObjectMeta{Name: name}}
	u, err := toUnstructured(ns)
	if err != nil {
		t.Fatal(err)
	}
	apply(t, c, []*unstructured.Unstructured{u})
}

// TestInstall applies every object both charts render, for every values
// file of the golden tests, to the test suite's API server (server-side
// apply, field manager governor-chart-test): each must be one Kubernetes
// accepts, schema, defaulting and validation included. The API server runs no
// controllers, so nothing rolls out; acceptance is the point.
func TestInstall(t *testing.T) {
	requireAPIServer(t)
	c := newClient(t)
	for _, gc := range goldenCases {
		name := strings.TrimSuffix(gc.golden, ".yaml")
		t.Run(name, func(t *testing.T) {
			ch := gc.chart
			ch.namespace = name
			ensureNamespace(t, c, ch.namespace)
			objs := objects(t, mustTemplate(t, ch, valuesPaths(ch, gc.values)))
			if len(objs) == 0 {
				t.Fatal("nothing rendered")
			}
			// The API server serves the Prometheus Operator's and Gateway
			// API's kinds too (thirdPartyCRDs), so every object is checked.
			for _, kind := range apply(t, c, objs) {
				t.Errorf("the API server does not serve %s", kind)
			}
		})
	}
}

// TestInstancesVerifySpace renders the instances chart against the API server
// (helm template --dry-run=server, so lookup works) with space.name naming a
// Space: environments that agree with its spec.environments render, others
// fail with the value path named.
func TestInstancesVerifySpace(t *testing.T) {
	requireAPIServer(t)
	c := newClient(t)
	space := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "governor.dev/v1alpha1",
		"kind":       "Space",
		"metadata":   map[string]any{"name": "payments"},
		"spec": map[string]any{
			"displayName": "Payments",
			"environments": []any{
				map[string]any{"name": "development"},
				map[string]any{"name": "staging", "readOnly": true, "branch": "main"},
				map[string]any{"name": "production", "readOnly": true, "branch": "main"},
			},
		},
	}}
	apply(t, c, []*unstructured.Unstructured{space})

	render := func(set ...string) (string, error) {
		args := []string{"--dry-run=server", "--kubeconfig", kubeconfig, "--set", "space.name=payments"}
		for _, s := range set {
			args = append(args, "--set", s)
		}
		return template(t, instancesChart, nil, args...)
	}
	out, err := render()
	if err != nil {
		t.Fatalf("the defaults disagree with Space payments: %v", err)
	}
	for _, o := range objects(t, out) {
		if o.GetLabels()["governor.dev/space"] != "payments" {
			t.Errorf("%s %s is not labelled governor.dev/space=payments", o.GetKind(), o.GetName())
		}
	}
	for _, tc := range []struct {
		set  []string
		want []string
	}{
		{[]string{"environments.production.branch=release"}, []string{"environments.production.branch", `"release"`, `"main"`}},
		{[]string{"environments.staging.readOnly=false"}, []string{"environments.staging.readOnly"}},
		{[]string{"environments.qa.enabled=true"}, []string{"environments.qa", "no environment", "development, production, staging"}},
	} {
		_, err := render(tc.set...)
		if err == nil {
			t.Errorf("%v: rendered although it disagrees with Space payments", tc.set)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: the error does not mention %s:\n%v", tc.set, w, err)
			}
		}
	}
	// Without verify, or for a Space that does not exist, nothing is checked.
	if _, err := render("environments.qa.enabled=true", "space.verify=false"); err != nil {
		t.Errorf("space.verify=false still checks: %v", err)
	}
	if _, err := template(t, instancesChart, nil, "--dry-run=server", "--kubeconfig", kubeconfig, "--set", "space.name=absent"); err != nil {
		t.Errorf("a Space that does not exist (yet) blocks rendering: %v", err)
	}
}

// newSpace is a Space with the three default environments, made to measure.
func newSpace(name string, spec map[string]any) *unstructured.Unstructured {
	s := map[string]any{
		"displayName": name,
		"environments": []any{
			map[string]any{"name": "development"},
			map[string]any{"name": "staging", "readOnly": true, "branch": "main"},
			map[string]any{"name": "production", "readOnly": true, "branch": "main"},
		},
	}
	for k, v := range spec {
		s[k] = v
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "governor.dev/v1alpha1",
		"kind":       "Space",
		"metadata":   map[string]any{"name": name},
		"spec":       s,
	}}
}

// TestInstancesVerifySourceControl: with a provider set, the Space's
// spec.sourceControl must name the same provider and repository.
func TestInstancesVerifySourceControl(t *testing.T) {
	requireAPIServer(t)
	c := newClient(t)
	apply(t, c, []*unstructured.Unstructured{
		newSpace("orders", map[string]any{"sourceControl": map[string]any{"provider": "GitLab", "repository": "https://gitlab.example.com/platform/retool-apps.git"}}),
		newSpace("shipping", nil),
	})
	render := func(spaceName string, set ...string) error {
		args := []string{"--dry-run=server", "--kubeconfig", kubeconfig, "--set", "space.name=" + spaceName}
		for _, s := range set {
			args = append(args, "--set", s)
		}
		_, err := template(t, instancesChart, nil, args...)
		return err
	}
	for _, repo := range []string{"https://gitlab.example.com/platform/retool-apps.git", "https://gitlab.example.com/platform/retool-apps"} {
		if err := render("orders", "sourceControl.provider=GitLab", "sourceControl.repository="+repo); err != nil {
			t.Errorf("repository %s agrees with Space orders, yet: %v", repo, err)
		}
	}
	for _, tc := range []struct {
		space string
		set   []string
		want  []string
	}{
		{"orders", []string{"sourceControl.provider=GitHub"},
			[]string{"sourceControl.provider: GitHub", `Space "orders" says provider: GitLab`}},
		{"orders", []string{"sourceControl.provider=GitLab", "sourceControl.repository=https://gitlab.example.com/platform/other.git"},
			[]string{"sourceControl.repository", "other.git", "retool-apps.git"}},
		{"shipping", []string{"sourceControl.provider=GitLab", "sourceControl.repository=https://gitlab.example.com/platform/retool-apps.git"},
			[]string{"sourceControl.provider", `Space "shipping" has no spec.sourceControl`}},
	} {
		err := render(tc.space, tc.set...)
		if err == nil {
			t.Errorf("%s %v: rendered although it disagrees with the Space", tc.space, tc.set)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s %v: the error does not mention %s:\n%v", tc.space, tc.set, w, err)
			}
		}
	}
	// Without a provider the chart sets no provider variables, and checks nothing of it.
	if err := render("shipping"); err != nil {
		t.Errorf("no provider, yet: %v", err)
	}
}

// TestInstancesVerifySharedSpaces: one set serving many Spaces needs the
// admin Space as its main organisation, and every Space it serves must
// agree on which environments are read-only.
func TestInstancesVerifySharedSpaces(t *testing.T) {
	requireAPIServer(t)
	c := newClient(t)
	apply(t, c, []*unstructured.Unstructured{
		newSpace("hub", map[string]any{"admin": true}),
		newSpace("billing", nil),
		newSpace("treasury", map[string]any{"environments": []any{
			map[string]any{"name": "development"},
			map[string]any{"name": "staging"},
		}}),
	})
	shared := valuesPaths(instancesChart, []string{"shared-values.yaml"})
	render := func(set ...string) error {
		args := []string{"--dry-run=server", "--kubeconfig", kubeconfig, "--set", "sourceControl.provider="}
		for _, s := range set {
			args = append(args, "--set", s)
		}
		_, err := template(t, instancesChart, shared, args...)
		return err
	}
	// payments (TestInstancesVerifySpace's, if it ran first) or absent: either way it agrees.
	if err := render(); err != nil {
		t.Errorf("the shared values agree with Spaces hub and billing, yet: %v", err)
	}
	for _, tc := range []struct {
		set  []string
		want []string
	}{
		{[]string{"space.name=billing", "space.additional[1].name=hub"}, []string{"space.name", `Space "billing" is not the admin Space`}},
		{[]string{"space.additional[0].name=treasury"}, []string{"space.additional[0]", `Space "treasury" says readOnly: false for staging`}},
	} {
		err := render(tc.set...)
		if err == nil {
			t.Errorf("%v: rendered although it disagrees with the Spaces", tc.set)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: the error does not mention %s:\n%v", tc.set, w, err)
			}
		}
	}
}

// TestInstancesCodeExecutorSandbox: the code executor's sandboxed mode
// (nsjail without a privileged container, as Retool's chart's
// useSeccompProfile) renders a user-namespaced pod with NET_ADMIN, an
// unmasked /proc and a Localhost seccomp profile copied to the node by an
// init container, and the API server accepts it. The profile here is a
// stand-in written for the test (testdata/seccomp-stand-in.json), not
// Retool's; the chart only carries it.
func TestInstancesCodeExecutorSandbox(t *testing.T) {
	requireHelm(t)
	args := []string{"--set", "environments.production.codeExecutor.sandbox.enabled=true",
		"--set-file", "environments.production.codeExecutor.sandbox.seccompProfile=testdata/seccomp-stand-in.json"}
	objs := objects(t, mustTemplate(t, instancesChart, nil, args...))
	d := deployment(t, objs, "production", "code-executor")
	spec := podSpec(d)
	if hu, ok, _ := unstructured.NestedBool(spec, "hostUsers"); !ok || hu {
		t.Errorf("hostUsers %v (set %v), want false", hu, ok)
	}
	c := mainContainer(t, d)
	sc, _, _ := unstructured.NestedMap(c, "securityContext")
	if _, privileged := sc["privileged"]; privileged {
		t.Errorf("sandboxed, yet privileged: %v", sc)
	}
	if add, _, _ := unstructured.NestedStringSlice(sc, "capabilities", "add"); !slices.Equal(add, []string{"NET_ADMIN"}) {
		t.Errorf("capabilities.add %v, want NET_ADMIN", add)
	}
	if sc["procMount"] != "Unmasked" || nestedString(sc, "seccompProfile", "type") != "Localhost" || nestedString(sc, "seccompProfile", "localhostProfile") != "profiles/nsjail-seccomp.json" {
		t.Errorf("securityContext %v, want an unmasked /proc and the Localhost profile", sc)
	}
	inits, _, _ := unstructured.NestedSlice(spec, "initContainers")
	if len(inits) != 1 || inits[0].(map[string]any)["name"] != "install-seccomp-profile" {
		t.Fatalf("init containers %v, want the profile installer", inits)
	}
	volumes, _, _ := unstructured.NestedSlice(spec, "volumes")
	var hostPath, configMap string
	for _, v := range volumes {
		v := v.(map[string]any)
		hostPath = hostPath + nestedString(v, "hostPath", "path")
		configMap = configMap + nestedString(v, "configMap", "name")
	}
	if hostPath != "/var/lib/kubelet/seccomp" || configMap != "retool-production-code-executor-seccomp" {
		t.Errorf("volumes %v, want the kubelet's seccomp directory and the profile's ConfigMap", volumes)
	}
	cm := find(t, objs, "ConfigMap", "retool-production-code-executor-seccomp")
	if data, _, _ := unstructured.NestedString(cm.Object, "data", "nsjail-seccomp.json"); !strings.Contains(data, "SCMP_ACT_ERRNO") {
		t.Errorf("ConfigMap data %q, want the profile", data)
	}
	// Other environments keep Retool's default, the privileged container.
	if p, _, _ := unstructured.NestedBool(mainContainer(t, deployment(t, objs, "staging", "code-executor")), "securityContext", "privileged"); !p {
		t.Error("staging's code executor lost its privileged default")
	}

	// Without the profile, the render fails naming the value to set.
	_, err := template(t, instancesChart, nil, "--set", "environments.production.codeExecutor.sandbox.enabled=true")
	if err == nil || !strings.Contains(err.Error(), "environments.production.codeExecutor.sandbox.seccompProfile") {
		t.Errorf("sandbox without a profile: %v", err)
	}

	requireAPIServer(t)
	c2 := newClient(t)
	ch := instancesChart
	ch.namespace = "sandbox"
	ensureNamespace(t, c2, ch.namespace)
	for _, kind := range apply(t, c2, objects(t, mustTemplate(t, ch, nil, args...))) {
		t.Errorf("the API server does not serve %s", kind)
	}
}

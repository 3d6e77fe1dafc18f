package charts_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

func rulesOf(t *testing.T, rendered string, kind, name string) []rbacv1.PolicyRule {
	t.Helper()
	var role rbacv1.ClusterRole
	o := find(t, objects(t, rendered), kind, name)
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &role); err != nil {
		t.Fatal(err)
	}
	return role.Rules
}

// TestRBACNoWildcards: no Role or ClusterRole of the operator chart grants a
// wildcard verb, resource, API group or non-resource URL.
func TestRBACNoWildcards(t *testing.T) {
	requireHelm(t)
	for _, values := range [][]string{nil, {"production-values.yaml"}} {
		rendered := mustTemplate(t, operatorChart, valuesPaths(operatorChart, values))
		for _, kind := range []string{"ClusterRole", "Role"} {
			for _, o := range byKind(objects(t, rendered), kind) {
				for i, r := range rulesOf(t, rendered, kind, o.GetName()) {
					for _, list := range [][]string{r.Verbs, r.Resources, r.APIGroups, r.NonResourceURLs, r.ResourceNames} {
						if slices.Contains(list, "*") {
							t.Errorf("%s %s rule %d has a wildcard: %+v", kind, o.GetName(), i, r)
						}
					}
				}
			}
		}
	}
}

// covers reports whether the chart's rules grant verb on group/resource(/name).
func covers(rules []rbacv1.PolicyRule, group, resource, name, verb string) bool {
	for _, r := range rules {
		if !slices.Contains(r.APIGroups, group) || !slices.Contains(r.Resources, resource) || !slices.Contains(r.Verbs, verb) {
			continue
		}
		if len(r.ResourceNames) == 0 || slices.Contains(r.ResourceNames, name) {
			return true
		}
	}
	return false
}

// TestRBACCoversGeneratedRole: everything the controllers' kubebuilder
// markers ask for (config/rbac/role.yaml, written by `make manifests`) is
// granted by the chart's manager ClusterRole or leader-election Role.
func TestRBACCoversGeneratedRole(t *testing.T) {
	requireHelm(t)
	data, err := os.ReadFile(filepath.Join(root, "config", "rbac", "role.yaml"))
	if os.IsNotExist(err) {
		t.Skip("config/rbac/role.yaml not generated yet")
	}
	if err != nil {
		t.Fatal(err)
	}
	var generated rbacv1.ClusterRole
	if err := yaml.Unmarshal(data, &generated); err != nil {
		t.Fatal(err)
	}
	rendered := mustTemplate(t, operatorChart, nil)
	chartRules := append(rulesOf(t, rendered, "ClusterRole", "governor-manager"), rulesOf(t, rendered, "Role", "governor-leader-election")...)
	for _, r := range generated.Rules {
		names := r.ResourceNames
		if len(names) == 0 {
			names = []string{""}
		}
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, n := range names {
					for _, v := range r.Verbs {
						if !covers(chartRules, g, res, n, v) {
							t.Errorf("config/rbac/role.yaml grants %q on %q/%q %s; charts/governor/templates/rbac-manager.yaml does not", v, g, res, n)
						}
					}
				}
			}
		}
	}
}

// TestRBACPersonas checks the persona ClusterRoles and their aggregation.
func TestRBACPersonas(t *testing.T) {
	requireHelm(t)
	rendered := mustTemplate(t, operatorChart, nil)
	objs := objects(t, rendered)
	spaceAdmin := rulesOf(t, rendered, "ClusterRole", "governor-space-admin")
	for _, res := range []string{"permissiongroups", "accessrules", "releases"} {
		for _, v := range []string{"get", "list", "watch", "create", "update", "patch", "delete"} {
			if !covers(spaceAdmin, "governor.dev", res, "", v) {
				t.Errorf("governor-space-admin cannot %s %s", v, res)
			}
		}
	}
	if covers(spaceAdmin, "governor.dev", "spaces", "", "get") {
		t.Errorf("governor-space-admin reaches Spaces; it is bound in one namespace and Spaces are the hub's")
	}
	viewer := rulesOf(t, rendered, "ClusterRole", "governor-viewer")
	for _, r := range viewer {
		for _, v := range r.Verbs {
			if !slices.Contains([]string{"get", "list", "watch"}, v) {
				t.Errorf("governor-viewer may %s", v)
			}
		}
	}
	orgAdmin := find(t, objs, "ClusterRole", "governor-org-admin")
	sel, ok, _ := nestedSlice(orgAdmin.Object, "aggregationRule", "clusterRoleSelectors")
	if !ok || len(sel) == 0 {
		t.Fatalf("governor-org-admin has no aggregationRule")
	}
	var aggregated []rbacv1.PolicyRule
	for _, o := range byKind(objs, "ClusterRole") {
		if o.GetLabels()["governor.dev/aggregate-to-org-admin"] == "true" {
			aggregated = append(aggregated, rulesOf(t, rendered, "ClusterRole", o.GetName())...)
		}
	}
	for _, res := range []string{"spaces", "permissiongroups", "accessrules", "releases"} {
		for _, v := range []string{"get", "list", "watch", "create", "update", "patch", "delete"} {
			if !covers(aggregated, "governor.dev", res, "", v) {
				t.Errorf("governor-org-admin (aggregated) cannot %s %s", v, res)
			}
		}
	}
	if find(t, objs, "ClusterRole", "governor-viewer").GetLabels()["rbac.authorization.k8s.io/aggregate-to-view"] != "true" {
		t.Errorf("governor-viewer is not aggregated into view")
	}
	if find(t, objs, "ClusterRole", "governor-space-admin").GetLabels()["rbac.authorization.k8s.io/aggregate-to-admin"] != "true" {
		t.Errorf("governor-space-admin is not aggregated into admin")
	}
	manager := rulesOf(t, rendered, "ClusterRole", "governor-manager")
	if !covers(manager, "rbac.authorization.k8s.io", "clusterroles", "governor-space-admin", "bind") {
		t.Errorf("the operator cannot bind governor-space-admin")
	}
	if covers(manager, "rbac.authorization.k8s.io", "clusterroles", "cluster-admin", "bind") {
		t.Errorf("the operator may bind ClusterRoles other than governor-space-admin")
	}
}

// TestRBACPersonasMatchConfig: config/rbac/personas.yaml (applied by
// `governor dev` and the controller tests) grants what the chart grants.
func TestRBACPersonasMatchConfig(t *testing.T) {
	requireHelm(t)
	data, err := os.ReadFile(filepath.Join(root, "config", "rbac", "personas.yaml"))
	if os.IsNotExist(err) {
		t.Skip("config/rbac/personas.yaml does not exist")
	}
	if err != nil {
		t.Fatal(err)
	}
	rendered := mustTemplate(t, operatorChart, nil)
	chartObjs := objects(t, rendered)
	configObjs := objects(t, string(data))
	if len(configObjs) != len(byKind(chartObjs, "ClusterRole"))-2 { // minus manager and metrics-reader
		t.Errorf("config/rbac/personas.yaml has %d ClusterRoles, the chart %d persona ClusterRoles", len(configObjs), len(byKind(chartObjs, "ClusterRole"))-2)
	}
	for _, o := range configObjs {
		var want, got rbacv1.ClusterRole
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &want); err != nil {
			t.Fatal(err)
		}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(find(t, chartObjs, "ClusterRole", o.GetName()).Object, &got); err != nil {
			t.Fatal(err)
		}
		if !equality(want.Rules, got.Rules) || !equality(want.AggregationRule, got.AggregationRule) {
			t.Errorf("ClusterRole %s: config/rbac/personas.yaml and the chart disagree:\nconfig: %+v %+v\nchart:  %+v %+v", o.GetName(), want.Rules, want.AggregationRule, got.Rules, got.AggregationRule)
		}
		if want.Labels["governor.dev/aggregate-to-org-admin"] != got.Labels["governor.dev/aggregate-to-org-admin"] {
			t.Errorf("ClusterRole %s: governor.dev/aggregate-to-org-admin differs", o.GetName())
		}
	}
}

func equality(a, b any) bool { return apiequality.Semantic.DeepEqual(a, b) }

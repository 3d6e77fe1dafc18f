package charts_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

func managerContainer(t *testing.T, objs []*unstructured.Unstructured) (container map[string]any, args []string) {
	t.Helper()
	d := find(t, objs, "Deployment", "governor")
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	container = containers[0].(map[string]any)
	args, _, _ = unstructured.NestedStringSlice(container, "args")
	return container, args
}

// TestDecisionAPIDisabled: by default the operator serves no decision API,
// and the chart renders nothing for it.
func TestDecisionAPIDisabled(t *testing.T) {
	requireHelm(t)
	objs := objects(t, mustTemplate(t, operatorChart, nil))
	_, args := managerContainer(t, objs)
	for _, a := range args {
		if strings.HasPrefix(a, "--api-") {
			t.Errorf("api.enabled=false, yet the manager runs with %s", a)
		}
	}
	for _, o := range objs {
		if strings.Contains(o.GetName(), "decision-api") || (o.GetKind() == "Service" && o.GetName() == "governor-api") {
			t.Errorf("api.enabled=false renders %s %s", o.GetKind(), o.GetName())
		}
	}
}

// TestDecisionAPIEnabled checks the API's flags, its TLS Secret, its Service
// and the callers' ClusterRole, per Space when api.clients.spaces is set.
func TestDecisionAPIEnabled(t *testing.T) {
	requireHelm(t)
	rendered := mustTemplate(t, operatorChart, nil,
		"--set", "api.enabled=true", "--set", "api.port=9444",
		"--set", "api.tls.secretName=governor-api-tls", "--set", "api.clients.spaces={payments}")
	objs := objects(t, rendered)
	c, args := managerContainer(t, objs)
	for _, want := range []string{"--api-bind-address=:9444", "--api-cert-dir=/etc/governor/api-tls"} {
		if !slices.Contains(args, want) {
			t.Errorf("the manager's args %v lack %s", args, want)
		}
	}
	mounts, _, _ := unstructured.NestedSlice(c, "volumeMounts")
	mounted := false
	for _, m := range mounts {
		m := m.(map[string]any)
		if m["name"] == "api-tls" && m["mountPath"] == "/etc/governor/api-tls" && m["readOnly"] == true {
			mounted = true
		}
	}
	if !mounted {
		t.Errorf("the API's TLS Secret is not mounted read-only at /etc/governor/api-tls: %v", mounts)
	}
	volumes, _, _ := unstructured.NestedSlice(find(t, objs, "Deployment", "governor").Object, "spec", "template", "spec", "volumes")
	fromSecret := false
	for _, v := range volumes {
		if name, _, _ := unstructured.NestedString(v.(map[string]any), "secret", "secretName"); name == "governor-api-tls" {
			fromSecret = true
		}
	}
	if !fromSecret {
		t.Errorf("no volume from Secret governor-api-tls: %v", volumes)
	}
	svc := find(t, objs, "Service", "governor-api")
	ports, _, _ := unstructured.NestedSlice(svc.Object, "spec", "ports")
	if len(ports) != 1 || ports[0].(map[string]any)["targetPort"] != "api" {
		t.Errorf("Service governor-api ports %v, want one targeting the container port api", ports)
	}

	rules := rulesOf(t, rendered, "ClusterRole", "governor-decision-api-client")
	for _, g := range []struct{ sub, verb string }{{"spaces/check", "create"}, {"spaces/who-can", "create"}, {"spaces/permissions", "get"}} {
		if !covers(rules, "governor.dev", g.sub, "payments", g.verb) {
			t.Errorf("the client ClusterRole does not grant %s on %s of Space payments", g.verb, g.sub)
		}
		if covers(rules, "governor.dev", g.sub, "other", g.verb) {
			t.Errorf("api.clients.spaces=[payments], yet the client ClusterRole grants %s on %s of Space other", g.verb, g.sub)
		}
	}
	for _, r := range rules {
		for _, res := range r.Resources {
			if !slices.Contains([]string{"spaces/check", "spaces/who-can", "spaces/permissions"}, res) {
				t.Errorf("the client ClusterRole reaches %s; it is for the decision API's virtual subresources only", res)
			}
		}
	}
	// Without a Secret: a self-signed certificate, no flag, no volume; every Space.
	objs = objects(t, mustTemplate(t, operatorChart, nil, "--set", "api.enabled=true"))
	_, args = managerContainer(t, objs)
	if !slices.Contains(args, "--api-bind-address=:9443") {
		t.Errorf("args %v lack --api-bind-address=:9443", args)
	}
	for _, a := range args {
		if strings.HasPrefix(a, "--api-cert-dir") {
			t.Errorf("no api.tls.secretName, yet %s", a)
		}
	}
	var role rbacv1.ClusterRole
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(find(t, objs, "ClusterRole", "governor-decision-api-client").Object, &role); err != nil {
		t.Fatal(err)
	}
	for _, r := range role.Rules {
		if len(r.ResourceNames) != 0 {
			t.Errorf("api.clients.spaces empty, yet the client ClusterRole is limited to %v", r.ResourceNames)
		}
	}
}

// TestDecisionAPIClientsAreTheInstances: the operator chart's default
// api.clients.serviceAccounts are the ServiceAccounts the instances chart
// creates with its defaults (release retool, namespace retool); no pod
// mounts a token unless serviceAccount.mountToken asks for it, and then only
// the main backend's.
func TestDecisionAPIClientsAreTheInstances(t *testing.T) {
	requireHelm(t)
	type sa struct{ Namespace, Name string }
	instances := objects(t, mustTemplate(t, instancesChart, nil))
	var created []sa
	for _, o := range byKind(instances, "ServiceAccount") {
		created = append(created, sa{o.GetNamespace(), o.GetName()})
		if auto, ok, _ := unstructured.NestedBool(o.Object, "automountServiceAccountToken"); !ok || auto {
			t.Errorf("ServiceAccount %s mounts its token in every pod; only the backend's pods should", o.GetName())
		}
	}
	for _, d := range byKind(instances, "Deployment") {
		spec, _, _ := unstructured.NestedMap(d.Object, "spec", "template", "spec")
		env := d.GetLabels()["governor.dev/environment"]
		if spec["serviceAccountName"] != "retool-"+env {
			t.Errorf("%s runs as %v, want retool-%s", d.GetName(), spec["serviceAccountName"], env)
		}
		if spec["automountServiceAccountToken"] != false {
			t.Errorf("%s: automountServiceAccountToken %v by default, want false", d.GetName(), spec["automountServiceAccountToken"])
		}
	}
	asked := objects(t, mustTemplate(t, instancesChart, nil, "--set", "environments.production.serviceAccount.mountToken=true"))
	for _, d := range byKind(asked, "Deployment") {
		spec, _, _ := unstructured.NestedMap(d.Object, "spec", "template", "spec")
		wantMount := d.GetName() == "retool-production-backend"
		if spec["automountServiceAccountToken"] != wantMount {
			t.Errorf("mountToken=true for production: %s automountServiceAccountToken %v, want %v", d.GetName(), spec["automountServiceAccountToken"], wantMount)
		}
	}
	objs := objects(t, mustTemplate(t, operatorChart, nil, "--set", "api.enabled=true"))
	binding := find(t, objs, "ClusterRoleBinding", "governor-decision-api-clients")
	var crb rbacv1.ClusterRoleBinding
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(binding.Object, &crb); err != nil {
		t.Fatal(err)
	}
	if crb.RoleRef.Kind != "ClusterRole" || crb.RoleRef.Name != "governor-decision-api-client" {
		t.Errorf("the binding refers to %s %s", crb.RoleRef.Kind, crb.RoleRef.Name)
	}
	var bound []sa
	for _, s := range crb.Subjects {
		if s.Kind != "ServiceAccount" {
			t.Errorf("subject %+v is not a ServiceAccount", s)
		}
		bound = append(bound, sa{s.Namespace, s.Name})
	}
	less := func(a, b sa) int { return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name) }
	slices.SortFunc(created, less)
	slices.SortFunc(bound, less)
	if diff := cmp.Diff(created, bound); diff != "" {
		t.Errorf("the operator chart binds other service accounts than the instances chart creates (-created +bound):\n%s", diff)
	}
	// With no clients, the ClusterRole stays (for your own bindings), the binding goes.
	objs = objects(t, mustTemplate(t, operatorChart, nil, "--set", "api.enabled=true", "--set", "api.clients.serviceAccounts=null"))
	find(t, objs, "ClusterRole", "governor-decision-api-client")
	if n := len(byKind(objs, "ClusterRoleBinding")); n != 1 { // the manager's
		t.Errorf("%d ClusterRoleBindings without clients, want the manager's only", n)
	}
}

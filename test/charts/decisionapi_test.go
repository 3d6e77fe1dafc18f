package charts_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"
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

// clientRole is the ClusterRole (and binding) the chart renders for a caller.
func clientRole(sa string) string { return "governor-decision-api-" + sa }

// TestDecisionAPIEnabled checks the API's flags, its TLS Secret, its Service
// and the callers' ClusterRoles, each limited to the caller's Spaces.
func TestDecisionAPIEnabled(t *testing.T) {
	requireHelm(t)
	rendered := mustTemplate(t, operatorChart, nil,
		"--set", "api.enabled=true", "--set", "api.port=9444",
		"--set", "api.tls.secretName=governor-api-tls",
		"--set-json", `api.clients=[{"serviceAccount":{"namespace":"retool","name":"retool-production"},"spaces":["payments"]}]`)
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

	rules := rulesOf(t, rendered, "ClusterRole", clientRole("retool.retool-production"))
	for _, g := range []struct{ sub, verb string }{{"spaces/check", "create"}, {"spaces/who-can", "create"}, {"spaces/permissions", "get"}} {
		if !covers(rules, "governor.dev", g.sub, "payments", g.verb) {
			t.Errorf("the client ClusterRole does not grant %s on %s of Space payments", g.verb, g.sub)
		}
		if covers(rules, "governor.dev", g.sub, "other", g.verb) {
			t.Errorf("spaces: [payments], yet the client ClusterRole grants %s on %s of Space other", g.verb, g.sub)
		}
	}
	for _, r := range rules {
		for _, res := range r.Resources {
			if !slices.Contains([]string{"spaces/check", "spaces/who-can", "spaces/permissions"}, res) {
				t.Errorf("the client ClusterRole reaches %s; it is for the decision API's virtual subresources only", res)
			}
		}
	}
	// Without a Secret: a self-signed certificate naming the Service, no
	// volume; callers without Spaces get nothing.
	objs = objects(t, mustTemplate(t, operatorChart, nil, "--set", "api.enabled=true", "--set", "api.audience=governor-decision-api"))
	_, args = managerContainer(t, objs)
	for _, want := range []string{"--api-bind-address=:9443", "--api-audience=governor-decision-api",
		"--api-dns-names=governor-api,governor-api.governor-system,governor-api.governor-system.svc,governor-api.governor-system.svc.cluster.local"} {
		if !slices.Contains(args, want) {
			t.Errorf("args %v lack %s", args, want)
		}
	}
	for _, a := range args {
		if strings.HasPrefix(a, "--api-cert-dir") {
			t.Errorf("no api.tls.secretName, yet %s", a)
		}
	}
	for _, kind := range []string{"ClusterRole", "ClusterRoleBinding"} {
		for _, o := range byKind(objs, kind) {
			if strings.Contains(o.GetName(), "decision-api") {
				t.Errorf("no caller lists a Space by default, yet %s %s is rendered", kind, o.GetName())
			}
		}
	}
	// allSpaces: every Space, no resourceNames.
	rendered = mustTemplate(t, operatorChart, nil, "--set", "api.enabled=true",
		"--set-json", `api.clients=[{"serviceAccount":{"namespace":"retool","name":"retool-development"},"allSpaces":true}]`)
	var role rbacv1.ClusterRole
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(find(t, objects(t, rendered), "ClusterRole", clientRole("retool.retool-development")).Object, &role); err != nil {
		t.Fatal(err)
	}
	if len(role.Rules) != 2 || len(role.Rules[0].ResourceNames)+len(role.Rules[1].ResourceNames) != 0 {
		t.Errorf("allSpaces: want two rules without resourceNames, got %+v", role.Rules)
	}
}

// TestDecisionAPIClientsAreTheInstances: the operator chart's default
// api.clients.serviceAccounts are the ServiceAccounts the instances chart
// creates with its defaults (release retool, namespace retool); no pod
// mounts a token unless serviceAccount.mountToken asks for it, and then only
// the main backend's.
func TestDecisionAPIClientsAreTheInstances(t *testing.T) {
	requireHelm(t)
	type sa struct {
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
	}
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
	objs := objects(t, mustTemplate(t, operatorChart, []string{operatorChart.valuesFile("production-values.yaml")}))
	var bound []sa
	for _, o := range byKind(objs, "ClusterRoleBinding") {
		if !strings.HasPrefix(o.GetName(), "governor-decision-api-retool.") {
			continue
		}
		var crb rbacv1.ClusterRoleBinding
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &crb); err != nil {
			t.Fatal(err)
		}
		if crb.RoleRef.Kind != "ClusterRole" || crb.RoleRef.Name != o.GetName() {
			t.Errorf("binding %s refers to %s %s", o.GetName(), crb.RoleRef.Kind, crb.RoleRef.Name)
		}
		for _, s := range crb.Subjects {
			if s.Kind != "ServiceAccount" {
				t.Errorf("subject %+v is not a ServiceAccount", s)
			}
			bound = append(bound, sa{s.Namespace, s.Name})
		}
	}
	less := func(a, b sa) int { return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name) }
	slices.SortFunc(created, less)
	slices.SortFunc(bound, less)
	if diff := cmp.Diff(created, bound); diff != "" {
		t.Errorf("the operator chart's callers are not the service accounts the instances chart creates (-created +bound):\n%s", diff)
	}
	// The defaults name the same service accounts, with no Spaces yet.
	data, err := os.ReadFile(filepath.Join(operatorChart.dir(), "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var values struct {
		API struct {
			Clients []struct {
				ServiceAccount sa       `json:"serviceAccount"`
				Spaces         []string `json:"spaces"`
				AllSpaces      bool     `json:"allSpaces"`
			} `json:"clients"`
		} `json:"api"`
	}
	if err := yaml.Unmarshal(data, &values); err != nil {
		t.Fatal(err)
	}
	var defaults []sa
	for _, c := range values.API.Clients {
		defaults = append(defaults, c.ServiceAccount)
		if len(c.Spaces) > 0 || c.AllSpaces {
			t.Errorf("default caller %v is granted Spaces before anyone configured them", c.ServiceAccount)
		}
	}
	slices.SortFunc(defaults, less)
	if diff := cmp.Diff(created, defaults); diff != "" {
		t.Errorf("the default callers are not the instances chart's service accounts (-created +defaults):\n%s", diff)
	}
}

// TestDecisionAPICallersLimitedToTheirSpaces applies the callers' RBAC of
// ci/production-values.yaml to the API server and asks it as the decision
// API does (SubjectAccessReview on the Space's virtual subresources): each
// caller may ask about its own Spaces and is refused for any other; the
// audit tool with allSpaces may ask about any; a caller of the defaults
// (no Spaces listed) about none.
func TestDecisionAPICallersLimitedToTheirSpaces(t *testing.T) {
	requireAPIServer(t)
	c := newClient(t)
	objs := objects(t, mustTemplate(t, operatorChart, []string{operatorChart.valuesFile("production-values.yaml")}))
	var rbac []*unstructured.Unstructured
	for _, o := range objs {
		if strings.Contains(o.GetName(), "decision-api") {
			rbac = append(rbac, o)
		}
	}
	apply(t, c, rbac)
	cs, err := kubernetes.NewForConfig(apiServer)
	if err != nil {
		t.Fatal(err)
	}
	allowed := func(ns, name, verb, sub, space string) bool {
		sar, err := cs.AuthorizationV1().SubjectAccessReviews().Create(context.Background(), &authorizationv1.SubjectAccessReview{
			Spec: authorizationv1.SubjectAccessReviewSpec{
				User:   "system:serviceaccount:" + ns + ":" + name,
				Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
				ResourceAttributes: &authorizationv1.ResourceAttributes{
					Group: "governor.dev", Version: "v1alpha1", Resource: "spaces", Subresource: sub, Name: space, Verb: verb,
				},
			},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return sar.Status.Allowed
	}
	endpoints := []struct{ verb, sub string }{{"create", "check"}, {"create", "who-can"}, {"get", "permissions"}}
	cases := []struct {
		ns, name, space string
		want            bool
	}{
		{"retool", "retool-production", "payments", true},
		{"retool", "retool-production", "hub", false},
		{"retool", "retool-development", "hub", true},
		{"retool", "retool-staging", "hub", false},
		{"audit", "access-reports", "hub", true},
		{"audit", "access-reports", "anything", true},
		{"retool", "someone-else", "payments", false},
	}
	for _, tc := range cases {
		for _, e := range endpoints {
			if got := allowed(tc.ns, tc.name, e.verb, e.sub, tc.space); got != tc.want {
				t.Errorf("%s/%s %s spaces/%s of Space %s: allowed=%v, want %v", tc.ns, tc.name, e.verb, e.sub, tc.space, got, tc.want)
			}
		}
	}
}

package charts_test

import (
	"context"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestNamespacePolicyRendered: by default the chart holds the operator's
// namespace writes with a ValidatingAdmissionPolicy matching its
// ServiceAccount alone; rbac.namespacePolicy=false leaves it out.
func TestNamespacePolicyRendered(t *testing.T) {
	requireHelm(t)
	objs := objects(t, mustTemplate(t, operatorChart, nil))
	var policy admissionv1.ValidatingAdmissionPolicy
	fromUnstructured(t, find(t, objs, "ValidatingAdmissionPolicy", "governor-namespaces"), &policy)
	if len(policy.Spec.MatchConditions) != 1 || !strings.Contains(policy.Spec.MatchConditions[0].Expression, "'system:serviceaccount:governor-system:governor'") {
		t.Errorf("the policy does not match the operator's ServiceAccount alone: %+v", policy.Spec.MatchConditions)
	}
	if policy.Spec.FailurePolicy == nil || *policy.Spec.FailurePolicy != admissionv1.Fail {
		t.Errorf("the policy does not fail closed")
	}
	var binding admissionv1.ValidatingAdmissionPolicyBinding
	fromUnstructured(t, find(t, objs, "ValidatingAdmissionPolicyBinding", "governor-namespaces"), &binding)
	if binding.Spec.PolicyName != "governor-namespaces" || len(binding.Spec.ValidationActions) != 1 || binding.Spec.ValidationActions[0] != admissionv1.Deny {
		t.Errorf("binding: %+v", binding.Spec)
	}
	for _, o := range objects(t, mustTemplate(t, operatorChart, nil, "--set", "rbac.namespacePolicy=false")) {
		if o.GetName() == "governor-namespaces" {
			t.Errorf("rbac.namespacePolicy=false, yet %s is rendered", o.GetKind())
		}
	}
}

func fromUnstructured(t *testing.T, u *unstructured.Unstructured, into any) {
	t.Helper()
	if err := runtimeConverter.FromUnstructured(u.Object, into); err != nil {
		t.Fatal(err)
	}
}

// TestNamespacePolicyHoldsTheOperator applies the chart's manager RBAC and
// namespace policy to the API server and acts as the operator's
// ServiceAccount: it creates namespaces only with the governor.dev/space
// label, updates and deletes only labelled ones, adopts an unlabelled one by
// adding the label alone, and never touches kube-*, default or its own.
func TestNamespacePolicyHoldsTheOperator(t *testing.T) {
	requireAPIServer(t)
	const release = "nspolicy-system"
	c := newClient(t)
	ch := operatorChart
	ch.namespace = release
	ensureNamespace(t, c, release)
	var objs []*unstructured.Unstructured
	for _, o := range objects(t, mustTemplate(t, ch, nil)) {
		switch {
		case o.GetKind() == "ClusterRole" && o.GetName() == "governor-manager",
			o.GetKind() == "ClusterRoleBinding" && o.GetName() == "governor-manager",
			strings.HasPrefix(o.GetKind(), "ValidatingAdmissionPolicy") && o.GetName() == "governor-namespaces":
			objs = append(objs, o)
		}
	}
	if len(objs) != 4 {
		t.Fatalf("want the manager's ClusterRole and binding and the policy and its binding, got %d objects", len(objs))
	}
	apply(t, c, objs)
	ctx := context.Background()
	// (Type-checking is kube-controller-manager's, which this API server
	// runs without: the CEL is proved by what it refuses and allows below,
	// each refusal carrying the policy's own message.)
	cfg := rest.CopyConfig(apiServer)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + release + ":governor",
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + release, "system:authenticated"}}
	operator, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ns := func(name string, labels map[string]string) *corev1.Namespace {
		return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	}
	governed := map[string]string{"governor.dev/space": "team"}
	refused := func(what string, err error) {
		t.Helper()
		if err == nil || !(apierrors.IsForbidden(err) || apierrors.IsInvalid(err)) || !strings.Contains(err.Error(), "Governor operator") {
			t.Errorf("%s: want the policy's refusal, got %v", what, err)
		}
	}
	// The policy takes effect a moment after it is created: the first
	// refusal is waited for.
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := operator.Create(ctx, ns("np-unlabelled", nil))
		if err != nil && strings.Contains(err.Error(), "Governor operator") {
			break
		}
		if err == nil {
			_ = c.Delete(ctx, ns("np-unlabelled", nil))
		}
		if time.Now().After(deadline) {
			t.Fatalf("creating an unlabelled namespace as the operator was never refused: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := operator.Create(ctx, ns("np-team", governed)); err != nil {
		t.Fatalf("creating a labelled namespace: %v", err)
	}
	team := ns("np-team", nil)
	if err := operator.Get(ctx, client.ObjectKeyFromObject(team), team); err != nil {
		t.Fatal(err)
	}
	team.Annotations = map[string]string{"note": "ours"}
	if err := operator.Update(ctx, team); err != nil {
		t.Errorf("updating a labelled namespace: %v", err)
	}

	// Namespaces Governor does not govern, made by someone else.
	for _, name := range []string{"np-foreign", "np-foreign2"} {
		if err := c.Create(ctx, ns(name, map[string]string{"owner": "someone"})); err != nil {
			t.Fatal(err)
		}
	}
	foreign := ns("np-foreign", nil)
	if err := operator.Get(ctx, client.ObjectKeyFromObject(foreign), foreign); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(foreign.DeepCopy())
	foreign.Annotations = map[string]string{"note": "mine now"}
	refused("annotating an unlabelled namespace", operator.Patch(ctx, foreign, patch))
	foreign.Annotations = nil
	foreign.Labels["owner"] = "governor"
	foreign.Labels["governor.dev/space"] = "team"
	refused("adopting while changing another label", operator.Patch(ctx, foreign, patch))
	delete(foreign.Labels, "owner")
	refused("adopting while removing another label", operator.Patch(ctx, foreign, patch))
	foreign.Labels["owner"] = "someone"
	if err := operator.Patch(ctx, foreign, patch); err != nil {
		t.Errorf("adopting an unlabelled namespace by adding the label alone: %v", err)
	}
	refused("deleting an unlabelled namespace", operator.Delete(ctx, ns("np-foreign2", nil)))
	for _, name := range []string{"kube-public", "default", release} {
		target := ns(name, nil)
		if err := operator.Get(ctx, client.ObjectKeyFromObject(target), target); err != nil {
			t.Fatal(err)
		}
		p := client.MergeFrom(target.DeepCopy())
		if target.Labels == nil {
			target.Labels = map[string]string{}
		}
		target.Labels["governor.dev/space"] = "sys"
		refused("adopting "+name, operator.Patch(ctx, target, p))
	}
	refused("creating kube-governed", operator.Create(ctx, ns("kube-governed", governed)))
	if err := operator.Delete(ctx, ns("np-team", nil)); err != nil {
		t.Errorf("deleting a labelled namespace: %v", err)
	}
	// Anyone else is not held by this policy.
	if err := c.Delete(ctx, ns("np-foreign2", nil)); err != nil {
		t.Errorf("an administrator deleting an unlabelled namespace: %v", err)
	}
}

var runtimeConverter = runtime.DefaultUnstructuredConverter

package controller

import (
	"context"
	"fmt"
	"slices"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/governor-dev/governor/config"
)

// GroupAdminPolicy names the ValidatingAdmissionPolicy (and its binding)
// that limits group admins to their group's spec.members
// (config/admission/group-admins.yaml, installed by the chart).
const GroupAdminPolicy = "governor-group-admins"

// Reasons of ConditionGroupAdminsBound.
const (
	ReasonGroupAdminsBound        = "Bound"
	ReasonAdmissionPolicyMissing  = "AdmissionPolicyMissing"
	ReasonAdmissionPolicyMismatch = "AdmissionPolicyMismatch"
)

// shippedValidations are the CEL expressions of the policy as shipped.
var shippedValidations = func() []string {
	objs, err := config.AdmissionPolicies()
	if err != nil {
		panic(fmt.Sprintf("config/admission/group-admins.yaml: %v", err))
	}
	var out []string
	for _, o := range objs {
		if o.GetKind() != "ValidatingAdmissionPolicy" {
			continue
		}
		var p admissionv1.ValidatingAdmissionPolicy
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &p); err != nil {
			panic(fmt.Sprintf("config/admission/group-admins.yaml: %v", err))
		}
		for _, v := range p.Spec.Validations {
			out = append(out, normalizeCEL(v.Expression))
		}
	}
	if len(out) == 0 {
		panic("config/admission/group-admins.yaml has no validations")
	}
	return out
}()

func normalizeCEL(expr string) string { return strings.Join(strings.Fields(expr), " ") }

// groupAdminPolicyProblem reads the policy and its binding (the operator may
// read these two objects by name and no others) and returns why group
// admins may not be given rights, or "" when the policy is installed and
// matches: it denies, fails closed, covers every update of every
// PermissionGroup and holds the shipped validations.
func groupAdminPolicyProblem(ctx context.Context, c client.Reader) (reason, message string, err error) {
	policy := &admissionv1.ValidatingAdmissionPolicy{}
	binding := &admissionv1.ValidatingAdmissionPolicyBinding{}
	for _, obj := range []client.Object{policy, binding} {
		err := c.Get(ctx, client.ObjectKey{Name: GroupAdminPolicy}, obj)
		if apierrors.IsNotFound(err) {
			return ReasonAdmissionPolicyMissing, fmt.Sprintf("the %T %s that limits group admins to spec.members is not installed: group admins get no rights until it is (charts/governor admissionPolicy.enabled, Kubernetes 1.30+)",
				obj, GroupAdminPolicy), nil
		}
		if err != nil {
			return "", "", err
		}
		if !obj.GetDeletionTimestamp().IsZero() {
			return ReasonAdmissionPolicyMissing, fmt.Sprintf("%s %s is being deleted: group admins get no rights", kindName(obj), GroupAdminPolicy), nil
		}
	}
	if msg := policyMismatch(policy); msg != "" {
		return ReasonAdmissionPolicyMismatch, "ValidatingAdmissionPolicy " + GroupAdminPolicy + " " + msg + ": group admins get no rights until it is installed as shipped", nil
	}
	if msg := bindingMismatch(binding); msg != "" {
		return ReasonAdmissionPolicyMismatch, "ValidatingAdmissionPolicyBinding " + GroupAdminPolicy + " " + msg + ": group admins get no rights until it is installed as shipped", nil
	}
	return "", "", nil
}

func kindName(obj client.Object) string {
	if _, ok := obj.(*admissionv1.ValidatingAdmissionPolicy); ok {
		return "ValidatingAdmissionPolicy"
	}
	return "ValidatingAdmissionPolicyBinding"
}

func policyMismatch(p *admissionv1.ValidatingAdmissionPolicy) string {
	if p.Spec.FailurePolicy != nil && *p.Spec.FailurePolicy != admissionv1.Fail {
		return "does not fail closed (spec.failurePolicy)"
	}
	if len(p.Spec.MatchConditions) > 0 {
		return "has spec.matchConditions, which exempt some requests"
	}
	mc := p.Spec.MatchConstraints
	if mc == nil || !selectsAll(mc.NamespaceSelector == nil || isEmptySelector(mc.NamespaceSelector.MatchLabels, len(mc.NamespaceSelector.MatchExpressions)),
		mc.ObjectSelector == nil || isEmptySelector(mc.ObjectSelector.MatchLabels, len(mc.ObjectSelector.MatchExpressions))) || len(mc.ExcludeResourceRules) > 0 {
		return "does not match every PermissionGroup (spec.matchConstraints selectors or exclusions)"
	}
	covered := false
	for _, r := range mc.ResourceRules {
		if anyOf(r.APIGroups, "governor.dev") && anyOf(r.Resources, "permissiongroups") && anyOperation(r.Operations, admissionv1.Update) {
			covered = true
		}
	}
	if !covered {
		return "does not match updates of permissiongroups.governor.dev"
	}
	installed := make([]string, 0, len(p.Spec.Validations))
	for _, v := range p.Spec.Validations {
		installed = append(installed, normalizeCEL(v.Expression))
	}
	for _, want := range shippedValidations {
		if !slices.Contains(installed, want) {
			return "lacks a validation of the shipped policy"
		}
	}
	return ""
}

func bindingMismatch(b *admissionv1.ValidatingAdmissionPolicyBinding) string {
	if b.Spec.PolicyName != GroupAdminPolicy {
		return fmt.Sprintf("binds policy %q, not %s", b.Spec.PolicyName, GroupAdminPolicy)
	}
	if !slices.Contains(b.Spec.ValidationActions, admissionv1.Deny) {
		return "does not deny (spec.validationActions lacks Deny)"
	}
	if m := b.Spec.MatchResources; m != nil {
		if len(m.ResourceRules) > 0 || len(m.ExcludeResourceRules) > 0 ||
			(m.NamespaceSelector != nil && !isEmptySelector(m.NamespaceSelector.MatchLabels, len(m.NamespaceSelector.MatchExpressions))) ||
			(m.ObjectSelector != nil && !isEmptySelector(m.ObjectSelector.MatchLabels, len(m.ObjectSelector.MatchExpressions))) {
			return "narrows what the policy matches (spec.matchResources)"
		}
	}
	return ""
}

func selectsAll(ns, obj bool) bool { return ns && obj }

func isEmptySelector(labels map[string]string, expressions int) bool {
	return len(labels) == 0 && expressions == 0
}

func anyOf(list []string, want string) bool {
	return slices.Contains(list, want) || slices.Contains(list, "*")
}

func anyOperation(ops []admissionv1.OperationType, want admissionv1.OperationType) bool {
	return slices.Contains(ops, want) || slices.Contains(ops, admissionv1.OperationAll)
}

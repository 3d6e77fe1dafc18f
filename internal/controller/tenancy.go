package controller

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/spacemodel"
)

// TenancyOptions bound what a Space may claim and hold.
type TenancyOptions struct {
	// OwnNamespace is Governor's own namespace, never adopted (default:
	// PlatformOptions.Namespace).
	OwnNamespace string
	// ProtectedNamespaces are never adopted either, besides kube-*, default
	// and OwnNamespace.
	ProtectedNamespaces []string
	// Limits bound each Space's model.
	Limits Limits
}

// Limits bound one Space: a Space over any of them has no model and is
// Stalled (LimitExceeded) naming it; other Spaces are unaffected.
type Limits struct {
	// Groups and Rules bound the PermissionGroups and AccessRules of a Space.
	Groups, Rules int
	// Members bounds the member entries listed across a Space's groups.
	Members int
}

// The default limits: about three times the engine's large Space
// (accesstest.Large: 10,000 groups, 10,000 rules, 150,000 member entries of
// 50,000 users), which the scale test loads.
const (
	DefaultMaxGroups  = 20000
	DefaultMaxRules   = 20000
	DefaultMaxMembers = 500000
)

// ReasonLimitExceeded: a Space over a per-Space limit.
const ReasonLimitExceeded = "LimitExceeded"

// Ownership reasons (Stalled, and NamespaceOwned=False).
const (
	reasonNamespaceOwned     = "Owned"
	reasonNamespaceProtected = "NamespaceProtected"
	reasonNamespaceConflict  = "NamespaceConflict"
	reasonExistingObjects    = "ExistingObjects"
	reasonAdminConflict      = "AdminConflict"
	reasonBindingConflict    = "AdminBindingConflict"
)

func (l *Limits) defaults() {
	if l.Groups <= 0 {
		l.Groups = DefaultMaxGroups
	}
	if l.Rules <= 0 {
		l.Rules = DefaultMaxRules
	}
	if l.Members <= 0 {
		l.Members = DefaultMaxMembers
	}
}

// exceeded is the first limit the loaded Space is over, or nil.
func (l Limits) exceeded(loaded *spacemodel.Loaded) *Refusal {
	l.defaults()
	over := func(what, flag string, n, limit int) *Refusal {
		return &Refusal{Reason: ReasonLimitExceeded, Message: fmt.Sprintf(
			"namespace %s holds %d %s, over the limit of %d per Space (--%s): the Space has no access model until it is under it",
			loaded.Namespace, n, what, limit, flag)}
	}
	if n := len(loaded.Groups); n > l.Groups {
		return over("PermissionGroups", "max-groups-per-space", n, l.Groups)
	}
	if n := len(loaded.Rules); n > l.Rules {
		return over("AccessRules", "max-rules-per-space", n, l.Rules)
	}
	members := 0
	for i := range loaded.Groups {
		members += len(loaded.Groups[i].Spec.Members)
	}
	if members > l.Members {
		return over("group members (spec.members entries)", "max-members-per-space", members, l.Members)
	}
	return nil
}

// protected reports whether Governor never governs the namespace.
func (o *TenancyOptions) protected(ns string) bool {
	return ns == "default" || strings.HasPrefix(ns, "kube-") ||
		(o.OwnNamespace != "" && ns == o.OwnNamespace) || slices.Contains(o.ProtectedNamespaces, ns)
}

// checkProtected refuses a protected namespace. Sets: Stalled (NamespaceProtected).
func (o *TenancyOptions) checkProtected(space *governorv1alpha1.Space) error {
	ns := space.TargetNamespace()
	if !o.protected(ns) {
		return nil
	}
	field := "spec.namespace"
	if space.Spec.Namespace == "" {
		field = "metadata.name"
	}
	return stall(reasonNamespaceProtected, "%s: namespace %s is protected: Governor never governs kube-*, default, its own namespace or a namespace of --protected-namespaces", field, ns)
}

// ownsNamespace reports whether the Space's status says it owns its namespace.
func ownsNamespace(space *governorv1alpha1.Space) bool {
	return meta.IsStatusConditionTrue(space.Status.Conditions, governorv1alpha1.ConditionNamespaceOwned)
}

// ownershipChanged passes Space updates whose NamespaceOwned condition
// changed status or reason.
func ownershipChanged() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, ok1 := e.ObjectOld.(*governorv1alpha1.Space)
			n, ok2 := e.ObjectNew.(*governorv1alpha1.Space)
			if !ok1 || !ok2 {
				return false
			}
			a := meta.FindStatusCondition(o.Status.Conditions, governorv1alpha1.ConditionNamespaceOwned)
			b := meta.FindStatusCondition(n.Status.Conditions, governorv1alpha1.ConditionNamespaceOwned)
			if a == nil || b == nil {
				return (a == nil) != (b == nil)
			}
			return a.Status != b.Status || a.Reason != b.Reason
		},
		CreateFunc:  func(event.CreateEvent) bool { return false },
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}

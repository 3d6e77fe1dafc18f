package spacemodel

import (
	"context"
	"fmt"
	"sort"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/access"
)

// Loaded is a Space and its objects, read the one way every caller reads
// them (the operator from its cache, the CLI from the API server or from
// manifests), and the engine's input made from them.
type Loaded struct {
	// Space is the Space as declared; Effective is it with the settings it
	// inherits applied (Space itself when it inherits nothing).
	Space, Effective *governorv1alpha1.Space
	// Source is the Space it inherits from, when that exists and is not itself.
	Source *governorv1alpha1.Space
	// Inherited is what Effective took from Source (nil without one).
	Inherited *governorv1alpha1.InheritedSettings
	// Namespace is the namespace whose groups and rules are the Space's.
	Namespace string
	// Groups and Rules are every live object of the namespace, the ones left
	// out as untrusted included (each has a problem saying so).
	Groups []governorv1alpha1.PermissionGroup
	Rules  []governorv1alpha1.AccessRule
	// Input is what access.Compile compiles.
	Input access.SpaceInput
	// Problems are what the loader could not apply (spec.inheritFrom, objects
	// older than the Space); the compile's own problems come from
	// access.Compile.
	Problems []access.Problem
}

// Reasons of the loader's problems.
const (
	ReasonInheritLoop           = "InheritLoop"
	ReasonInheritSourceNotFound = "InheritSourceNotFound"
	// ReasonCreatedBeforeSpace: an object already in the namespace before
	// the Space was created, left out unless spec.adoptExistingObjects.
	ReasonCreatedBeforeSpace = "CreatedBeforeSpace"
)

// NotFoundError is a Space that does not exist.
type NotFoundError struct{ Name string }

func (e *NotFoundError) Error() string { return fmt.Sprintf("Space %q not found", e.Name) }

// NotOwnedError is a Space whose status says it does not own its namespace
// (condition NamespaceOwned=False): it has no access model.
type NotOwnedError struct {
	Name, Namespace, Reason, Message string
}

func (e *NotOwnedError) Error() string {
	return fmt.Sprintf("Space %q does not own namespace %s (%s: %s): it has no access model", e.Name, e.Namespace, e.Reason, e.Message)
}

// NotOwned returns a *NotOwnedError when the Space's status says it does not
// own its namespace, else nil. A Space without the condition (manifests, or
// one the operator has not reconciled yet) is not refused here; the operator
// compiles only Spaces whose NamespaceOwned is True.
func NotOwned(space *governorv1alpha1.Space) error {
	c := meta.FindStatusCondition(space.Status.Conditions, governorv1alpha1.ConditionNamespaceOwned)
	if c == nil || c.Status == metav1.ConditionTrue {
		return nil
	}
	return &NotOwnedError{Name: space.Name, Namespace: space.TargetNamespace(), Reason: c.Reason, Message: c.Message}
}

// Load reads the named Space and its objects from r and makes the engine's
// input, with one rule for each question every caller must answer alike:
//
//   - namespace: the Space's groups and rules are those of
//     Space.TargetNamespace() (spec.namespace, else the Space's name);
//   - inheritance: spec.inheritFrom copies sourceControl and sso from that
//     Space where the Space leaves them unset; a Space inheriting from
//     itself, or from a Space that does not exist, compiles with its own
//     settings and the loader reports a problem on spec.inheritFrom.
//
// r is the operator's cache, a client of the API server, or Objects read
// from manifests. opts are added to the List calls (the operator passes
// client.UnsafeDisableDeepCopy: the lists are only read). A Space that does
// not exist is a *NotFoundError; one whose status says it does not own its
// namespace is a *NotOwnedError (see NotOwned).
//
//   - trust: groups and rules created before the Space (creationTimestamp
//     strictly earlier) are left out, each with a CreatedBeforeSpace
//     problem, unless the Space sets spec.adoptExistingObjects or its status
//     says it readopted them (a deleted Space of the same name governed them).
func Load(ctx context.Context, r client.Reader, name string, opts ...client.ListOption) (*Loaded, error) {
	space := &governorv1alpha1.Space{}
	if err := r.Get(ctx, client.ObjectKey{Name: name}, space); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, &NotFoundError{Name: name}
		}
		return nil, fmt.Errorf("getting Space %s: %w", name, err)
	}
	if err := NotOwned(space); err != nil {
		return nil, err
	}
	l := &Loaded{Space: space, Effective: space, Namespace: space.TargetNamespace()}
	switch from := space.Spec.InheritFrom; from {
	case "":
	case space.Name:
		l.problem(ReasonInheritLoop, "a Space cannot inherit from itself")
	default:
		source := &governorv1alpha1.Space{}
		err := r.Get(ctx, client.ObjectKey{Name: from}, source)
		switch {
		case apierrors.IsNotFound(err):
			l.problem(ReasonInheritSourceNotFound, "Space %q does not exist (yet): compiled with this Space's own settings", from)
		case err != nil:
			return nil, fmt.Errorf("getting Space %s (spec.inheritFrom of %s): %w", from, name, err)
		default:
			l.Source = source
			l.Effective, l.Inherited = InheritSettings(space, source)
		}
	}
	var groups governorv1alpha1.PermissionGroupList
	if err := r.List(ctx, &groups, append([]client.ListOption{client.InNamespace(l.Namespace)}, opts...)...); err != nil {
		return nil, fmt.Errorf("listing PermissionGroups in namespace %s: %w", l.Namespace, err)
	}
	var rules governorv1alpha1.AccessRuleList
	if err := r.List(ctx, &rules, append([]client.ListOption{client.InNamespace(l.Namespace)}, opts...)...); err != nil {
		return nil, fmt.Errorf("listing AccessRules in namespace %s: %w", l.Namespace, err)
	}
	// Objects being deleted are no longer part of the model: the platform's
	// instances let go of them before their finalizers are removed.
	l.Groups, l.Rules = live(groups.Items), live(rules.Items)
	l.Input = Input(l.Effective, trusted(l, l.Groups, "PermissionGroup"), trusted(l, l.Rules, "AccessRule"))
	return l, nil
}

// trusted returns the objects the Space trusts, recording a problem for
// each of the others.
func trusted[T any, P interface {
	*T
	metav1.Object
}](l *Loaded, items []T, kind string) []T {
	if l.Space.Spec.AdoptExistingObjects || l.Space.Status.Readopted {
		return items
	}
	out := make([]T, 0, len(items))
	for i := range items {
		if !l.untrusted(P(&items[i]), kind) {
			out = append(out, items[i])
		}
	}
	return out
}

// untrusted reports (and records a problem for) an object created before the Space.
func (l *Loaded) untrusted(o metav1.Object, kind string) bool {
	created, spaceCreated := o.GetCreationTimestamp(), l.Space.CreationTimestamp
	if created.IsZero() || spaceCreated.IsZero() || !created.Before(&spaceCreated) {
		return false
	}
	l.Problems = append(l.Problems, access.Problem{
		Object: access.ObjectRef{Kind: kind, Name: o.GetName()}, Field: "metadata.creationTimestamp", Reason: ReasonCreatedBeforeSpace,
		Message: fmt.Sprintf("created (%s) before Space %s (%s): objects already in namespace %s before the Space are not trusted; recreate it, or set spec.adoptExistingObjects on the Space",
			created.UTC().Format("2006-01-02T15:04:05Z"), l.Space.Name, spaceCreated.UTC().Format("2006-01-02T15:04:05Z"), l.Namespace),
	})
	return true
}

// Compile compiles the loaded input; the problems are the loader's and the
// compile's, sorted as access.Compile sorts them.
func (l *Loaded) Compile() (*access.Snapshot, []access.Problem) {
	snap, problems := access.Compile(l.Input)
	all := append(append([]access.Problem(nil), l.Problems...), problems...)
	sort.SliceStable(all, func(i, j int) bool {
		a, b := all[i].Object, all[j].Object
		return a.Kind < b.Kind || (a.Kind == b.Kind && a.Name < b.Name)
	})
	return snap, all
}

func (l *Loaded) problem(reason, format string, args ...any) {
	l.Problems = append(l.Problems, access.Problem{
		Object: access.ObjectRef{Kind: "Space", Name: l.Space.Name}, Field: "spec.inheritFrom",
		Reason: reason, Message: fmt.Sprintf(format, args...),
	})
}

// InheritSettings is space with sourceControl and sso copied from source
// where space leaves them unset (Inherit), and what was copied (the Space's
// status.inherited).
func InheritSettings(space, source *governorv1alpha1.Space) (*governorv1alpha1.Space, *governorv1alpha1.InheritedSettings) {
	eff := Inherit(space, source)
	inherited := &governorv1alpha1.InheritedSettings{From: source.Name}
	if space.Spec.SourceControl == nil {
		inherited.SourceControl = eff.Spec.SourceControl
	}
	switch {
	case space.Spec.SSO == nil:
		inherited.SSO = eff.Spec.SSO
	case space.Spec.SSO.Provider == nil && eff.Spec.SSO.Provider != nil:
		inherited.SSO = &governorv1alpha1.SSO{Provider: eff.Spec.SSO.Provider}
	}
	return eff, inherited
}

// live drops the objects being deleted, in place.
func live[T any, P interface {
	*T
	GetDeletionTimestamp() *metav1.Time
}](items []T) []T {
	out := items[:0]
	for i := range items {
		if P(&items[i]).GetDeletionTimestamp() == nil {
			out = append(out, items[i])
		}
	}
	return out
}

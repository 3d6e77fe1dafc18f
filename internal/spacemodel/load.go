package spacemodel

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
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
	Groups    []governorv1alpha1.PermissionGroup
	Rules     []governorv1alpha1.AccessRule
	// Input is what access.Compile compiles.
	Input access.SpaceInput
	// Problems are what the loader could not apply (spec.inheritFrom); the
	// compile's own problems come from access.Compile.
	Problems []access.Problem
}

// Reasons of the loader's problems.
const (
	ReasonInheritLoop           = "InheritLoop"
	ReasonInheritSourceNotFound = "InheritSourceNotFound"
)

// NotFoundError is a Space that does not exist.
type NotFoundError struct{ Name string }

func (e *NotFoundError) Error() string { return fmt.Sprintf("Space %q not found", e.Name) }

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
// not exist is a *NotFoundError.
func Load(ctx context.Context, r client.Reader, name string, opts ...client.ListOption) (*Loaded, error) {
	space := &governorv1alpha1.Space{}
	if err := r.Get(ctx, client.ObjectKey{Name: name}, space); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, &NotFoundError{Name: name}
		}
		return nil, fmt.Errorf("getting Space %s: %w", name, err)
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
			l.Effective, l.Inherited = inherit(space, source)
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
	l.Input = Input(l.Effective, l.Groups, l.Rules)
	return l, nil
}

// Compile compiles the loaded input; the problems are the loader's and the
// compile's, sorted as access.Compile sorts them.
func (l *Loaded) Compile() (*access.Snapshot, []access.Problem) {
	snap, problems := access.Compile(l.Input)
	return snap, append(append([]access.Problem(nil), l.Problems...), problems...)
}

func (l *Loaded) problem(reason, format string, args ...any) {
	l.Problems = append(l.Problems, access.Problem{
		Object: access.ObjectRef{Kind: "Space", Name: l.Space.Name}, Field: "spec.inheritFrom",
		Reason: reason, Message: fmt.Sprintf(format, args...),
	})
}

// inherit is space with sourceControl and sso copied from source where
// space leaves them unset, and what was copied.
func inherit(space, source *governorv1alpha1.Space) (*governorv1alpha1.Space, *governorv1alpha1.InheritedSettings) {
	eff := Inherit(space, source)
	inherited := &governorv1alpha1.InheritedSettings{From: source.Name}
	if space.Spec.SourceControl == nil {
		inherited.SourceControl = eff.Spec.SourceControl
	}
	if space.Spec.SSO == nil {
		inherited.SSO = eff.Spec.SSO
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

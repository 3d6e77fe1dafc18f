package controller

import (
	"context"
	"strconv"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
)

// Cache field indexes, so that map functions find related objects without
// listing everything.
const (
	// indexSpaceNamespace: a Space by the namespace it governs.
	indexSpaceNamespace = "spec.namespace"
	// indexSpaceInheritFrom: a Space by the Space it inherits from.
	indexSpaceInheritFrom = "spec.inheritFrom"
	// indexSpaceAdmin: Spaces by spec.admin ("true" only).
	indexSpaceAdmin = "spec.admin"
	// indexSpaceSecret: Spaces by the Secrets (in Governor's namespace) they read.
	indexSpaceSecret = "spec.secrets"
	// indexReleaseApp: a Release by its app.
	indexReleaseApp = "spec.app"
	// indexGroupBuiltin: a PermissionGroup by its builtin role.
	indexGroupBuiltin = "spec.builtin"
)

func setupIndexes(ctx context.Context, mgr manager.Manager) error {
	idx := mgr.GetFieldIndexer()
	space := func(f func(*governorv1alpha1.Space) []string) client.IndexerFunc {
		return func(o client.Object) []string { return f(o.(*governorv1alpha1.Space)) }
	}
	if err := idx.IndexField(ctx, &governorv1alpha1.Space{}, indexSpaceNamespace, space(func(s *governorv1alpha1.Space) []string {
		return []string{s.TargetNamespace()}
	})); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, &governorv1alpha1.Space{}, indexSpaceInheritFrom, space(func(s *governorv1alpha1.Space) []string {
		if s.Spec.InheritFrom == "" {
			return nil
		}
		return []string{s.Spec.InheritFrom}
	})); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, &governorv1alpha1.Space{}, indexSpaceSecret, space(secretsOf)); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, &governorv1alpha1.Space{}, indexSpaceAdmin, space(func(s *governorv1alpha1.Space) []string {
		if !s.Spec.Admin {
			return nil
		}
		return []string{strconv.FormatBool(true)}
	})); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, &governorv1alpha1.Release{}, indexReleaseApp, func(o client.Object) []string {
		return []string{o.(*governorv1alpha1.Release).Spec.App}
	}); err != nil {
		return err
	}
	return idx.IndexField(ctx, &governorv1alpha1.PermissionGroup{}, indexGroupBuiltin, func(o client.Object) []string {
		if b := o.(*governorv1alpha1.PermissionGroup).Spec.Builtin; b != "" {
			return []string{string(b)}
		}
		return nil
	})
}

// spaceForNamespace returns the Space governing a namespace, or nil: the
// one that owns it (NamespaceOwned), else the oldest that claims it (whose
// status says whether it owns it yet).
func spaceForNamespace(ctx context.Context, c client.Reader, namespace string) (*governorv1alpha1.Space, error) {
	var spaces governorv1alpha1.SpaceList
	if err := c.List(ctx, &spaces, client.MatchingFields{indexSpaceNamespace: namespace}); err != nil {
		return nil, err
	}
	var owner *governorv1alpha1.Space
	for i := range spaces.Items {
		s := &spaces.Items[i]
		if owner == nil || (ownsNamespace(s) && !ownsNamespace(owner)) || (ownsNamespace(s) == ownsNamespace(owner) && older(s, owner)) {
			owner = s
		}
	}
	return owner, nil
}

// older orders objects by creation, then name, so conflicts resolve the same way on every replica.
func older(a, b client.Object) bool {
	ta, tb := a.GetCreationTimestamp(), b.GetCreationTimestamp()
	if !ta.Equal(&tb) {
		return ta.Before(&tb)
	}
	return a.GetName() < b.GetName()
}

// secretsOf lists the Secrets a Space reads: its instances' tokens and its
// source control credentials.
func secretsOf(s *governorv1alpha1.Space) []string {
	var out []string
	for _, e := range s.Spec.Environments {
		if e.Instance != nil {
			out = append(out, e.Instance.TokenSecretRef.Name)
		}
	}
	if sc := s.Spec.SourceControl; sc != nil && sc.CredentialsSecretRef != nil {
		out = append(out, sc.CredentialsSecretRef.Name)
	}
	if sso := s.EffectiveSSO(); sso != nil && sso.Provider != nil {
		out = append(out, sso.Provider.SecretRef.Name)
	}
	return out
}

// adminSpaces lists the Spaces that say they are the admin Space.
func adminSpaces(ctx context.Context, c client.Reader) ([]governorv1alpha1.Space, error) {
	var admins governorv1alpha1.SpaceList
	if err := c.List(ctx, &admins, client.MatchingFields{indexSpaceAdmin: "true"}); err != nil {
		return nil, err
	}
	return admins.Items, nil
}

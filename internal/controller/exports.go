package controller

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
)

// What the platform controllers (internal/controller/platform) share with
// the others.

// IndexSpaceSecret is the cache index of Spaces by the Secrets they name.
const IndexSpaceSecret = indexSpaceSecret

// OwnsNamespace reports whether the Space owns the namespace it governs.
func OwnsNamespace(space *governorv1alpha1.Space) bool { return ownsNamespace(space) }

// SpaceRequestsForNamespace are the requests of the Spaces governing namespace.
func SpaceRequestsForNamespace(ctx context.Context, c client.Reader, namespace string) []reconcile.Request {
	return spaceRequestsForNamespace(ctx, c, namespace)
}

// SpaceRequests are the requests of spaces.
func SpaceRequests(spaces []governorv1alpha1.Space) []reconcile.Request { return spaceRequests(spaces) }

// DeletionPredicate passes creations, deletions and updates that start a deletion.
func DeletionPredicate() predicate.Predicate { return deletionPredicate() }

// AdminSpaces lists the Spaces that say they are the admin Space.
func AdminSpaces(ctx context.Context, c client.Reader) ([]governorv1alpha1.Space, error) {
	return adminSpaces(ctx, c)
}

// InstanceEnvironments are the Space's environments with an instance.
func InstanceEnvironments(space *governorv1alpha1.Space) []governorv1alpha1.Environment {
	return instanceEnvironments(space)
}

func instanceEnvironments(space *governorv1alpha1.Space) []governorv1alpha1.Environment {
	var out []governorv1alpha1.Environment
	for _, e := range space.Spec.Environments {
		if e.Instance != nil {
			out = append(out, e)
		}
	}
	return out
}

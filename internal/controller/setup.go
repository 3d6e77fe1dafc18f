// Package controller holds Governor's reconcilers: the Space's provisioning,
// the access model every replica compiles, the per-object reports of what
// CEL cannot check, and release ordering.
package controller

import (
	"context"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/governor-dev/governor/internal/gitref"
)

// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;list;watch;create;update;patch;delete

// SetupWithManager registers every controller and the cache indexes they use.
func SetupWithManager(mgr ctrl.Manager, models *Models, platform PlatformOptions, tenancy TenancyOptions) error {
	if err := setupIndexes(context.Background(), mgr); err != nil {
		return err
	}
	if tenancy.OwnNamespace == "" {
		tenancy.OwnNamespace = platform.Namespace
	}
	tenancy.Limits.defaults()
	c := mgr.GetClient()
	if err := (&ModelReconciler{Client: c, Models: models, Limits: tenancy.Limits}).SetupWithManager(mgr); err != nil {
		return err
	}
	platform.defaults()
	space := &SpaceReconciler{Client: c, APIReader: mgr.GetAPIReader(), Models: models, Recorder: mgr.GetEventRecorder("governor-space"),
		Tenancy: tenancy, TokenGrace: platform.TokenGrace}
	if err := space.SetupWithManager(mgr); err != nil {
		return err
	}
	groupAdmins := NewGroupAdminBindings()
	if platform.Expressibility == nil {
		platform.Expressibility = NewPlatformExpressibility()
	}
	for _, kind := range []string{kindPermissionGroup, kindAccessRule} {
		r := &ModelObjectReconciler{Client: c, APIReader: mgr.GetAPIReader(), Models: models, GroupAdmins: groupAdmins,
			Expressibility: platform.Expressibility, Kind: kind, Recorder: mgr.GetEventRecorder("governor-" + kind)}
		if err := r.SetupWithManager(mgr); err != nil {
			return err
		}
	}
	if err := (&GroupAdminReconciler{Client: c, Bindings: groupAdmins, Models: models}).SetupWithManager(mgr); err != nil {
		return err
	}
	releases := &ReleaseReconciler{Client: c, Recorder: mgr.GetEventRecorder("governor-release"), Namespace: platform.Namespace,
		// A listing lasts half a resync at most, so that every resync sees moved branches.
		Resolver: gitref.NewResolver(gitref.Options{CacheTTL: min(30*time.Second, platform.Resync/2)}), Resync: platform.Resync}
	if platform.Namespace != "" {
		// One budget per instance for the sync and the releases; the platform
		// sync is registered by internal/controller/platform.
		releases.Connections = platform.Connections
		if releases.Connections == nil {
			releases.Connections = NewConnections(c, platform)
		}
	}
	return releases.SetupWithManager(mgr)
}

// Package operator assembles Governor's controller manager: the scheme, the
// controllers, health and metrics endpoints and leader election. `governor
// manager` runs it against a cluster; `governor dev` runs it in-process
// against a local control plane.
package operator

import (
	"context"
	"fmt"
	"net/http"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/controller"
	platformcontroller "github.com/governor-dev/governor/internal/controller/platform"
	"github.com/governor-dev/governor/internal/decisionapi"
)

// Options configure the manager.
type Options struct {
	// MetricsAddr serves Prometheus metrics ("0" disables them).
	MetricsAddr string
	// SecureMetrics serves metrics over HTTPS behind TokenReview and
	// SubjectAccessReview, as controller-runtime's filters do.
	SecureMetrics bool
	// ProbeAddr serves /healthz and /readyz ("0" disables them).
	ProbeAddr string
	// PprofAddr serves Go's /debug/pprof ("" or "0" disables it).
	PprofAddr string
	// LeaderElect elects one writer among replicas; every replica still keeps
	// the compiled access models current.
	LeaderElect bool
	// LeaderElectionNamespace holds the lease (defaults to the pod's namespace).
	LeaderElectionNamespace string
	// APIAddr serves the decision API over HTTPS ("" disables it).
	APIAddr string
	// APICertDir holds the API's tls.crt and tls.key; empty: self-signed.
	APICertDir string
	// APIDNSNames are added to the self-signed certificate's names (the
	// Service's: <svc>, <svc>.<ns>, <svc>.<ns>.svc, <svc>.<ns>.svc.cluster.local).
	APIDNSNames []string
	// APIAuth tunes the API's authentication: token audiences, the budget of
	// failed authentications per client address.
	APIAuth decisionapi.AuthOptions
	// ModelMaxLag is how long a Space's change may wait to be compiled before
	// /readyz fails (default 30s; negative: no bound). /readyz also fails
	// until every Space has been compiled once since start.
	ModelMaxLag time.Duration
	// OnAPIListening, when set, is called with the API's bound address.
	OnAPIListening func(addr string)
	// Platform configures the sync of Spaces into their instances; it runs
	// when Platform.Namespace (Governor's own namespace, holding the
	// instances' token Secrets) is set.
	Platform controller.PlatformOptions
	// SkipNameValidation lets one process start the operator again (tests
	// that stop it in the middle of a sync).
	SkipNameValidation bool
	// Tenancy bounds what a Space may claim (protected namespaces) and hold
	// (per-Space limits).
	Tenancy controller.TenancyOptions
}

var managedByGovernor = labels.SelectorFromSet(labels.Set{governorv1alpha1.LabelManagedBy: governorv1alpha1.ManagedByGovernor})

// Scheme returns the scheme the operator reads and writes with.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(governorv1alpha1.AddToScheme(s))
	return s
}

// Run runs the operator until ctx ends. The access models it compiles are
// published to models, which answers checks.
func Run(ctx context.Context, cfg *rest.Config, opts Options, models *controller.Models) error {
	metrics := metricsserver.Options{BindAddress: opts.MetricsAddr}
	if opts.SecureMetrics {
		metrics.SecureServing = true
		metrics.FilterProvider = filters.WithAuthenticationAndAuthorization
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                        Scheme(),
		Metrics:                       metrics,
		HealthProbeBindAddress:        opts.ProbeAddr,
		PprofBindAddress:              opts.PprofAddr,
		LeaderElection:                opts.LeaderElect,
		LeaderElectionID:              "governor.governor.dev",
		LeaderElectionNamespace:       opts.LeaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
		Cache:                         cacheOptions(opts),
		// Tests start the operator more than once in one process.
		Controller: config.Controller{SkipNameValidation: ptr.To(opts.SkipNameValidation)},
	})
	if err != nil {
		return fmt.Errorf("creating the manager: %w", err)
	}
	if opts.Platform.Expressibility == nil {
		// The platform sync's verdicts on rules, written by the rules' object reconciler.
		opts.Platform.Expressibility = controller.NewPlatformExpressibility()
	}
	if opts.Platform.Namespace != "" && opts.Platform.Connections == nil {
		// One request budget per instance for the platform sync and releases.
		opts.Platform.Connections = controller.NewConnections(mgr.GetClient(), opts.Platform)
	}
	if err := controller.SetupWithManager(mgr, models, opts.Platform, opts.Tenancy); err != nil {
		return err
	}
	if err := platformcontroller.SetupWithManager(mgr, models, opts.Platform); err != nil {
		return err
	}
	if opts.APIAddr != "" {
		if err := addDecisionAPI(ctx, mgr, opts, models); err != nil {
			return err
		}
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("readyz", readyz(mgr, models, opts.ModelMaxLag)); err != nil {
		return err
	}
	return mgr.Start(ctx)
}

// readyz fails until the caches are synced and every Space in them has been
// compiled once since start, and while a Space's change waits longer than
// maxLag to be compiled: a replica in that state would answer from stale
// models, so it leaves the Service until it catches up.
func readyz(mgr ctrl.Manager, models *controller.Models, maxLag time.Duration) healthz.Checker {
	if maxLag == 0 {
		maxLag = 30 * time.Second
	}
	return func(req *http.Request) error {
		if !mgr.GetCache().WaitForCacheSync(req.Context()) {
			return fmt.Errorf("informer caches not synced")
		}
		var spaces governorv1alpha1.SpaceList
		if err := mgr.GetCache().List(req.Context(), &spaces); err != nil {
			return err
		}
		names := make([]string, 0, len(spaces.Items))
		for i := range spaces.Items {
			names = append(names, spaces.Items[i].Name)
		}
		return models.Ready(names, maxLag)
	}
}

// cacheOptions narrows the cache to what Governor reads: only the RBAC
// objects Governor creates, only the Secrets of Governor's own namespace (its
// Role allows no more), and no object's managedFields or last-applied
// annotation (a large Space's groups carry more of those than of spec).
func cacheOptions(opts Options) cache.Options {
	// Kinds Governor writes with Update keep the annotation: an Update
	// without it would remove it from the object, and with it kubectl
	// apply's memory of what it set.
	updated := stripUnread(false)
	policy := fields.OneTermEqualSelector("metadata.name", controller.GroupAdminPolicy)
	by := map[client.Object]cache.ByObject{
		&rbacv1.Role{}:            {Label: managedByGovernor, Transform: updated},
		&rbacv1.RoleBinding{}:     {Label: managedByGovernor, Transform: updated},
		&governorv1alpha1.Space{}: {Transform: updated},
		// The group admins' admission policy and its binding: by name, the
		// only two such objects the operator may read.
		&admissionv1.ValidatingAdmissionPolicy{}:        {Field: policy},
		&admissionv1.ValidatingAdmissionPolicyBinding{}: {Field: policy},
	}
	if ns := opts.Platform.Namespace; ns != "" {
		by[&corev1.Secret{}] = cache.ByObject{Namespaces: map[string]cache.Config{ns: {}}}
	}
	return cache.Options{ByObject: by, DefaultTransform: stripUnread(true)}
}

// stripUnread drops managedFields (and, with lastApplied, the
// kubectl.kubernetes.io/last-applied-configuration annotation) from objects
// entering the cache. Only Patch and status writes are made from the
// stripped objects, and a patch computed from two copies of one never
// mentions what neither holds.
func stripUnread(lastApplied bool) toolscache.TransformFunc {
	return func(in any) (any, error) {
		obj, ok := in.(metav1.Object)
		if !ok {
			return in, nil // a tombstone: left as it is
		}
		obj.SetManagedFields(nil)
		if a := obj.GetAnnotations(); lastApplied && a != nil {
			if _, ok := a[corev1.LastAppliedConfigAnnotation]; ok {
				delete(a, corev1.LastAppliedConfigAnnotation)
				if len(a) == 0 {
					obj.SetAnnotations(nil)
				}
			}
		}
		return in, nil
	}
}

// addDecisionAPI serves the decision API from models on every replica.
func addDecisionAPI(ctx context.Context, mgr ctrl.Manager, opts Options, models *controller.Models) error {
	auth, err := decisionapi.NewDelegating(mgr.GetConfig(), opts.APIAuth)
	if err != nil {
		return err
	}
	log := mgr.GetLogger().WithName("decision-api")
	srv, err := decisionapi.NewServer(models, auth, log)
	if err != nil {
		return err
	}
	ln := decisionapi.NewListener(decisionapi.ServeOptions{Addr: opts.APIAddr, CertDir: opts.APICertDir, DNSNames: opts.APIDNSNames}, srv, log)
	if opts.OnAPIListening != nil {
		go func() {
			if addr, err := ln.Addr(ctx); err == nil {
				opts.OnAPIListening(addr.String())
			}
		}()
	}
	return mgr.Add(ln)
}

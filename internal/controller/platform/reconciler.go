// Package platform holds the platform controllers: they make every
// environment's instance hold its Space's compiled access model (leader
// only). A Space-level controller keeps finalizers, deletion and the
// Space's PlatformSynced current and queues environments; an environment
// controller runs one environment's pass (internal/platform/syncer) at a
// time, each environment on its own, and publishes its result as soon as
// its pass ends.
package platform

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/controller"
	"github.com/governor-dev/governor/internal/platform/retool"
	"github.com/governor-dev/governor/internal/platform/syncer"
)

// +kubebuilder:rbac:groups=governor.dev,resources=spaces,verbs=get;list;watch;update
// +kubebuilder:rbac:groups=governor.dev,resources=spaces/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=governor.dev,resources=permissiongroups;accessrules,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=governor.dev,resources=permissiongroups/finalizers;accessrules/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;create;patch,namespace=governor-system

// EnvKey names one environment of a Space: the environment controller's
// request.
type EnvKey struct{ Space, Env string }

func (k EnvKey) String() string { return k.Space + "/" + k.Env }

// Reconciler is the platform sync.
type Reconciler struct {
	Client client.Client
	// APIReader reads the records (ConfigMaps are not cached).
	APIReader   client.Reader
	Models      *controller.Models
	Recorder    events.EventRecorder
	Options     controller.PlatformOptions
	Connections *controller.Connections

	mu       sync.Mutex
	spaces   map[string]*spaceState
	envQueue workqueue.TypedRateLimitingInterface[EnvKey]
	queueSet chan struct{}
}

// SetupWithManager registers the platform controllers.
func SetupWithManager(mgr ctrl.Manager, models *controller.Models, opts controller.PlatformOptions) error {
	opts = opts.WithDefaults()
	if opts.Namespace == "" {
		return nil
	}
	conns := opts.Connections
	if conns == nil {
		conns = controller.NewConnections(mgr.GetClient(), opts)
	}
	r := &Reconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Models: models, Recorder: mgr.GetEventRecorder("governor-platform"),
		Options: opts, Connections: conns}
	return r.SetupWithManager(mgr)
}

// SetupWithManager registers the Space-level and environment controllers:
// a Space is looked at when its model's revision changes, its spec
// changes, a group or rule is deleted or a token Secret changes; each of
// its environments is then synced, and again every resync period.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.queueSet = make(chan struct{})
	toSpace := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
		return controller.SpaceRequestsForNamespace(ctx, r.Client, o.GetNamespace())
	})
	bySecret := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
		if o.GetNamespace() != r.Options.Namespace {
			return nil
		}
		var spaces governorv1alpha1.SpaceList
		if err := r.Client.List(ctx, &spaces, client.MatchingFields{controller.IndexSpaceSecret: o.GetName()}); err != nil {
			return nil
		}
		return controller.SpaceRequests(spaces.Items)
	})
	err := ctrl.NewControllerManagedBy(mgr).
		Named("platform").
		For(&governorv1alpha1.Space{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, controller.DeletionPredicate()))).
		Watches(&governorv1alpha1.PermissionGroup{}, toSpace, builder.WithPredicates(controller.DeletionPredicate())).
		Watches(&governorv1alpha1.AccessRule{}, toSpace, builder.WithPredicates(controller.DeletionPredicate())).
		Watches(&corev1.Secret{}, bySecret).
		WatchesRawSource(r.Models.Source(func(c controller.ModelChange) []reconcile.Request {
			return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: c.Space}}}
		})).
		Complete(controller.RetryConflicts(reconcile.Func(r.Reconcile)))
	if err != nil {
		return err
	}
	// The environments' queue: a key per Space and environment, so that an
	// instance that hangs holds one worker and delays no other environment.
	return builder.TypedControllerManagedBy[EnvKey](mgr).
		Named("platform-environment").
		WatchesRawSource(source.TypedFunc[EnvKey](func(_ context.Context, q workqueue.TypedRateLimitingInterface[EnvKey]) error {
			r.mu.Lock()
			defer r.mu.Unlock()
			if r.envQueue == nil {
				r.envQueue = q
				close(r.queueSet)
			}
			return nil
		})).
		WithOptions(ctrlOptions()).
		Complete(controller.RetryConflicts(reconcile.TypedFunc[EnvKey](r.ReconcileEnvironment)))
}

// enqueue queues a pass of each of the Space's environments.
func (r *Reconciler) enqueue(ctx context.Context, space *governorv1alpha1.Space) {
	select {
	case <-r.queueSet:
	case <-ctx.Done():
		return
	}
	for _, env := range controllerEnvNames(space) {
		r.envQueue.Add(EnvKey{Space: space.Name, Env: env})
	}
}

// Reconcile keeps a Space's finalizers, deletion and PlatformSynced, and
// queues its environments' passes.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	space := &governorv1alpha1.Space{}
	if err := r.Client.Get(ctx, req.NamespacedName, space); err != nil {
		if client.IgnoreNotFound(err) == nil {
			r.forget(req.Name)
		}
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if !space.DeletionTimestamp.IsZero() {
		return r.finalizeSpace(ctx, space)
	}
	if !controller.OwnsNamespace(space) {
		// No model, nothing to sync: a Space that does not own its namespace
		// never writes to an instance, nor touches the objects there (they
		// are the owning Space's). Its model's arrival brings it back.
		return reconcile.Result{}, nil
	}
	if r.Models.Refused(space.Name) != nil {
		// Over a limit: nothing is synced, and nothing deleted waits for it.
		return reconcile.Result{}, r.releaseFinalizers(ctx, space.TargetNamespace(), true)
	}
	envs := controllerEnvNames(space)
	r.state(space.Name).dropEnvironments(envs)
	if len(envs) == 0 {
		return reconcile.Result{}, r.noInstances(ctx, space)
	}
	if controllerutil.AddFinalizer(space, governorv1alpha1.PlatformFinalizer) {
		if err := r.Client.Update(ctx, space); err != nil {
			return reconcile.Result{}, err
		}
	}
	if r.Models.Get(space.Name) == nil {
		return reconcile.Result{RequeueAfter: time.Second}, nil // the model controller compiles it first
	}
	objs, err := r.loadObjects(ctx, space.TargetNamespace())
	if err != nil {
		return reconcile.Result{}, err
	}
	if err := objs.addFinalizers(ctx, r.Client); err != nil {
		return reconcile.Result{}, err
	}
	// A new revision makes PlatformSynced False (Syncing) at once.
	if err := r.publish(ctx, space); err != nil {
		return reconcile.Result{}, err
	}
	if err := r.releaseDeleted(ctx, space, objs); err != nil {
		return reconcile.Result{}, err
	}
	r.enqueue(ctx, space)
	return reconcile.Result{}, nil
}

// noInstances clears what an earlier configuration reported, and lets the
// Space's groups and rules go without waiting for instances it no longer has.
func (r *Reconciler) noInstances(ctx context.Context, space *governorv1alpha1.Space) error {
	var rules map[string]int64
	if m := r.Models.Get(space.Name); m != nil {
		rules = m.RuleGenerations()
	}
	r.Options.Expressibility.Forget(space.Name, space.TargetNamespace(), rules)
	if err := r.releaseFinalizers(ctx, space.TargetNamespace(), false); err != nil {
		return err
	}
	if controllerutil.RemoveFinalizer(space, governorv1alpha1.PlatformFinalizer) {
		if err := r.Client.Update(ctx, space); err != nil {
			return err
		}
	}
	return applyPlatformStatus(ctx, r.Client, space, nil, nil)
}

// finalizeSpace follows spec.platform.deletionPolicy in every instance
// (outside Observe mode, which deletes nothing) and lets the Space go; an unreachable instance is given up on after a bounded
// number of attempts, with an event naming what was left behind.
func (r *Reconciler) finalizeSpace(ctx context.Context, space *governorv1alpha1.Space) (reconcile.Result, error) {
	if !controllerutil.ContainsFinalizer(space, governorv1alpha1.PlatformFinalizer) {
		return reconcile.Result{}, nil
	}
	policy := governorv1alpha1.DeletionRetain
	if space.Spec.Platform != nil && space.Spec.Platform.DeletionPolicy != "" {
		policy = space.Spec.Platform.DeletionPolicy
	}
	var failed []string
	if policy == governorv1alpha1.DeletionDelete && space.Observing() {
		r.Recorder.Eventf(space, nil, corev1.EventTypeNormal, "PlatformRetained", "Delete",
			"deletionPolicy Delete is not followed in Observe mode, which writes nothing: the Space is left in its instances")
	}
	if policy == governorv1alpha1.DeletionDelete && !space.Observing() {
		for _, env := range controller.InstanceEnvironments(space) {
			remove := r.deleteSpace
			if space.Spec.Admin {
				// The admin Space stays in the instance: what Governor
				// configured in it goes.
				remove = r.deleteSSO
			}
			if err := remove(ctx, space, env); err != nil {
				failed = append(failed, fmt.Sprintf("%s (%v)", env.Name, err))
			}
		}
	}
	st := r.state(space.Name)
	if len(failed) > 0 {
		st.mu.Lock()
		st.failures[""]++
		tries := st.failures[""]
		st.mu.Unlock()
		if tries < r.Options.DeletionAttempts {
			return reconcile.Result{RequeueAfter: syncer.DefaultWait}, nil
		}
		r.Recorder.Eventf(space, nil, corev1.EventTypeWarning, "PlatformLeftBehind", "Delete",
			"gave up deleting the Space in: %s; delete it there by hand", strings.Join(failed, ", "))
	}
	// The instances have let go of the Space (deletionPolicy): its groups and
	// rules no longer wait for them, so that its namespace can go too.
	if err := r.releaseFinalizers(ctx, space.TargetNamespace(), false); err != nil {
		return reconcile.Result{}, err
	}
	controllerutil.RemoveFinalizer(space, governorv1alpha1.PlatformFinalizer)
	if err := client.IgnoreNotFound(r.Client.Update(ctx, space)); err != nil {
		return reconcile.Result{}, err
	}
	r.forget(space.Name)
	r.Options.Expressibility.Forget(space.Name, space.TargetNamespace(), nil)
	return reconcile.Result{}, nil
}

// deleteSpace deletes the Space's child Space in env's instance, through
// the admin Space.
func (r *Reconciler) deleteSpace(ctx context.Context, space *governorv1alpha1.Space, env governorv1alpha1.Environment) error {
	rec := r.state(space.Name).recordFor(env.Name)
	if err := rec.load(ctx, r.APIReader, r.Options.Namespace, space.Name, env.Name); err != nil {
		return err
	}
	_, id := rec.snapshot()
	if id == "" {
		if st := findStatus(space.Status.Platform, env.Name); st != nil {
			id = st.SpaceID
		}
	}
	if id == "" {
		return nil
	}
	admin, adminEnv, err := r.adminEnvironment(ctx, env.Name)
	if err != nil || admin == nil {
		return err
	}
	conn, err := r.Connections.Connect(ctx, admin, *adminEnv)
	if err != nil {
		return err
	}
	if err := conn.Client.DeleteSpace(ctx, id); err != nil && !retool.IsNotFound(err) {
		return err
	}
	return nil
}

// deleteSSO removes the SSO configuration of the Space in env's instance
// when Governor wrote it (its record holds a digest), or in Authoritative
// mode.
func (r *Reconciler) deleteSSO(ctx context.Context, space *governorv1alpha1.Space, env governorv1alpha1.Environment) error {
	rec := r.state(space.Name).recordFor(env.Name)
	if err := rec.load(ctx, r.APIReader, r.Options.Namespace, space.Name, env.Name); err != nil {
		return err
	}
	recorded, _ := rec.snapshot()
	if recorded.SSODigest == "" && space.EffectivePlatformMode() != governorv1alpha1.PlatformAuthoritative {
		return nil
	}
	conn, err := r.Connections.Connect(ctx, space, env)
	if err != nil {
		return err
	}
	if err := conn.Client.DeleteSSOConfig(ctx); err != nil && !retool.IsNotFound(err) {
		return err
	}
	rec.apply(syncer.Effect{Kind: syncer.SSODeleted})
	return nil
}

// adminEnvironment is the sole admin Space and its environment named env
// with an instance (nil when there is none, or while two Spaces claim to
// be the admin Space: the Space controller stalls the younger).
func (r *Reconciler) adminEnvironment(ctx context.Context, env string) (*governorv1alpha1.Space, *governorv1alpha1.Environment, error) {
	admins, err := controller.AdminSpaces(ctx, r.Client)
	if err != nil {
		return nil, nil, syncer.Retry(syncer.ReasonAPIServerError, fmt.Errorf("listing admin Spaces: %w", err))
	}
	if len(admins) != 1 {
		return nil, nil, nil
	}
	admin := &admins[0]
	for i := range admin.Spec.Environments {
		if e := &admin.Spec.Environments[i]; e.Name == env && e.Instance != nil {
			return admin, e, nil
		}
	}
	return nil, nil, nil
}

package controller

import (
	"context"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/gitref"
)

// ReleaseReconciler orders each app's releases by semantic version (the
// highest Published one is Live), resolves each release's ref against its
// Space's repository, publishes the live release to the Space's writable
// instance (AwaitingMerge until the branch the platform pushed for it is
// merged into the default branch), and reports the version each
// environment's users get.
type ReleaseReconciler struct {
	client.Client
	Recorder events.EventRecorder
	// Namespace is Governor's own namespace, holding the repositories'
	// credentials Secrets ("": none can be read).
	Namespace string
	// Resolver resolves refs; one for the operator, so that its listing cache
	// serves every Release of a repository.
	Resolver *gitref.Resolver
	// Connections reach the Spaces' instances within their request budgets
	// (nil: nothing is published nor observed).
	Connections *Connections
	// Resync is how often a release is looked at again: a branch
	// re-resolved, the environments' live versions read (default 10m).
	Resync time.Duration

	apps appsCache
	// created remembers the publications this process made (by Release
	// UID) until their status is read back: a pass on a cache that does not
	// show the status write yet must not create the release a second time.
	created sync.Map
}

// +kubebuilder:rbac:groups=governor.dev,resources=releases,verbs=get;list;watch
// +kubebuilder:rbac:groups=governor.dev,resources=releases/status,verbs=get;update;patch

// Reconcile sets one release's phase among its app's releases, its commit,
// its publication and where it is live.
func (r *ReleaseReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	rel := &governorv1alpha1.Release{}
	if err := r.Get(ctx, req.NamespacedName, rel); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if rel.Status.Published != nil {
		r.created.Delete(rel.UID) // the status holds it now
	}
	if !rel.DeletionTimestamp.IsZero() {
		return reconcile.Result{}, nil
	}
	var siblings governorv1alpha1.ReleaseList
	if err := r.List(ctx, &siblings, client.InNamespace(rel.Namespace), client.MatchingFields{indexReleaseApp: rel.Spec.App}); err != nil {
		return reconcile.Result{}, err
	}
	before := rel.DeepCopy()
	order := orderReleases(siblings.Items)
	phase, ok := order.phases[rel.Name]
	if !ok { // not yet in the cache's list: judge it alone
		phase = orderReleases([]governorv1alpha1.Release{*rel}).phases[rel.Name]
	}
	rel.Status.Phase = phase
	rel.Status.ObservedGeneration = rel.Generation
	out, after := r.evaluate(ctx, rel, phase, order)
	setConditions(&rel.Status.Conditions, rel.Generation, out)
	if !equality.Semantic.DeepEqual(before.Status, rel.Status) {
		// Optimistic lock: a stale read must not overwrite a publication.
		if err := r.Status().Patch(ctx, rel, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
			return reconcile.Result{}, client.IgnoreNotFound(err)
		}
		recordTransition(r.Recorder, rel, before.Status.Conditions, rel.Status.Conditions)
	}
	return reconcile.Result{RequeueAfter: after}, nil
}

// evaluate resolves, publishes and observes, and returns the outcome and
// when to look again.
func (r *ReleaseReconciler) evaluate(ctx context.Context, rel *governorv1alpha1.Release, phase governorv1alpha1.ReleasePhase,
	order releaseOrder) (outcome, time.Duration) {
	if phase == governorv1alpha1.PhaseFailed {
		return releaseOutcome(rel, phase, order), 0
	}
	space, err := spaceForNamespace(ctx, r.Client, rel.Namespace)
	if err != nil {
		return reconciling("Retrying", "%v", err), r.retry()
	}
	if space == nil { // a Space's creation enqueues its releases
		return stalled("NoSpace", "no Space governs namespace %s: a Release belongs to a Space's namespace", rel.Namespace), 0
	}
	res, resolveErr := r.resolve(ctx, space, rel)
	if resolveErr == nil {
		r.recordResolution(rel, res)
	}
	pub, platformErr := r.platform(ctx, space, rel, phase, resolveErr == nil)
	if phase == governorv1alpha1.PhaseLive && awaitingMerge(rel.Status.Published) {
		rel.Status.Phase = governorv1alpha1.PhaseAwaitingMerge // also while the repository cannot be read
	}
	for _, err := range []error{resolveErr, platformErr} {
		if err != nil {
			out, _ := classify(err)
			if out.state == stateReconciling {
				return out, r.retry()
			}
			return out, r.resync() // the repository or the instance may change without an event
		}
	}
	if pub.awaitingMerge {
		p := rel.Status.Published
		return reconciling("AwaitingMerge", "%s %s is created in the %s instance and awaits the merge of its pull request: branch %s (commit %s) into %s: %s",
			rel.Spec.App, rel.Spec.Version, p.Environment, p.Branch, shortSHA(p.Commit), mergeTarget(space.EffectiveSourceControl()), p.PullRequestURL), r.mergePoll()
	}
	out := releaseOutcome(rel, phase, order)
	if pub.note != "" {
		out.message += "; " + pub.note
	}
	return out, r.resync()
}

// awaitingMerge reports whether a publication's branch is yet to be merged.
func awaitingMerge(p *governorv1alpha1.ReleasePublication) bool {
	return p != nil && !p.Adopted && p.Commit != "" && p.MergedTime == nil
}

// mergePoll is how often a release awaiting the merge of its branch looks
// at the repository (one listing, shared by the repository's releases).
func (r *ReleaseReconciler) mergePoll() time.Duration { return min(time.Minute, r.resync()) }

func (r *ReleaseReconciler) resync() time.Duration {
	if r.Resync > 0 {
		return r.Resync
	}
	return 10 * time.Minute
}

// retry is when a release that failed for a passing reason is tried again.
func (r *ReleaseReconciler) retry() time.Duration { return min(retryDelay, r.resync()) }

// releaseOutcome explains a phase.
func releaseOutcome(rel *governorv1alpha1.Release, phase governorv1alpha1.ReleasePhase, order releaseOrder) outcome {
	switch phase {
	case governorv1alpha1.PhaseLive:
		return ready("Live", "%s %s is the live release%s", rel.Spec.App, rel.Spec.Version, atCommit(rel))
	case governorv1alpha1.PhaseSuperseded:
		return ready("Superseded", "%s %s is live%s", rel.Spec.App, order.live.Spec.Version, atCommit(rel))
	case governorv1alpha1.PhaseDraft:
		return ready("Draft", "a draft%s: set spec.state to Published to release it", atCommit(rel))
	}
	if first, ok := order.duplicateOf[rel.Name]; ok {
		return stalled("DuplicateVersion", "spec.version: %s %s is already released by Release %s", rel.Spec.App, rel.Spec.Version, first)
	}
	return stalled("InvalidVersion", "spec.version: %q is not a semantic version", rel.Spec.Version)
}

func atCommit(rel *governorv1alpha1.Release) string {
	if rel.Status.ShortCommit == "" {
		return ""
	}
	return " (" + rel.Spec.Ref + " at " + rel.Status.ShortCommit + ")"
}

// SetupWithManager registers the controller: any release of an app
// re-evaluates all of that app's releases; a Space's repository, instances
// or credentials Secret re-evaluate its releases.
func (r *ReleaseReconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.apps.ttl = min(30*time.Second, r.resync()/2) // fresh at every resync
	b := ctrl.NewControllerManagedBy(mgr).
		Named("release").
		For(&governorv1alpha1.Release{}).
		Watches(&governorv1alpha1.Release{}, handler.EnqueueRequestsFromMapFunc(r.siblings)).
		Watches(&governorv1alpha1.Space{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
			return r.releasesOf(ctx, o.(*governorv1alpha1.Space))
		}), builder.WithPredicates(spaceSourceChanged())).
		WithOptions(controller.Options{MaxConcurrentReconciles: 4})
	if r.Namespace != "" {
		b = b.Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.bySecret))
	}
	return b.Complete(RetryConflicts[reconcile.Request](r))
}

func (r *ReleaseReconciler) siblings(ctx context.Context, o client.Object) []reconcile.Request {
	rel := o.(*governorv1alpha1.Release)
	var list governorv1alpha1.ReleaseList
	if err := r.List(ctx, &list, client.InNamespace(rel.Namespace), client.MatchingFields{indexReleaseApp: rel.Spec.App}); err != nil {
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		if list.Items[i].Name != rel.Name {
			reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: rel.Namespace, Name: list.Items[i].Name}})
		}
	}
	return reqs
}

// releasesOf lists the requests of every release in a Space's namespace.
func (r *ReleaseReconciler) releasesOf(ctx context.Context, space *governorv1alpha1.Space) []reconcile.Request {
	var list governorv1alpha1.ReleaseList
	if err := r.List(ctx, &list, client.InNamespace(space.TargetNamespace())); err != nil {
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	return reqs
}

// bySecret maps a Secret of Governor's namespace to the releases of the
// Spaces it authenticates: to their repository (own or inherited) or to an
// environment's instance.
func (r *ReleaseReconciler) bySecret(ctx context.Context, o client.Object) []reconcile.Request {
	if o.GetNamespace() != r.Namespace {
		return nil
	}
	var spaces governorv1alpha1.SpaceList
	if err := r.List(ctx, &spaces); err != nil {
		return nil
	}
	var reqs []reconcile.Request
	for i := range spaces.Items {
		space := &spaces.Items[i]
		names := secretsOf(space)
		if sc := space.EffectiveSourceControl(); sc != nil && sc.CredentialsSecretRef != nil {
			names = append(names, sc.CredentialsSecretRef.Name)
		}
		if slices.Contains(names, o.GetName()) {
			reqs = append(reqs, r.releasesOf(ctx, space)...)
		}
	}
	return reqs
}

// spaceSourceChanged passes a Space's creation, deletion, and the updates
// that change what its releases resolve against or publish to.
func spaceSourceChanged() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc: func(event.CreateEvent) bool { return true },
		DeleteFunc: func(event.DeleteEvent) bool { return true },
		UpdateFunc: func(e event.UpdateEvent) bool {
			a, b := e.ObjectOld.(*governorv1alpha1.Space), e.ObjectNew.(*governorv1alpha1.Space)
			return a.Generation != b.Generation || !equality.Semantic.DeepEqual(a.EffectiveSourceControl(), b.EffectiveSourceControl())
		},
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}

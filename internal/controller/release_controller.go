package controller

import (
	"context"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
)

// ReleaseReconciler orders each app's releases by semantic version and
// publishes every release's phase: the highest Published one is Live.
// Resolving spec.ref to a commit comes with source control; until then
// status.commit stays empty and no condition claims the ref was checked.
type ReleaseReconciler struct {
	client.Client
	Recorder events.EventRecorder
}

// +kubebuilder:rbac:groups=governor.dev,resources=releases,verbs=get;list;watch
// +kubebuilder:rbac:groups=governor.dev,resources=releases/status,verbs=get;update;patch

// Reconcile sets one release's phase among its app's releases.
func (r *ReleaseReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	rel := &governorv1alpha1.Release{}
	if err := r.Get(ctx, req.NamespacedName, rel); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
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
	setConditions(&rel.Status.Conditions, rel.Generation, releaseOutcome(rel, phase, order))
	if equality.Semantic.DeepEqual(before.Status, rel.Status) {
		return reconcile.Result{}, nil
	}
	if err := r.Status().Patch(ctx, rel, client.MergeFrom(before)); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	recordTransition(r.Recorder, rel, before.Status.Conditions, rel.Status.Conditions)
	return reconcile.Result{}, nil
}

// releaseOutcome explains a phase.
func releaseOutcome(rel *governorv1alpha1.Release, phase governorv1alpha1.ReleasePhase, order releaseOrder) outcome {
	switch phase {
	case governorv1alpha1.PhaseLive:
		return ready("Live", "%s %s is the live release", rel.Spec.App, rel.Spec.Version)
	case governorv1alpha1.PhaseSuperseded:
		return ready("Superseded", "%s %s is live", rel.Spec.App, order.live.Spec.Version)
	case governorv1alpha1.PhaseDraft:
		return ready("Draft", "a draft: set spec.state to Published to release it")
	}
	if first, ok := order.duplicateOf[rel.Name]; ok {
		return stalled("DuplicateVersion", "spec.version: %s %s is already released by Release %s", rel.Spec.App, rel.Spec.Version, first)
	}
	return stalled("InvalidVersion", "spec.version: %q is not a semantic version", rel.Spec.Version)
}

// SetupWithManager registers the controller: any release of an app
// re-evaluates all of that app's releases.
func (r *ReleaseReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("release").
		For(&governorv1alpha1.Release{}).
		Watches(&governorv1alpha1.Release{}, handler.EnqueueRequestsFromMapFunc(r.siblings)).
		Complete(r)
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

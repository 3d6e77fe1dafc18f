package controller

import (
	"context"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/access"
)

// ModelObjectReconciler reports, on each PermissionGroup or AccessRule, what
// CEL cannot check: that a Space governs its namespace and that the compiled
// model took it in (the referenced group exists, its environments exist, no
// second group has its builtin). The Space compiles; this only reads the
// compiled model's problems. One reconciler serves both kinds.
type ModelObjectReconciler struct {
	client.Client
	Models   *Models
	Recorder events.EventRecorder
	// Kind is PermissionGroup or AccessRule.
	Kind string
}

// +kubebuilder:rbac:groups=governor.dev,resources=permissiongroups/status;accessrules/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=governor.dev,resources=accessrules,verbs=get;list;watch

func (r *ModelObjectReconciler) newObject() modelObject {
	if r.Kind == kindPermissionGroup {
		return &governorv1alpha1.PermissionGroup{}
	}
	return &governorv1alpha1.AccessRule{}
}

// modelObject is a PermissionGroup or an AccessRule, as this reconciler
// reads and writes it.
type modelObject interface {
	client.Object
	governorv1alpha1.Conditioned
	SetSpace(string)
}

// Reconcile reports one object's standing in its Space's model.
func (r *ModelObjectReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	obj := r.newObject()
	if err := r.Get(ctx, req.NamespacedName, obj); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	before := obj.DeepCopyObject().(modelObject)
	out, err := r.outcome(ctx, obj)
	if err != nil {
		reconcileErrors.WithLabelValues(r.Kind, "transient").Inc()
		return reconcile.Result{}, err
	}
	if out.state == stateReconciling {
		// Not compiled yet: the compile's notification brings this object
		// back. Writing "Compiling" first would double the status writes of
		// every change; meanwhile status.observedGeneration < generation
		// already tells kstatus and Argo CD that it is in progress.
		return reconcile.Result{}, nil
	}
	obj.SetObservedGeneration(obj.GetGeneration())
	conds := obj.GetConditions()
	setConditions(&conds, obj.GetGeneration(), out)
	obj.SetConditions(conds)
	expiryChange := reconcile.Result{RequeueAfter: setExpiryStatus(obj, r.Models.now())}
	if equality.Semantic.DeepEqual(before, obj) { // status unchanged: no write
		return expiryChange, nil
	}
	// Locked: the conditions list is replaced whole, and the group admins'
	// reconciler writes GroupAdminsBound into the same list.
	if err := r.Status().Patch(ctx, obj, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
		if apierrors.IsConflict(err) {
			return reconcile.Result{RequeueAfter: 200 * time.Millisecond}, nil
		}
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	recordTransition(r.Recorder, obj, before.GetConditions(), obj.GetConditions())
	recordExpired(r.Recorder, obj, expiredOf(before), expiredOf(obj))
	return expiryChange, nil
}

func (r *ModelObjectReconciler) outcome(ctx context.Context, obj modelObject) (outcome, error) {
	space, err := spaceForNamespace(ctx, r.Client, obj.GetNamespace())
	if err != nil {
		return outcome{}, err
	}
	if space == nil {
		obj.SetSpace("")
		return stalled("NotGoverned", "metadata.namespace: no Space governs namespace %s; create a Space with spec.namespace: %s", obj.GetNamespace(), obj.GetNamespace()), nil
	}
	obj.SetSpace(space.Name)
	if c := meta.FindStatusCondition(space.Status.Conditions, governorv1alpha1.ConditionNamespaceOwned); c != nil && c.Status != metav1.ConditionTrue {
		return stalled("NotGoverned", "metadata.namespace: Space %s claims namespace %s but does not own it (%s), so nothing here is in an access model", space.Name, obj.GetNamespace(), c.Message), nil
	}
	model := r.Models.Get(space.Name)
	ref := ObjectRef{Kind: r.Kind, Name: obj.GetName()}
	if model == nil || model.Generations[ref] != obj.GetGeneration() {
		return reconciling("Compiling", "waiting for Space %s to compile this generation", space.Name), nil
	}
	if problems := model.Problems[ref]; len(problems) > 0 {
		return stalled(problems[0].Reason, "%s", problemMessage(problems)), nil
	}
	if msg := expiredRuleMessage(obj, space.Name, r.Models.now()); msg != "" {
		return ready("Expired", "%s", msg), nil
	}
	return ready("Compiled", "in the access model of Space %s", space.Name), nil
}

// problemMessage joins an object's problems, each naming its field.
func problemMessage(problems []access.Problem) string {
	msgs := make([]string, 0, len(problems))
	for _, p := range problems {
		msgs = append(msgs, p.Field+": "+p.Message)
	}
	return strings.Join(msgs, "; ")
}

// SetupWithManager registers the reconciler for its kind.
func (r *ModelObjectReconciler) SetupWithManager(mgr ctrl.Manager) error {
	kind := r.Kind
	return ctrl.NewControllerManagedBy(mgr).
		Named(strings.ToLower(kind)).
		For(r.newObject(), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		// A Space appearing, going or moving changes whether the namespace is governed.
		Watches(&governorv1alpha1.Space{}, handler.EnqueueRequestsFromMapFunc(r.objectsInSpaceNamespace),
			builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, deletionPredicate()))).
		// A compile that changed this object's standing.
		WatchesRawSource(r.Models.Source(func(c ModelChange) []reconcile.Request {
			var reqs []reconcile.Request
			for _, o := range c.Objects {
				if o.Kind == kind {
					reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: c.Namespace, Name: o.Name}})
				}
			}
			return reqs
		})).
		Complete(r)
}

func (r *ModelObjectReconciler) objectsInSpaceNamespace(ctx context.Context, o client.Object) []reconcile.Request {
	space := o.(*governorv1alpha1.Space)
	ns := space.TargetNamespace()
	var names []string
	if r.Kind == kindPermissionGroup {
		var list governorv1alpha1.PermissionGroupList
		if err := r.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return nil
		}
		for i := range list.Items {
			names = append(names, list.Items[i].Name)
		}
	} else {
		var list governorv1alpha1.AccessRuleList
		if err := r.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return nil
		}
		for i := range list.Items {
			names = append(names, list.Items[i].Name)
		}
	}
	reqs := make([]reconcile.Request, 0, len(names))
	for _, n := range names {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: ns, Name: n}})
	}
	return reqs
}

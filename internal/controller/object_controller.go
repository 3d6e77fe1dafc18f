package controller

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
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
// compiled model's problems. One reconciler serves both kinds, and it is the
// one writer of their status (all of it but status.platform): a group's
// GroupAdminsBound comes from the group admin controller through
// GroupAdminBindings, so that each change costs one status write.
type ModelObjectReconciler struct {
	client.Client
	// APIReader confirms, before a rule is reported GroupNotFound, that its
	// group is not merely on its way to the cache.
	APIReader client.Reader
	Models    *Models
	// GroupAdmins holds the group admin controller's GroupAdminsBound.
	GroupAdmins *GroupAdminBindings
	// Expressibility holds the platform sync's PlatformExpressible of rules.
	Expressibility *PlatformExpressibility
	Recorder       events.EventRecorder
	// held keeps status reports during a Space's bulk load (bulk.go).
	held *bulkHold
	// written is, per object, the resourceVersion of this reconciler's last
	// status write while the cache has not caught up with it.
	written sync.Map
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
	GetSpace() string
}

// cacheLagRecheck is how soon a rule whose group is on its way to the cache
// is looked at again, should no compile bring it back first.
const cacheLagRecheck = 2 * time.Second

// newRuleGrace is how long a new rule's group may take to be created before
// the rule is reported GroupNotFound (creation times are in whole seconds,
// so the wait is up to one second longer).
const newRuleGrace = 3 * time.Second

// Reconcile reports one object's standing in its Space's model.
func (r *ModelObjectReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	obj := r.newObject()
	if err := r.Get(ctx, req.NamespacedName, obj); err != nil {
		if apierrors.IsNotFound(err) {
			r.written.Delete(req.NamespacedName)
		}
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if r.cacheBehindOwnWrite(req, obj) {
		// The cache has not seen this reconciler's last write yet: computed
		// from it, the status would be written again, with new transition
		// times. Look again once it has.
		return reconcile.Result{RequeueAfter: cacheCatchUp}, nil
	}
	before := obj.DeepCopyObject().(modelObject)
	out, governed, err := r.outcome(ctx, obj)
	if err != nil {
		reconcileErrors.WithLabelValues(r.Kind, "transient").Inc()
		return reconcile.Result{}, err
	}
	switch out.state {
	case stateReconciling:
		// Not compiled yet: the compile's notification brings this object
		// back. Writing "Compiling" first would double the status writes of
		// every change; meanwhile status.observedGeneration < generation
		// already tells kstatus and Argo CD that it is in progress.
		return reconcile.Result{}, nil
	case stateStalled:
		lagging, err := r.groupOnItsWay(ctx, obj, out)
		if err != nil {
			return reconcile.Result{}, err
		}
		if lagging {
			return reconcile.Result{RequeueAfter: cacheLagRecheck}, nil
		}
	}
	obj.SetObservedGeneration(obj.GetGeneration())
	conds := obj.GetConditions()
	setConditions(&conds, obj.GetGeneration(), out)
	expiryChange := reconcile.Result{RequeueAfter: setExpiryStatus(obj, r.Models.now())}
	if g, ok := obj.(*governorv1alpha1.PermissionGroup); ok {
		bound, published := r.groupAdminsBound(g, governed)
		if !published {
			return reconcile.Result{}, nil // its publication brings the group back
		}
		if bound == nil {
			meta.RemoveStatusCondition(&conds, governorv1alpha1.ConditionGroupAdminsBound)
		} else {
			meta.SetStatusCondition(&conds, *bound)
		}
	}
	if rule, ok := obj.(*governorv1alpha1.AccessRule); ok {
		// What the platform sync found, for a rule in the model; none
		// before a pass published, or without instances.
		switch c, known := r.Expressibility.condition(rule); {
		case out.state != stateReady || known && c == nil:
			meta.RemoveStatusCondition(&conds, governorv1alpha1.ConditionPlatformExpressible)
		case c != nil:
			meta.SetStatusCondition(&conds, *c)
		}
	}
	obj.SetConditions(conds)
	if r.held != nil && r.held.hold(obj.GetSpace(), req) {
		return reconcile.Result{}, nil // reported once the Space's bulk load is over
	}
	written, err := r.applyStatus(ctx, before, obj)
	if err != nil {
		return reconcile.Result{}, err
	}
	if !written { // unchanged status: no write
		return expiryChange, nil
	}
	r.written.Store(req.NamespacedName, obj.GetResourceVersion())
	recordTransition(r.Recorder, obj, before.GetConditions(), obj.GetConditions())
	recordNotExpressible(r.Recorder, obj, before.GetConditions(), obj.GetConditions())
	recordExpired(r.Recorder, obj, expiredOf(before), expiredOf(obj))
	return expiryChange, nil
}

// cacheCatchUp is how soon an object whose cached copy predates this
// reconciler's own last write is looked at again.
const cacheCatchUp = 200 * time.Millisecond

// cacheBehindOwnWrite reports whether obj, as the cache holds it, is older
// than this reconciler's last status write of it, and forgets that write
// once the cache has caught up.
func (r *ModelObjectReconciler) cacheBehindOwnWrite(req reconcile.Request, obj client.Object) bool {
	v, ok := r.written.Load(req.NamespacedName)
	if !ok {
		return false
	}
	cached, err1 := strconv.ParseUint(obj.GetResourceVersion(), 10, 64)
	wrote, err2 := strconv.ParseUint(v.(string), 10, 64)
	if err1 == nil && err2 == nil && cached < wrote {
		return true
	}
	r.written.Delete(req.NamespacedName) // caught up (or not comparable: trust the cache)
	return false
}

// applyStatus writes the part of the status this reconciler owns (all but
// status.platform, the platform controller's) when it changed.
func (r *ModelObjectReconciler) applyStatus(ctx context.Context, before, after modelObject) (bool, error) {
	switch a := after.(type) {
	case *governorv1alpha1.PermissionGroup:
		return groupStatusOwned.apply(ctx, r.Client, a, &before.(*governorv1alpha1.PermissionGroup).Status, &a.Status)
	case *governorv1alpha1.AccessRule:
		return ruleStatusOwned.apply(ctx, r.Client, a, &before.(*governorv1alpha1.AccessRule).Status, &a.Status)
	}
	return false, nil
}

// groupAdminsBound is the group's GroupAdminsBound condition (nil: none) and
// whether it is known for the group's generation: a governed group with
// group admins waits for the group admin controller's verdict, so that its
// status is written once with it rather than twice.
func (r *ModelObjectReconciler) groupAdminsBound(g *governorv1alpha1.PermissionGroup, governed bool) (*metav1.Condition, bool) {
	if !governed || len(groupAdminSubjects(g)) == 0 || !g.DeletionTimestamp.IsZero() {
		return nil, true // no Space, no group admins: no rights, nothing to say
	}
	return r.GroupAdmins.condition(g)
}

// groupOnItsWay reports whether a rule stalled as GroupNotFound names a
// group that may be about to arrive: one the compile did not read but the
// API server holds (created just before the rule, it has not reached the
// cache yet), or, for a rule created less than newRuleGrace ago, one not
// created yet (`kubectl apply -f dir/` and Argo CD create a directory's
// objects in their own order, rules before their groups). The group's
// arrival recompiles the Space and brings the rule back, Ready, with no
// Stalled write in between.
func (r *ModelObjectReconciler) groupOnItsWay(ctx context.Context, obj modelObject, out outcome) (bool, error) {
	rule, ok := obj.(*governorv1alpha1.AccessRule)
	if !ok || out.reason != access.ReasonGroupNotFound || r.APIReader == nil {
		return false, nil
	}
	model := r.Models.Get(rule.Status.Space)
	if model == nil {
		return false, nil
	}
	if _, compiled := model.Generations[ObjectRef{Kind: kindPermissionGroup, Name: rule.Spec.Group}]; compiled {
		return false, nil // the compile read it, and left it out: a real problem
	}
	group := &metav1.PartialObjectMetadata{}
	group.SetGroupVersionKind(governorv1alpha1.GroupVersion.WithKind(kindPermissionGroup))
	err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: rule.Namespace, Name: rule.Spec.Group}, group)
	if apierrors.IsNotFound(err) {
		return time.Since(rule.CreationTimestamp.Time) < newRuleGrace, nil
	}
	return err == nil && group.DeletionTimestamp.IsZero(), err
}

// outcome is the object's standing, and whether a Space governs it (for
// the group admins' condition).
func (r *ModelObjectReconciler) outcome(ctx context.Context, obj modelObject) (outcome, bool, error) {
	space, err := spaceForNamespace(ctx, r.Client, obj.GetNamespace())
	if err != nil {
		return outcome{}, false, err
	}
	if space == nil {
		obj.SetSpace("")
		return stalled("NotGoverned", "metadata.namespace: no Space governs namespace %s; create a Space with spec.namespace: %s", obj.GetNamespace(), obj.GetNamespace()), false, nil
	}
	obj.SetSpace(space.Name)
	if c := meta.FindStatusCondition(space.Status.Conditions, governorv1alpha1.ConditionNamespaceOwned); c != nil && c.Status != metav1.ConditionTrue {
		return stalled("NotGoverned", "metadata.namespace: Space %s claims namespace %s but does not own it (%s), so nothing here is in an access model", space.Name, obj.GetNamespace(), c.Message), false, nil
	}
	model := r.Models.Get(space.Name)
	ref := ObjectRef{Kind: r.Kind, Name: obj.GetName()}
	if model == nil || model.Generations[ref] != obj.GetGeneration() {
		return reconciling("Compiling", "waiting for Space %s to compile this generation", space.Name), governs(space), nil
	}
	if problems := model.Problems[ref]; len(problems) > 0 {
		return stalled(problems[0].Reason, "%s", problemMessage(problems)), governs(space), nil
	}
	if msg := expiredRuleMessage(obj, space.Name, r.Models.now()); msg != "" {
		return ready("Expired", "%s", msg), governs(space), nil
	}
	return ready("Compiled", "in the access model of Space %s", space.Name), governs(space), nil
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
	r.held = newBulkHold(r.Models)
	b := ctrl.NewControllerManagedBy(mgr).WatchesRawSource(r.held.Source())
	if kind == kindPermissionGroup {
		// The group admin controller's verdict on a group.
		b = b.WatchesRawSource(r.GroupAdmins.Source())
	} else if r.Expressibility != nil {
		// The platform sync's verdict on a rule.
		b = b.WatchesRawSource(r.Expressibility.Source())
	}
	return b.
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
		WithOptions(controller.Options{MaxConcurrentReconciles: objectWorkers}).
		Complete(RetryConflicts[reconcile.Request](r))
}

// objectWorkers write groups' and rules' status in parallel: a bulk load
// makes one write per object, each waiting on the API server.
const objectWorkers = 8

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

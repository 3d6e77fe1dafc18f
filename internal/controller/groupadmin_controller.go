package controller

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"sync"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/access"
)

// GroupAdminReconciler gives a group's group admins (members with
// groupAdmin: true, as Kubernetes users named by their email) a Role limited
// to that one PermissionGroup by name, while a Space governs the group's
// namespace. What they may change in it (spec.members and nothing else) is
// enforced by the governor-group-admins ValidatingAdmissionPolicy: while that
// policy and its binding are not installed as shipped, group admins get no
// Role at all. It never writes the group's status: it publishes the
// GroupAdminsBound condition to Bindings, and the group's object reconciler
// writes it with the rest of the status (one writer, one write per change).
type GroupAdminReconciler struct {
	client.Client
	Bindings *GroupAdminBindings
	// Models tells a Space's bulk load, during which new groups' rights wait (bulk.go).
	Models *Models
	held   *bulkHold
}

// The operator holds update on permissiongroups only so that it can delegate
// it to group admins (RBAC forbids granting what one does not hold); it never
// writes a group's spec.
// +kubebuilder:rbac:groups=governor.dev,resources=permissiongroups,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=roles,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=validatingadmissionpolicies;validatingadmissionpolicybindings,verbs=get;list;watch,resourceNames=governor-group-admins

// Reconcile keeps one group's admin Role and RoleBinding.
func (r *GroupAdminReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	group := &governorv1alpha1.PermissionGroup{}
	if err := r.Get(ctx, req.NamespacedName, group); err != nil {
		if apierrors.IsNotFound(err) {
			r.Bindings.forget(req.NamespacedName) // owner references remove the Role and binding
		}
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	name := groupAdminObjectName(group.Name)
	admins := groupAdminSubjects(group)
	key := types.NamespacedName{Namespace: group.Namespace, Name: name}
	space, err := spaceForNamespace(ctx, r.Client, group.Namespace)
	if err != nil {
		return reconcile.Result{}, err
	}
	// No rights outside a governed namespace: a Space being deleted takes
	// its group admins' rights with it (and its finalizer waits for that).
	if len(admins) == 0 || !group.DeletionTimestamp.IsZero() || !governs(space) {
		if err := r.revoke(ctx, group, key); err != nil {
			return reconcile.Result{}, err
		}
		r.Bindings.publish(group, governs(space), nil)
		return reconcile.Result{}, nil
	}
	reason, message, err := groupAdminPolicyProblem(ctx, r.Client)
	if err != nil {
		return reconcile.Result{}, err
	}
	if reason != "" {
		if err := r.revoke(ctx, group, key); err != nil {
			return reconcile.Result{}, err
		}
		r.Bindings.publish(group, true, &metav1.Condition{
			Type: governorv1alpha1.ConditionGroupAdminsBound, Status: metav1.ConditionFalse, Reason: reason, Message: message,
		})
		return reconcile.Result{}, nil
	}
	if r.held != nil && r.Models.InBulk(space.Name) {
		// A bulk load: a new group's rights wait for its end (bulk.go);
		// rights that exist are kept up to date at once.
		err := r.Get(ctx, key, &rbacv1.RoleBinding{})
		if client.IgnoreNotFound(err) != nil {
			return reconcile.Result{}, err
		}
		if apierrors.IsNotFound(err) && r.held.hold(space.Name, req) {
			return reconcile.Result{}, nil
		}
	}
	labels := map[string]string{governorv1alpha1.LabelManagedBy: governorv1alpha1.ManagedByGovernor}
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: group.Namespace, Labels: labels},
		Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{governorv1alpha1.GroupVersion.Group}, Resources: []string{"permissiongroups"},
			ResourceNames: []string{group.Name}, Verbs: []string{"get", "update", "patch"},
		}}}
	if err := r.apply(ctx, group, role, func(existing client.Object) bool {
		e := existing.(*rbacv1.Role)
		if equality.Semantic.DeepEqual(e.Rules, role.Rules) {
			return false
		}
		e.Rules = role.Rules
		return true
	}); err != nil {
		return reconcile.Result{}, err
	}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: group.Namespace, Labels: labels},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name},
		Subjects: admins}
	if err := r.apply(ctx, group, binding, func(existing client.Object) bool {
		e := existing.(*rbacv1.RoleBinding)
		if equality.Semantic.DeepEqual(e.Subjects, admins) {
			return false
		}
		e.Subjects = admins
		return true
	}); err != nil {
		return reconcile.Result{}, err
	}
	r.Bindings.publish(group, true, &metav1.Condition{
		Type: governorv1alpha1.ConditionGroupAdminsBound, Status: metav1.ConditionTrue, Reason: ReasonGroupAdminsBound,
		Message: fmt.Sprintf("%d group admin(s) may change spec.members of this group (Role %s)", len(admins), name),
	})
	return reconcile.Result{}, nil
}

// groupAdminSubjects are the group's group admins as RBAC users, by their
// canonical email (access.CanonicalEmail, as the engine compares it; one
// without a canonical form is bound to nothing), sorted.
func groupAdminSubjects(group *governorv1alpha1.PermissionGroup) []rbacv1.Subject {
	var admins []rbacv1.Subject
	for _, m := range group.Spec.Members {
		if email, err := access.CanonicalEmail(m.Email); m.GroupAdmin && err == nil {
			admins = append(admins, rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: email})
		}
	}
	sort.Slice(admins, func(i, j int) bool { return admins[i].Name < admins[j].Name })
	return admins
}

// governs reports whether space governs its namespace now: it owns it and
// is not being deleted.
func governs(space *governorv1alpha1.Space) bool {
	return space != nil && space.DeletionTimestamp.IsZero() && ownsNamespace(space)
}

// revoke deletes the group's admin RoleBinding and Role, when the group controls them.
func (r *GroupAdminReconciler) revoke(ctx context.Context, group *governorv1alpha1.PermissionGroup, key types.NamespacedName) error {
	for _, obj := range []client.Object{&rbacv1.RoleBinding{}, &rbacv1.Role{}} {
		if err := r.Get(ctx, key, obj); err == nil && metav1.IsControlledBy(obj, group) {
			if err := r.Delete(ctx, obj); client.IgnoreNotFound(err) != nil {
				return err
			}
		} else if client.IgnoreNotFound(err) != nil {
			return err
		}
	}
	return nil
}

// apply creates obj owned by the group, or updates the existing one when
// update reports a change (writes only what differs).
func (r *GroupAdminReconciler) apply(ctx context.Context, group *governorv1alpha1.PermissionGroup, obj client.Object, update func(existing client.Object) bool) error {
	existing := obj.DeepCopyObject().(client.Object)
	err := r.Get(ctx, client.ObjectKeyFromObject(obj), existing)
	if apierrors.IsNotFound(err) {
		if err := controllerutil.SetControllerReference(group, obj, r.Scheme()); err != nil {
			return err
		}
		return r.Create(ctx, obj)
	}
	if err != nil {
		return err
	}
	if !update(existing) {
		return nil
	}
	return r.Update(ctx, existing)
}

// groupAdminObjectName names a group's admin Role and RoleBinding, within
// the 253-character limit whatever the group's name.
func groupAdminObjectName(group string) string {
	const prefix = "governor-group-admins-"
	if len(prefix)+len(group) <= 253 {
		return prefix + group
	}
	sum := sha256.Sum256([]byte(group))
	return prefix + group[:200] + "-" + hex.EncodeToString(sum[:])[:16]
}

// SetupWithManager registers the controller.
func (r *GroupAdminReconciler) SetupWithManager(mgr ctrl.Manager) error {
	b := ctrl.NewControllerManagedBy(mgr)
	if r.Models != nil {
		r.held = newBulkHold(r.Models)
		b = b.WatchesRawSource(r.held.Source())
	}
	return b.
		Named("groupadmins").
		For(&governorv1alpha1.PermissionGroup{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Owns(&rbacv1.Role{}).
		Owns(&rbacv1.RoleBinding{}).
		// The policy and its binding appearing, changing or going: every group
		// with group admins gains or loses their Role. The cache watches these
		// two objects by name only (operator.cacheByObject).
		Watches(&admissionv1.ValidatingAdmissionPolicy{}, handler.EnqueueRequestsFromMapFunc(r.groupsWithAdmins)).
		Watches(&admissionv1.ValidatingAdmissionPolicyBinding{}, handler.EnqueueRequestsFromMapFunc(r.groupsWithAdmins)).
		// A Space gaining, losing or giving up its namespace gives or takes
		// its group admins' rights.
		Watches(&governorv1alpha1.Space{}, handler.EnqueueRequestsFromMapFunc(r.groupsWithAdminsInSpace),
			builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, deletionPredicate(), ownershipChanged()))).
		// Eight: after a bulk load each group with admins is two creates,
		// and the group's status waits for them.
		WithOptions(controller.Options{MaxConcurrentReconciles: 8}).
		Complete(RetryConflicts[reconcile.Request](r))
}

func (r *GroupAdminReconciler) groupsWithAdminsInSpace(ctx context.Context, o client.Object) []reconcile.Request {
	return r.listGroupsWithAdmins(ctx, client.InNamespace(o.(*governorv1alpha1.Space).TargetNamespace()))
}

func (r *GroupAdminReconciler) groupsWithAdmins(ctx context.Context, o client.Object) []reconcile.Request {
	if o.GetName() != GroupAdminPolicy {
		return nil
	}
	return r.listGroupsWithAdmins(ctx)
}

func (r *GroupAdminReconciler) listGroupsWithAdmins(ctx context.Context, opts ...client.ListOption) []reconcile.Request {
	var groups governorv1alpha1.PermissionGroupList
	if err := r.List(ctx, &groups, opts...); err != nil {
		log.FromContext(ctx).Error(err, "listing PermissionGroups for the group admins' policy")
		return nil
	}
	var reqs []reconcile.Request
	for i := range groups.Items {
		for _, m := range groups.Items[i].Spec.Members {
			if m.GroupAdmin {
				reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&groups.Items[i])})
				break
			}
		}
	}
	return reqs
}

// GroupAdminBindings is what the group admin controller decided for each
// group: the GroupAdminsBound condition of the group's generation (none when
// it has no group admins or no Space governs it). The group's object
// reconciler writes it into status with everything else, and waits for it
// when the group has group admins, so that a change costs one status write.
// Like Models, it lives in memory and is rebuilt by the first reconcile of
// every group after a start.
type GroupAdminBindings struct {
	mu      sync.RWMutex
	byGroup map[types.NamespacedName]groupAdminBinding
	notify  notifier
}

type groupAdminBinding struct {
	uid        types.UID
	generation int64
	// governed is whether a Space governed the group's namespace when decided.
	governed  bool
	condition *metav1.Condition // nil: no GroupAdminsBound condition
}

// NewGroupAdminBindings returns an empty registry.
func NewGroupAdminBindings() *GroupAdminBindings {
	return &GroupAdminBindings{byGroup: map[types.NamespacedName]groupAdminBinding{}}
}

// condition returns the published GroupAdminsBound of the group's current
// generation in a governed namespace, and false while none is published.
func (b *GroupAdminBindings) condition(group *governorv1alpha1.PermissionGroup) (*metav1.Condition, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	got, ok := b.byGroup[client.ObjectKeyFromObject(group)]
	if !ok || got.uid != group.UID || got.generation != group.Generation || !got.governed {
		return nil, false
	}
	return got.condition, true
}

// publish records the group's condition and, when it changed, tells the
// object reconciler.
func (b *GroupAdminBindings) publish(group *governorv1alpha1.PermissionGroup, governed bool, cond *metav1.Condition) {
	if cond != nil {
		cond.ObservedGeneration = group.Generation
	}
	key := client.ObjectKeyFromObject(group)
	next := groupAdminBinding{uid: group.UID, generation: group.Generation, governed: governed, condition: cond}
	b.mu.Lock()
	prev, ok := b.byGroup[key]
	b.byGroup[key] = next
	b.mu.Unlock()
	if !ok || prev.uid != next.uid || prev.generation != next.generation || prev.governed != next.governed ||
		!equality.Semantic.DeepEqual(prev.condition, next.condition) {
		b.notify.send(reconcile.Request{NamespacedName: key})
	}
}

func (b *GroupAdminBindings) forget(key types.NamespacedName) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.byGroup, key)
}

// Source enqueues a group whose published condition changed.
func (b *GroupAdminBindings) Source() source.Source { return b.notify.source() }

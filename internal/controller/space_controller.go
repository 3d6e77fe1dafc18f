package controller

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/access"
)

// SpaceAdminClusterRole is bound to a Space's spec.admins in its namespace.
const SpaceAdminClusterRole = "governor-space-admin"

// spaceAdminBinding is the RoleBinding Governor keeps in a Space's namespace.
const spaceAdminBinding = "governor-space-admins"

// SpaceReconciler provisions a Space's namespace and admin binding, creates
// its default groups once, resolves inheritFrom, and publishes the compiled
// access model and live releases in status. It runs on the leader.
type SpaceReconciler struct {
	client.Client
	// APIReader reads what the cache does not hold (a RoleBinding Governor
	// did not label); nil falls back to retrying.
	APIReader client.Reader
	Models    *Models
	Recorder  events.EventRecorder
	Tenancy   TenancyOptions
	// TokenGrace is how long a missing token Secret is Reconciling before
	// the Space is Stalled on it (PlatformOptions.TokenGrace).
	TokenGrace time.Duration
}

// +kubebuilder:rbac:groups=governor.dev,resources=spaces,verbs=get;list;watch;update
// +kubebuilder:rbac:groups=governor.dev,resources=spaces/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=governor.dev,resources=spaces/finalizers,verbs=update
// +kubebuilder:rbac:groups=governor.dev,resources=permissiongroups,verbs=get;list;watch;create;delete
// +kubebuilder:rbac:groups=governor.dev,resources=releases,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=rolebindings,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=clusterroles,verbs=bind,resourceNames=governor-space-admin
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile brings one Space to its declared state.
func (r *SpaceReconciler) Reconcile(ctx context.Context, req reconcile.Request) (result reconcile.Result, retErr error) {
	space := &governorv1alpha1.Space{}
	if err := r.Get(ctx, req.NamespacedName, space); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if !space.DeletionTimestamp.IsZero() {
		forgetSpaceConditions(space.Name)
		return r.finalize(ctx, space)
	}
	if controllerutil.AddFinalizer(space, governorv1alpha1.SpaceFinalizer) {
		// Metadata only: the spec is the user's and is never written.
		if err := r.Update(ctx, space); err != nil {
			return reconcile.Result{}, err // a conflict is retried by RetryConflicts
		}
	}

	before := space.DeepCopy()
	defer func() {
		out, requeue := ready("Ready", "%s", readyMessage(space)), false
		if retErr != nil {
			out, requeue = classify(retErr)
			reconcileErrors.WithLabelValues("Space", errorClass(retErr)).Inc()
			result.RequeueAfter = recheckAfter(retErr)
			if !requeue {
				retErr = nil
			}
		}
		space.Status.ObservedGeneration = space.Generation
		setConditions(&space.Status.Conditions, space.Generation, out)
		observeSpaceConditions(space)
		if err := r.patchStatus(ctx, before, space); err != nil && retErr == nil {
			retErr = err
		}
		recordTransition(r.Recorder, space, before.Status.Conditions, space.Status.Conditions)
	}()

	// A phase that waits only for time (the default groups' grace) does not
	// hold back the phases after it; it is the pass's result if they succeed.
	var later error
	for _, phase := range []func(context.Context, *governorv1alpha1.Space) error{
		r.claimNamespace,
		r.reconcileAdminBinding,
		r.reconcileDefaultGroups,
		r.reconcileInheritance,
		r.reconcileReleases,
		r.reconcileAccessModel,
		r.reconcilePlatform,
	} {
		if err := phase(ctx, space); err != nil {
			if w := (*waitingError)(nil); errors.As(err, &w) && w.recheck > 0 && later == nil {
				later = err
				continue
			}
			return reconcile.Result{}, err
		}
	}
	return reconcile.Result{}, later
}

// patchStatus applies the Space controller's part of the status (all but
// status.platform and PlatformSynced, the platform controller's) under the
// governor-space field manager, only when that part changed: a Space at rest
// sees no writes, and neither writer can overwrite the other's fields.
func (r *SpaceReconciler) patchStatus(ctx context.Context, before, after *governorv1alpha1.Space) error {
	_, err := spaceStatusOwned.apply(ctx, r.Client, after, &before.Status, &after.Status)
	return err
}

// claimNamespace decides whether the Space owns its namespace, and records
// it as the NamespaceOwned condition, the one signal the model controller,
// the platform sync and the CLI read: a Space that is a second admin Space,
// names a protected namespace or another Space's, or would adopt objects it
// does not trust, owns nothing and has no access model.
func (r *SpaceReconciler) claimNamespace(ctx context.Context, space *governorv1alpha1.Space) error {
	err := r.checkAdminUniqueness(ctx, space)
	if err == nil {
		err = r.Tenancy.checkProtected(space)
	}
	if err == nil {
		err = r.reconcileNamespace(ctx, space)
	}
	owned := metav1.Condition{
		Type: governorv1alpha1.ConditionNamespaceOwned, ObservedGeneration: space.Generation,
		Status: metav1.ConditionTrue, Reason: reasonNamespaceOwned,
		Message: fmt.Sprintf("namespace %s is governed by this Space", space.TargetNamespace()),
	}
	var s *stalledError
	var w *waitingError
	switch {
	case err == nil:
	case errors.As(err, &s):
		owned.Status, owned.Reason, owned.Message = metav1.ConditionFalse, s.reason, s.message
	case errors.As(err, &w):
		owned.Status, owned.Reason, owned.Message = metav1.ConditionFalse, w.reason, w.message
	default:
		return err // transient: ownership is what it was
	}
	meta.SetStatusCondition(&space.Status.Conditions, owned)
	if err != nil {
		space.Status.Namespace, space.Status.AccessModel = "", nil
	}
	return err
}

// checkAdminUniqueness refuses a second admin Space. Sets: Stalled (AdminConflict).
func (r *SpaceReconciler) checkAdminUniqueness(ctx context.Context, space *governorv1alpha1.Space) error {
	if !space.Spec.Admin {
		return nil
	}
	admins, err := adminSpaces(ctx, r.Client)
	if err != nil {
		return err
	}
	for i := range admins {
		other := &admins[i]
		if other.Name != space.Name && other.DeletionTimestamp.IsZero() && older(other, space) {
			return stall(reasonAdminConflict, "spec.admin: Space %q is already the admin Space; only one Space may be admin", other.Name)
		}
	}
	return nil
}

// reconcileNamespace creates the namespace, or adopts an existing one by
// labelling it. Sets: Stalled (NamespaceConflict) when another Space governs
// it; Stalled (ExistingObjects) when it already holds groups or rules older
// than the Space and the Space does not set spec.adoptExistingObjects.
func (r *SpaceReconciler) reconcileNamespace(ctx context.Context, space *governorv1alpha1.Space) error {
	name := space.TargetNamespace()
	ns := &corev1.Namespace{}
	err := r.Get(ctx, types.NamespacedName{Name: name}, ns)
	switch {
	case apierrors.IsNotFound(err):
		ns = &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
			Name:   name,
			Labels: map[string]string{governorv1alpha1.LabelSpace: space.Name, governorv1alpha1.LabelManagedBy: governorv1alpha1.ManagedByGovernor},
		}}
		// The owner reference marks the namespace as created (not adopted):
		// only such a namespace goes when the Space goes.
		if err := controllerutil.SetOwnerReference(space, ns, r.Scheme()); err != nil {
			return err
		}
		if err := r.Create(ctx, ns); err != nil {
			return err
		}
		r.Recorder.Eventf(space, nil, corev1.EventTypeNormal, "NamespaceCreated", "Provision", "Created namespace %s", name)
	case err != nil:
		return err
	case !ns.DeletionTimestamp.IsZero():
		return wait("NamespaceTerminating", "namespace %s is being deleted; it will be created again once it is gone", name)
	default:
		owner := ns.Labels[governorv1alpha1.LabelSpace]
		if owner != "" && owner != space.Name {
			return stall(reasonNamespaceConflict, "spec.namespace: namespace %s is already governed by Space %q", name, owner)
		}
		// Adopting (not created for this Space, not owned yet): what is
		// already there was written before the Space's admins were chosen.
		if !isOwnedBy(ns, space) && !ownsNamespace(space) {
			readopted, err := r.checkExistingObjects(ctx, space, ns)
			if err != nil {
				return err
			}
			space.Status.Readopted = readopted
		}
		if owner == "" {
			patch := client.MergeFrom(ns.DeepCopy())
			if ns.Labels == nil {
				ns.Labels = map[string]string{}
			}
			ns.Labels[governorv1alpha1.LabelSpace] = space.Name
			delete(ns.Annotations, governorv1alpha1.AnnotationReleasedBy)
			delete(ns.Annotations, governorv1alpha1.AnnotationReleasedAt)
			if space.Status.Readopted {
				// Remembered on the namespace until this Space's status says so.
				if ns.Annotations == nil {
					ns.Annotations = map[string]string{}
				}
				ns.Annotations[governorv1alpha1.AnnotationReadoptedBy] = string(space.UID)
			}
			if err := r.Patch(ctx, ns, patch); err != nil {
				return err
			}
			r.Recorder.Eventf(space, nil, corev1.EventTypeNormal, "NamespaceAdopted", "Provision", "Adopted existing namespace %s", name)
		}
	}
	space.Status.Namespace = name
	return nil
}

// checkExistingObjects refuses to adopt a namespace holding PermissionGroups
// or AccessRules created before the Space, unless spec.adoptExistingObjects.
// When a Space of the same name governed the namespace until its deletion
// (the namespace's released-by and released-at annotations), what was last
// written before that deletion was written under its governance and is
// trusted: deleting a Space and applying it again is not an adoption.
// It reports whether such objects were found and trusted for that reason.
func (r *SpaceReconciler) checkExistingObjects(ctx context.Context, space *governorv1alpha1.Space, namespace *corev1.Namespace) (readopted bool, err error) {
	if space.Spec.AdoptExistingObjects {
		return false, nil
	}
	ns := namespace.Name
	if namespace.Annotations[governorv1alpha1.AnnotationReadoptedBy] == string(space.UID) {
		return true, nil // checked when this Space adopted it
	}
	var governedUntil *metav1.Time
	if namespace.Annotations[governorv1alpha1.AnnotationReleasedBy] == space.Name {
		if at, err := time.Parse(time.RFC3339, namespace.Annotations[governorv1alpha1.AnnotationReleasedAt]); err == nil {
			governedUntil = &metav1.Time{Time: at}
		}
	}
	untrusted := func(obj client.Object) bool {
		if !createdBefore(obj, space) {
			return false
		}
		if governedUntil == nil || lastWritten(obj).After(governedUntil.Time) {
			return true
		}
		readopted = true
		return false
	}
	// The cache holds no managedFields: the times of writes are read live.
	var reader client.Reader = r.Client
	if governedUntil != nil && r.APIReader != nil {
		reader = r.APIReader
	}
	var groups governorv1alpha1.PermissionGroupList
	if err := reader.List(ctx, &groups, client.InNamespace(ns)); err != nil {
		return false, err
	}
	var rules governorv1alpha1.AccessRuleList
	if err := reader.List(ctx, &rules, client.InNamespace(ns)); err != nil {
		return false, err
	}
	var found []string
	for i := range groups.Items {
		if untrusted(&groups.Items[i]) {
			found = append(found, "PermissionGroup "+groups.Items[i].Name)
		}
	}
	for i := range rules.Items {
		if untrusted(&rules.Items[i]) {
			found = append(found, "AccessRule "+rules.Items[i].Name)
		}
	}
	if len(found) == 0 {
		return readopted, nil
	}
	examples := found[:min(len(found), 3)]
	why := "they were written before the Space's admins were chosen"
	if governedUntil != nil {
		why = fmt.Sprintf("they were written, or changed, after Space %s last governed the namespace (%s)", space.Name, governedUntil.UTC().Format(time.RFC3339))
	}
	return false, stall(reasonExistingObjects, "spec.adoptExistingObjects: namespace %s already holds %d object(s) created before this Space (%s): %s; remove them, or set spec.adoptExistingObjects: true to trust them",
		ns, len(found), strings.Join(examples, ", "), why)
}

func createdBefore(obj, space client.Object) bool {
	a, b := obj.GetCreationTimestamp(), space.GetCreationTimestamp()
	return a.Before(&b)
}

// lastWritten is the latest time the API server recorded a change to obj's
// spec: the times of the managed fields entries that own part of it (every
// write moves its manager's time). Status and metadata-only writes (the
// controllers' status, finalizers) are not the access a Space decides on.
func lastWritten(obj client.Object) time.Time {
	last := obj.GetCreationTimestamp().Time
	for _, f := range obj.GetManagedFields() {
		if f.Subresource != "" || f.Time == nil || f.FieldsV1 == nil || !bytes.Contains(f.FieldsV1.GetRawBytes(), []byte(`"f:spec"`)) {
			continue
		}
		if f.Time.After(last) {
			last = f.Time.Time
		}
	}
	return last
}

// reconcileAdminBinding binds spec.admins to governor-space-admin in the
// namespace, and removes the binding when there are none. A RoleBinding of
// that name Governor did not create for this Space is never taken over.
// Sets: Stalled (AdminBindingConflict).
func (r *SpaceReconciler) reconcileAdminBinding(ctx context.Context, space *governorv1alpha1.Space) error {
	key := types.NamespacedName{Namespace: space.TargetNamespace(), Name: spaceAdminBinding}
	existing := &rbacv1.RoleBinding{}
	err := r.Get(ctx, key, existing) // the cache holds only the bindings Governor labels
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	found := err == nil
	if found && !metav1.IsControlledBy(existing, space) && !labelledFor(existing, space) {
		return bindingConflict(key)
	}
	if len(space.Spec.Admins) == 0 {
		if found {
			return client.IgnoreNotFound(r.Delete(ctx, existing))
		}
		return nil
	}
	subjects := make([]rbacv1.Subject, 0, len(space.Spec.Admins))
	for _, a := range space.Spec.Admins {
		subjects = append(subjects, a.RBACSubject())
	}
	roleRef := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: SpaceAdminClusterRole}
	if found && existing.RoleRef != roleRef { // roleRef is immutable: replace the binding
		if err := r.Delete(ctx, existing); client.IgnoreNotFound(err) != nil {
			return err
		}
	}
	// Created, or repaired: subjects, labels and a missing owner reference
	// (a binding this Space labelled whose reference was removed).
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: key.Name, Namespace: key.Namespace}}
	op, err := controllerutil.CreateOrPatch(ctx, r.Client, binding, func() error {
		if binding.Labels == nil {
			binding.Labels = map[string]string{}
		}
		binding.Labels[governorv1alpha1.LabelManagedBy] = governorv1alpha1.ManagedByGovernor
		binding.Labels[governorv1alpha1.LabelSpace] = space.Name
		binding.Subjects = subjects
		if binding.CreationTimestamp.IsZero() {
			binding.RoleRef = roleRef
		}
		return controllerutil.SetControllerReference(space, binding, r.Scheme())
	})
	if apierrors.IsAlreadyExists(err) && r.APIReader != nil {
		// Not in the cache: not labelled by Governor, or not seen yet.
		if err := r.APIReader.Get(ctx, key, existing); err != nil {
			return err
		}
		if !metav1.IsControlledBy(existing, space) {
			return bindingConflict(key)
		}
		return wait("Provisioning", "waiting for RoleBinding %s/%s to reach the cache", key.Namespace, key.Name)
	}
	if err != nil {
		return err
	}
	if op == controllerutil.OperationResultCreated {
		r.Recorder.Eventf(space, nil, corev1.EventTypeNormal, "AdminsBound", "Provision", "Bound %d Space admin(s) to %s in %s", len(subjects), SpaceAdminClusterRole, key.Namespace)
	}
	return nil
}

// labelledFor reports whether a binding carries the labels Governor puts on
// the Space's own (it is in the cache only then).
func labelledFor(b *rbacv1.RoleBinding, space *governorv1alpha1.Space) bool {
	return b.Labels[governorv1alpha1.LabelManagedBy] == governorv1alpha1.ManagedByGovernor && b.Labels[governorv1alpha1.LabelSpace] == space.Name &&
		metav1.GetControllerOf(b) == nil
}

// bindingRecheck is how often a foreign RoleBinding is looked at again: the
// cache holds only the bindings Governor labels, so its removal is not seen.
const bindingRecheck = 30 * time.Second

func bindingConflict(key types.NamespacedName) error {
	return stallRecheck(bindingRecheck, reasonBindingConflict, "spec.admins: RoleBinding %s/%s exists and was not created by this Space; Governor does not take it over: remove or rename it", key.Namespace, key.Name)
}

// defaultGroups are created once per Space (spec.defaultGroups, default true).
var defaultGroups = []struct {
	name    string
	display string
	builtin governorv1alpha1.BuiltinRole
}{
	{"all-users", "All users", governorv1alpha1.BuiltinAllUsers},
	{"viewer", "Viewer", governorv1alpha1.BuiltinViewer},
	{"editor", "Editor", governorv1alpha1.BuiltinEditor},
	{"admin", "Admin", governorv1alpha1.BuiltinAdmin},
}

// defaultGroupsGrace is how long after a Space's creation its default
// groups are created: long enough for the `kubectl apply` or Argo CD sync
// that created the Space to create the groups it declares with it, so that
// Governor neither races those creates (AlreadyExists) nor makes a second
// group of a builtin.
const defaultGroupsGrace = 5 * time.Second

// reconcileDefaultGroups creates the default groups once, skipping any
// builtin a group already has, and never touches them afterwards. They are
// created under the governor-space field manager and without an owner
// reference: a later `kubectl apply` (client- or server-side) or Argo CD
// sync of a group of the same name adopts it, and it then stays when the
// Space goes (finalize). Sets: Reconciling (DefaultGroupsPending) during the
// grace.
func (r *SpaceReconciler) reconcileDefaultGroups(ctx context.Context, space *governorv1alpha1.Space) error {
	if space.Status.DefaultGroupsCreated || (space.Spec.DefaultGroups != nil && !*space.Spec.DefaultGroups) {
		return nil
	}
	ns := space.TargetNamespace()
	if left := defaultGroupsGrace - time.Since(space.CreationTimestamp.Time); left > 0 {
		return waitUntil(left, "DefaultGroupsPending", "creating the default groups in %s once the groups applied with the Space are in", ns)
	}
	created := 0
	for _, d := range defaultGroups {
		var existing governorv1alpha1.PermissionGroupList
		if err := r.List(ctx, &existing, client.InNamespace(ns), client.MatchingFields{indexGroupBuiltin: string(d.builtin)}); err != nil {
			return err
		}
		if len(existing.Items) > 0 {
			continue
		}
		group := &governorv1alpha1.PermissionGroup{
			ObjectMeta: metav1.ObjectMeta{Name: d.name, Namespace: ns, Labels: map[string]string{
				governorv1alpha1.LabelManagedBy: governorv1alpha1.ManagedByGovernor,
			}},
			Spec: governorv1alpha1.PermissionGroupSpec{DisplayName: d.display, Builtin: d.builtin},
		}
		// Created, never applied: should a group of that name appear
		// meanwhile, it is the user's and is left as it is.
		err := r.Create(ctx, group, client.FieldOwner(fieldManagerSpace))
		if apierrors.IsAlreadyExists(err) {
			continue
		}
		if err != nil {
			return err
		}
		created++
	}
	if created > 0 {
		r.Recorder.Eventf(space, nil, corev1.EventTypeNormal, "DefaultGroupsCreated", "Provision", "Created %d default group(s) in %s", created, ns)
	}
	space.Status.DefaultGroupsCreated = true
	return nil
}

// reconcileInheritance reports what spec.inheritFrom supplies. Sets:
// Reconciling (InheritSourceNotFound) while the source Space does not exist.
func (r *SpaceReconciler) reconcileInheritance(ctx context.Context, space *governorv1alpha1.Space) error {
	if space.Spec.InheritFrom == "" {
		space.Status.Inherited = nil
		return nil
	}
	if space.Spec.InheritFrom == space.Name {
		return stall("InheritLoop", "spec.inheritFrom: a Space cannot inherit from itself")
	}
	source := &governorv1alpha1.Space{}
	if err := r.Get(ctx, types.NamespacedName{Name: space.Spec.InheritFrom}, source); err != nil {
		if apierrors.IsNotFound(err) {
			space.Status.Inherited = nil
			return wait("InheritSourceNotFound", "spec.inheritFrom: Space %q does not exist (yet)", space.Spec.InheritFrom)
		}
		return err
	}
	_, inherited := effectiveSpace(space, source)
	space.Status.Inherited = inherited
	return nil
}

// reconcileReleases publishes each app's live release.
func (r *SpaceReconciler) reconcileReleases(ctx context.Context, space *governorv1alpha1.Space) error {
	var releases governorv1alpha1.ReleaseList
	if err := r.List(ctx, &releases, client.InNamespace(space.TargetNamespace())); err != nil {
		return err
	}
	space.Status.Releases = liveReleases(releases.Items)
	return nil
}

// reconcileAccessModel publishes the compiled model's summary once the
// model reflects the Space's current generation. Sets: Reconciling
// (Compiling); Stalled (the first problem's reason) when the compile left
// part of the Space itself out, naming each field.
func (r *SpaceReconciler) reconcileAccessModel(_ context.Context, space *governorv1alpha1.Space) error {
	if why := r.Models.Refused(space.Name); why != nil {
		space.Status.AccessModel = nil
		return stall(why.Reason, "%s", why.Message)
	}
	model := r.Models.Get(space.Name)
	if model == nil || model.SpaceGeneration != space.Generation {
		return wait("Compiling", "compiling the access model")
	}
	space.Status.AccessModel = accessModelStatus(model)
	return spaceProblems(model, space.Name)
}

// reconcilePlatform folds the platform controller's PlatformSynced into the
// summary: an instance still syncing is Reconciling; one the user must fix
// (a refused token, a token Secret still missing after TokenGrace, a
// missing SSO provider Secret or key) is Stalled; an observing Space
// (Observe mode, its instances read) is Ready. Sets: Reconciling
// (PlatformSyncing, TokenMissing), Stalled (the platform reason).
func (r *SpaceReconciler) reconcilePlatform(_ context.Context, space *governorv1alpha1.Space) error {
	c := meta.FindStatusCondition(space.Status.Conditions, governorv1alpha1.ConditionPlatformSynced)
	if c == nil || c.Status == metav1.ConditionTrue || c.Reason == governorv1alpha1.ReasonObserving {
		// Observing, even with calls planned, is where the Space was asked
		// to be: nothing is in progress, nothing to fix.
		return nil
	}
	switch c.Reason {
	case reasonTokenMissing:
		// Not synced since LastTransitionTime: the Secret's creation starts
		// a pass, so only a Secret nobody makes is worth a Stalled.
		if left := time.Until(c.LastTransitionTime.Add(r.TokenGrace)); left > 0 {
			return waitUntil(left, c.Reason, "platform: %s", c.Message)
		}
		return stall(c.Reason, "platform: %s", c.Message)
	case reasonUnauthorized, reasonForbidden, reasonSSOSecret:
		return stall(c.Reason, "platform: %s", c.Message)
	}
	return wait("PlatformSyncing", "platform: %s", c.Message)
}

// finalize removes what the Space created: its admin binding, its group
// admins' Roles and RoleBindings, the default groups it created that nothing
// declared since, and its namespace if it created it (an adopted one is only
// unlabelled). Every step tolerates what is already gone.
func (r *SpaceReconciler) finalize(ctx context.Context, space *governorv1alpha1.Space) (reconcile.Result, error) {
	if !controllerutil.ContainsFinalizer(space, governorv1alpha1.SpaceFinalizer) {
		return reconcile.Result{}, nil
	}
	nsName := space.TargetNamespace()
	ns := &corev1.Namespace{}
	err := r.Get(ctx, types.NamespacedName{Name: nsName}, ns)
	switch {
	case apierrors.IsNotFound(err):
		// Nothing left inside it either.
	case err != nil:
		return reconcile.Result{}, err
	case ns.Labels[governorv1alpha1.LabelSpace] != space.Name:
		// Not ours (another Space's, or never adopted): leave it alone.
	case metav1.IsControlledBy(ns, space) || isOwnedBy(ns, space):
		if err := r.Delete(ctx, ns); client.IgnoreNotFound(err) != nil {
			return reconcile.Result{}, err
		}
	default:
		if err := r.releaseAdoptedNamespace(ctx, space, ns); err != nil {
			return reconcile.Result{}, err
		}
	}
	controllerutil.RemoveFinalizer(space, governorv1alpha1.SpaceFinalizer)
	if err := r.Update(ctx, space); client.IgnoreNotFound(err) != nil {
		return reconcile.Result{}, err // a conflict is retried by RetryConflicts
	}
	return reconcile.Result{}, nil
}

// releaseAdoptedNamespace removes from a namespace the Space adopted what
// the Space made there, and unlabels it.
func (r *SpaceReconciler) releaseAdoptedNamespace(ctx context.Context, space *governorv1alpha1.Space, ns *corev1.Namespace) error {
	binding := &rbacv1.RoleBinding{}
	err := r.Get(ctx, types.NamespacedName{Namespace: ns.Name, Name: spaceAdminBinding}, binding)
	if client.IgnoreNotFound(err) != nil {
		return err
	}
	if err == nil && metav1.IsControlledBy(binding, space) {
		if err := r.Delete(ctx, binding); client.IgnoreNotFound(err) != nil {
			return err
		}
	}
	if err := r.revokeGroupAdmins(ctx, ns.Name); err != nil {
		return err
	}
	if err := r.removeDefaultGroups(ctx, space, ns.Name); err != nil {
		return err
	}
	patch := client.MergeFrom(ns.DeepCopy())
	delete(ns.Labels, governorv1alpha1.LabelSpace)
	delete(ns.Annotations, governorv1alpha1.AnnotationReadoptedBy)
	if ns.Annotations == nil {
		ns.Annotations = map[string]string{}
	}
	ns.Annotations[governorv1alpha1.AnnotationReleasedBy] = space.Name
	ns.Annotations[governorv1alpha1.AnnotationReleasedAt] = time.Now().UTC().Format(time.RFC3339)
	return client.IgnoreNotFound(r.Patch(ctx, ns, patch))
}

// revokeGroupAdmins deletes the group admins' Roles and RoleBindings in the
// namespace (those a PermissionGroup controls): once the Space is gone
// nothing limits what they may change. The group admin controller grants
// nothing in a namespace no Space governs.
func (r *SpaceReconciler) revokeGroupAdmins(ctx context.Context, namespace string) error {
	managed := client.MatchingLabels{governorv1alpha1.LabelManagedBy: governorv1alpha1.ManagedByGovernor}
	var roles rbacv1.RoleList
	if err := r.List(ctx, &roles, client.InNamespace(namespace), managed); err != nil {
		return err
	}
	var bindings rbacv1.RoleBindingList
	if err := r.List(ctx, &bindings, client.InNamespace(namespace), managed); err != nil {
		return err
	}
	objs := make([]client.Object, 0, len(roles.Items)+len(bindings.Items))
	for i := range roles.Items {
		objs = append(objs, &roles.Items[i])
	}
	for i := range bindings.Items {
		objs = append(objs, &bindings.Items[i])
	}
	for _, o := range objs {
		if owner := metav1.GetControllerOf(o); owner != nil && owner.Kind == kindPermissionGroup {
			if err := r.Delete(ctx, o); client.IgnoreNotFound(err) != nil {
				return err
			}
		}
	}
	return nil
}

// removeDefaultGroups deletes the default groups the Space created and
// nothing declared since. A group someone applied (kubectl, Argo CD: any
// field manager besides governor-space and the platform finalizer's) is
// declared: it stays, and loses the owner reference an earlier Governor gave
// it, so that the garbage collector does not take it with the Space either.
func (r *SpaceReconciler) removeDefaultGroups(ctx context.Context, space *governorv1alpha1.Space, namespace string) error {
	if r.APIReader == nil {
		return nil
	}
	// managedFields are not in the cache: the API server says who wrote what.
	var groups governorv1alpha1.PermissionGroupList
	if err := r.APIReader.List(ctx, &groups, client.InNamespace(namespace),
		client.MatchingLabels{governorv1alpha1.LabelManagedBy: governorv1alpha1.ManagedByGovernor}); err != nil {
		return err
	}
	for i := range groups.Items {
		g := &groups.Items[i]
		createdHere := isOwnedBy(g, space) || createdBy(g, fieldManagerSpace)
		switch {
		case !createdHere:
		case !declaredBeside(g, space):
			if err := r.Delete(ctx, g, client.Preconditions{UID: &g.UID}); client.IgnoreNotFound(err) != nil {
				return err
			}
		case isOwnedBy(g, space):
			patch := client.MergeFromWithOptions(g.DeepCopy(), client.MergeFromWithOptimisticLock{})
			g.OwnerReferences = slices.DeleteFunc(g.OwnerReferences, func(o metav1.OwnerReference) bool { return o.UID == space.UID })
			if err := r.Patch(ctx, g, patch); client.IgnoreNotFound(err) != nil {
				return err
			}
		}
	}
	return nil
}

// createdBy reports whether manager created obj (its first write of the
// object's own fields, not of a subresource).
func createdBy(obj metav1.Object, manager string) bool {
	for _, m := range obj.GetManagedFields() {
		if m.Manager == manager && m.Subresource == "" {
			return true
		}
	}
	return false
}

// declaredBeside reports whether a field manager other than the Space's
// holds any field of obj besides metadata.finalizers (which the platform
// controller adds) and status: someone declared the object. The Space's
// manager is governor-space, or for a group an earlier Governor created,
// the manager that set the owner reference to the Space.
func declaredBeside(obj metav1.Object, space *governorv1alpha1.Space) bool {
	spaceRef := `\"uid\":\"` + string(space.UID) + `\"`
	for _, m := range obj.GetManagedFields() {
		if m.Manager == fieldManagerSpace || m.Subresource != "" || m.FieldsV1 == nil ||
			strings.Contains(m.FieldsV1.GetRawString(), spaceRef) {
			continue
		}
		var fields map[string]any
		if err := json.Unmarshal(m.FieldsV1.GetRawBytes(), &fields); err != nil {
			return true // unreadable: assume declared, keep the group
		}
		delete(fields, "f:status")
		if md, ok := fields["f:metadata"].(map[string]any); ok {
			delete(md, "f:finalizers")
			if len(md) == 0 {
				delete(fields, "f:metadata")
			}
		}
		if len(fields) > 0 {
			return true
		}
	}
	return false
}

func isOwnedBy(obj metav1.Object, owner metav1.Object) bool {
	for _, ref := range obj.GetOwnerReferences() {
		if ref.UID == owner.GetUID() {
			return true
		}
	}
	return false
}

// SetupWithManager registers the Space controller and its watches.
func (r *SpaceReconciler) SetupWithManager(mgr ctrl.Manager) error {
	toSpace := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
		return spaceRequestsForNamespace(ctx, r.Client, o.GetNamespace())
	})
	return ctrl.NewControllerManagedBy(mgr).
		Named("space").
		For(&governorv1alpha1.Space{}).
		Owns(&rbacv1.RoleBinding{}).
		// A labelled namespace maps to its Space (deleted or relabelled by hand).
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
			if s := o.GetLabels()[governorv1alpha1.LabelSpace]; s != "" {
				return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: s}}}
			}
			return nil
		})).
		// The Space it inherits from, and other admin Spaces, change what it reports.
		Watches(&governorv1alpha1.Space{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
			reqs := spacesInheritingFrom(ctx, r.Client, o.GetName())
			if o.(*governorv1alpha1.Space).Spec.Admin {
				if admins, err := adminSpaces(ctx, r.Client); err == nil {
					reqs = append(reqs, spaceRequests(admins)...)
				}
			}
			return reqs
		}), builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, deletionPredicate()))).
		Watches(&governorv1alpha1.Release{}, toSpace).
		// A new compile of the Space's model.
		WatchesRawSource(r.Models.Source(func(c ModelChange) []reconcile.Request {
			return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: c.Space}}}
		})).
		Complete(RetryConflicts[reconcile.Request](r))
}

func readyMessage(space *governorv1alpha1.Space) string {
	if m := space.Status.AccessModel; m != nil {
		msg := fmt.Sprintf("Namespace %s; access model %s: %d groups, %d rules, %d members", space.Status.Namespace, access.ShortRevision(m.Revision), m.Groups, m.Rules, m.Members)
		if m.Problems > 0 {
			msg += fmt.Sprintf("; %d object(s) left out (see their status)", m.Problems)
		}
		return msg
	}
	return "Namespace " + space.Status.Namespace
}

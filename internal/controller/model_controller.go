package controller

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sort"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/revision"
	"github.com/governor-dev/governor/internal/spacemodel"
)

// ModelReconciler compiles each Space's access model from the informer cache
// and publishes it to Models. It runs on every replica (not only the leader)
// and never writes to the API server, so every replica can answer checks.
type ModelReconciler struct {
	client.Client
	Models *Models
	// Limits bound each Space (zero values: the defaults).
	Limits Limits
}

// +kubebuilder:rbac:groups=governor.dev,resources=spaces;permissiongroups;accessrules,verbs=get;list;watch

// Reconcile compiles one Space. Whatever the outcome but a transient
// error, the Space counts as compiled since start (for /readyz).
func (r *ModelReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	if wait := r.Models.compileWait(req.Name); wait > 0 {
		return reconcile.Result{RequeueAfter: min(wait, bulkQuiet)}, nil // a bulk load: see bulk.go
	}
	observed, ordered, pendingSince := r.Models.startCompile(req.Name)
	start := time.Now()
	if err := r.compile(ctx, req.Name, observed, ordered); err != nil {
		r.Models.compileFailed(req.Name, pendingSince)
		return reconcile.Result{}, err
	}
	r.Models.compileTook(req.Name, time.Since(start))
	r.Models.compiledOnce(req.Name)
	return reconcile.Result{RequeueAfter: requeueAtNextExpiry(r.Models.Get(req.Name), r.Models.now())}, nil
}

func (r *ModelReconciler) compile(ctx context.Context, name string, observed revision.Position, ordered bool) error {
	// The lists are only read: the cache's objects are used without copies,
	// which for a large Space is most of the cost of a compile pass.
	loaded, err := spacemodel.Load(ctx, r.Client, name, client.UnsafeDisableDeepCopy)
	var notFound *spacemodel.NotFoundError
	var notOwned *spacemodel.NotOwnedError
	switch {
	case errors.As(err, &notFound):
		r.drop(name, nil)
		return nil
	case errors.As(err, &notOwned):
		// No model, so no check, who-can, permissions or platform sync.
		r.drop(name, &Refusal{Reason: notOwned.Reason, Message: notOwned.Error()})
		return nil
	case err != nil:
		return err
	}
	space, ns := loaded.Space, loaded.Namespace
	if !space.DeletionTimestamp.IsZero() || !ownsNamespace(space) {
		// Being deleted, or not (yet) known to own its namespace: the Space
		// controller decides ownership first, and its status brings it back.
		r.drop(space.Name, nil)
		return nil
	}
	if why := r.Limits.exceeded(loaded); why != nil {
		r.drop(space.Name, why)
		return nil
	}
	groups, rules := loaded.Groups, loaded.Rules
	pos, allNumbers := inputPosition(loaded)
	pos, ordered = pos.Max(observed), ordered && allNumbers
	fp := fingerprint(loaded.Effective, loaded.Source, groups, rules)
	now := r.Models.now()
	if cur := r.Models.Get(space.Name); cur != nil && cur.fingerprint == fp && !outOfDate(cur.Snapshot, now) {
		r.Models.advance(space.Name, pos, ordered)
		return nil
	}
	if cur := r.Models.Get(space.Name); cur != nil {
		pos = pos.Max(cur.Position) // a replica's positions only go forward
	}

	start := time.Now()
	loaded.Input.At = now
	snapshot, problems := loaded.Compile()
	compileSeconds.WithLabelValues(space.Name).Observe(time.Since(start).Seconds())

	model := &Model{
		Space:           space.Name,
		Namespace:       ns,
		Snapshot:        snapshot,
		SpaceGeneration: space.Generation,
		Generations:     make(map[ObjectRef]int64, len(groups)+len(rules)),
		Problems:        map[ObjectRef][]access.Problem{},
		fingerprint:     fp,
		Position:        pos,
		ordered:         ordered,
	}
	for i := range groups {
		model.Generations[ObjectRef{Kind: kindPermissionGroup, Name: groups[i].Name}] = groups[i].Generation
	}
	for i := range rules {
		model.Generations[ObjectRef{Kind: kindAccessRule, Name: rules[i].Name}] = rules[i].Generation
	}
	for _, p := range problems {
		ref := ObjectRef{Kind: p.Object.Kind, Name: p.Object.Name}
		model.Problems[ref] = append(model.Problems[ref], p)
	}
	stats := snapshot.Stats()
	modelSize.WithLabelValues(space.Name, "groups").Set(float64(stats.Groups))
	modelSize.WithLabelValues(space.Name, "rules").Set(float64(stats.Rules))
	modelSize.WithLabelValues(space.Name, "members").Set(float64(stats.Members))
	modelSize.WithLabelValues(space.Name, "problems").Set(float64(len(problems)))
	r.Models.set(model)
	log.FromContext(ctx).V(1).Info("compiled access model", "revision", snapshot.Revision(), "took", time.Since(start), "problems", len(problems))
	return nil
}

// inputPosition is the highest resourceVersion, per kind, of the objects a
// compile read, and whether all of them were numbers.
func inputPosition(l *spacemodel.Loaded) (revision.Position, bool) {
	var p revision.Position
	ok := p.Observe(revision.KindSpace, l.Space.ResourceVersion)
	if l.Source != nil {
		ok = p.Observe(revision.KindSpace, l.Source.ResourceVersion) && ok
	}
	for i := range l.Groups {
		ok = p.Observe(revision.KindGroup, l.Groups[i].ResourceVersion) && ok
	}
	for i := range l.Rules {
		ok = p.Observe(revision.KindRule, l.Rules[i].ResourceVersion) && ok
	}
	return p, ok
}

// drop removes a Space's model (and its size metrics), recording why when refused.
func (r *ModelReconciler) drop(space string, why *Refusal) {
	r.Models.drop(space, why)
	modelSize.DeletePartialMatch(map[string]string{labelSpace: space})
}

// fingerprint identifies what a compile reads, so that a resync or a
// status-only change does not recompile a large Space.
func fingerprint(space, source *governorv1alpha1.Space, groups []governorv1alpha1.PermissionGroup, rules []governorv1alpha1.AccessRule) string {
	parts := make([]string, 0, len(groups)+len(rules)+2)
	parts = append(parts, "space/"+string(space.UID)+"/"+strconv.FormatInt(space.Generation, 10))
	if source != nil {
		parts = append(parts, "source/"+string(source.UID)+"/"+strconv.FormatInt(source.Generation, 10))
	}
	for i := range groups {
		parts = append(parts, "g/"+groups[i].Name+"/"+string(groups[i].UID)+"/"+strconv.FormatInt(groups[i].Generation, 10))
	}
	for i := range rules {
		parts = append(parts, "r/"+rules[i].Name+"/"+string(rules[i].UID)+"/"+strconv.FormatInt(rules[i].Generation, 10))
	}
	sort.Strings(parts)
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// SetupWithManager registers the model controller; it does not need the lease.
func (r *ModelReconciler) SetupWithManager(mgr ctrl.Manager) error {
	needLeader := false
	objectChanged := predicate.Or(predicate.GenerationChangedPredicate{}, deletionPredicate())
	return ctrl.NewControllerManagedBy(mgr).
		Named("accessmodel").
		// A new generation, or NamespaceOwned gained or lost (status).
		For(&governorv1alpha1.Space{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, ownershipChanged()), r.observeSpace())).
		Watches(&governorv1alpha1.Space{}, handler.EnqueueRequestsFromMapFunc(r.spacesInheritingFrom),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&governorv1alpha1.PermissionGroup{}, handler.EnqueueRequestsFromMapFunc(r.spacesFor(revision.KindGroup)), builder.WithPredicates(objectChanged)).
		Watches(&governorv1alpha1.AccessRule{}, handler.EnqueueRequestsFromMapFunc(r.spacesFor(revision.KindRule)), builder.WithPredicates(objectChanged)).
		// A Space is compiled by one worker at a time (the queue holds each
		// key once), so with four workers up to three large Spaces can
		// recompile at once while small ones still compile at once.
		WithOptions(controller.Options{NeedLeaderElection: &needLeader, MaxConcurrentReconciles: 4}).
		Complete(RetryConflicts[reconcile.Request](r))
}

// spacesFor maps a group or rule event to the Spaces of its namespace and
// records the event's resourceVersion in their positions (a deletion leaves
// no object behind to read it from).
func (r *ModelReconciler) spacesFor(kind int) handler.TypedMapFunc[client.Object, reconcile.Request] {
	return func(ctx context.Context, o client.Object) []reconcile.Request {
		reqs := spaceRequestsForNamespace(ctx, r.Client, o.GetNamespace())
		r.observe(reqs, kind, o)
		return reqs
	}
}

func (r *ModelReconciler) spacesInheritingFrom(ctx context.Context, o client.Object) []reconcile.Request {
	reqs := spacesInheritingFrom(ctx, r.Client, o.GetName())
	r.observe(reqs, revision.KindSpace, o)
	return reqs
}

func (r *ModelReconciler) observe(reqs []reconcile.Request, kind int, o client.Object) {
	for _, req := range reqs {
		r.Models.observe(req.Name, kind, o.GetResourceVersion())
	}
}

// observeSpace records the Space's own events that pass the other
// predicates (it is evaluated last, and lets everything through).
func (r *ModelReconciler) observeSpace() predicate.Predicate {
	record := func(o client.Object) bool {
		r.Models.observe(o.GetName(), revision.KindSpace, o.GetResourceVersion())
		return true
	}
	return predicate.Funcs{
		CreateFunc:  func(e event.CreateEvent) bool { return record(e.Object) },
		UpdateFunc:  func(e event.UpdateEvent) bool { return record(e.ObjectNew) },
		DeleteFunc:  func(e event.DeleteEvent) bool { return record(e.Object) },
		GenericFunc: func(e event.GenericEvent) bool { return record(e.Object) },
	}
}

func spaceRequestsForNamespace(ctx context.Context, c client.Reader, namespace string) []reconcile.Request {
	var spaces governorv1alpha1.SpaceList
	// Only names are read: no copy of the cache's Spaces (this runs for every group and rule event).
	if err := c.List(ctx, &spaces, client.MatchingFields{indexSpaceNamespace: namespace}, client.UnsafeDisableDeepCopy); err != nil {
		log.FromContext(ctx).Error(err, "listing Spaces by namespace", "namespace", namespace)
		return nil
	}
	return spaceRequests(spaces.Items)
}

func spacesInheritingFrom(ctx context.Context, c client.Reader, name string) []reconcile.Request {
	var spaces governorv1alpha1.SpaceList
	if err := c.List(ctx, &spaces, client.MatchingFields{indexSpaceInheritFrom: name}); err != nil {
		log.FromContext(ctx).Error(err, "listing Spaces by inheritFrom", "space", name)
		return nil
	}
	return spaceRequests(spaces.Items)
}

func spaceRequests(spaces []governorv1alpha1.Space) []reconcile.Request {
	reqs := make([]reconcile.Request, 0, len(spaces))
	for i := range spaces {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Name: spaces[i].Name}})
	}
	return reqs
}

// effectiveSpace returns the Space with sourceControl and sso copied from the
// Space it inherits from where it leaves them unset, and what was copied.
func effectiveSpace(space, source *governorv1alpha1.Space) (*governorv1alpha1.Space, *governorv1alpha1.InheritedSettings) {
	if source == nil {
		return space, nil
	}
	return spacemodel.InheritSettings(space, source)
}

const (
	kindPermissionGroup = "PermissionGroup"
	kindAccessRule      = "AccessRule"
)

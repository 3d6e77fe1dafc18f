package platform

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	ctrlpkg "github.com/governor-dev/governor/internal/controller"
	"github.com/governor-dev/governor/internal/platform"
	"github.com/governor-dev/governor/internal/platform/retool"
	"github.com/governor-dev/governor/internal/platform/syncer"
)

// inexpressible is a rule target an instance cannot hold at the model's level.
type inexpressible = platform.NotExpressible

// workers is how many environments are synced at once; an instance that
// hangs holds one of them for at most the pass bound.
const workers = 8

func ctrlOptions() controller.TypedOptions[EnvKey] {
	return controller.TypedOptions[EnvKey]{MaxConcurrentReconciles: workers}
}

// ReconcileEnvironment runs one pass of one environment and publishes its
// result as soon as it ends.
func (r *Reconciler) ReconcileEnvironment(ctx context.Context, key EnvKey) (reconcile.Result, error) {
	space := &governorv1alpha1.Space{}
	if err := r.Client.Get(ctx, types.NamespacedName{Name: key.Space}, space); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if !space.DeletionTimestamp.IsZero() || !ctrlpkg.OwnsNamespace(space) || r.Models.Refused(space.Name) != nil ||
		!controllerutilContains(space) {
		return reconcile.Result{}, nil // the Space-level controller decides
	}
	var env *governorv1alpha1.Environment
	for _, e := range ctrlpkg.InstanceEnvironments(space) {
		if e.Name == key.Env {
			env = &e
		}
	}
	model := r.Models.Get(space.Name)
	if env == nil || model == nil {
		return reconcile.Result{}, nil
	}
	st := r.state(space.Name)
	started := time.Now()
	o, err := r.pass(ctx, space, *env, model, st)
	defer func() {
		platformSyncSeconds.WithLabelValues(space.Name, env.Name).Observe(time.Since(started).Seconds())
	}()
	if err != nil {
		return reconcile.Result{}, err // the record could not be read: nothing is claimed
	}
	st.setOutcome(env.Name, o, started)
	if o.planned {
		// Each rule's PlatformExpressible, written by the rule's object reconciler.
		r.Options.Expressibility.Publish(space.Name, space.TargetNamespace(), env.Name, controllerEnvNames(space),
			model.RuleGenerations(), o.notExpressible)
	}
	if err := r.publish(ctx, space); err != nil {
		return reconcile.Result{}, err
	}
	if objs, err := r.loadObjects(ctx, space.TargetNamespace()); err == nil {
		if err := r.releaseDeleted(ctx, space, objs); err != nil {
			return reconcile.Result{}, err
		}
	}
	return requeue(o.err, r.Options.Resync)
}

func controllerutilContains(space *governorv1alpha1.Space) bool {
	for _, f := range space.Finalizers {
		if f == governorv1alpha1.PlatformFinalizer {
			return true
		}
	}
	return false
}

// requeue follows the failure's kind: a transient one is retried with
// backoff, a waiting one when it may have passed, a stalled one when an
// input changes (and at the resync, in case it was fixed in the instance).
func requeue(err *syncer.Error, resync time.Duration) (reconcile.Result, error) {
	if err == nil {
		return reconcile.Result{RequeueAfter: resync}, nil
	}
	switch err.Kind {
	case syncer.Waiting:
		return reconcile.Result{RequeueAfter: min(err.RequeueAfter, resync)}, nil
	case syncer.Stalling:
		return reconcile.Result{RequeueAfter: resync}, nil
	}
	if err.Reason == ReasonSyncing {
		return reconcile.Result{RequeueAfter: time.Second}, nil
	}
	return reconcile.Result{}, err
}

// pass makes env's instance hold the model and returns the outcome. Its
// record is flushed however the pass ends.
func (r *Reconciler) pass(ctx context.Context, space *governorv1alpha1.Space, env governorv1alpha1.Environment,
	model *ctrlpkg.Model, st *spaceState) (outcome, error) {
	o := outcome{done: true, observing: space.Observing(), status: governorv1alpha1.EnvironmentPlatformStatus{Environment: env.Name}}
	if prev := findStatus(space.Status.Platform, env.Name); prev != nil {
		o.status.LastSyncTime = prev.LastSyncTime // when the instance last changed to match
	}
	if prev, ok := st.outcomes()[env.Name]; ok {
		// Only what a pass of this process verified is shown as synced.
		o.status.SyncedRevision = prev.status.SyncedRevision
	}
	rec := st.recordFor(env.Name)
	if err := rec.load(ctx, r.APIReader, r.Options.Namespace, space.Name, env.Name); err != nil {
		return o, err
	}
	defer func() {
		// Flushed even when the pass was cut short or the operator is stopping.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := rec.flush(fctx, r.Client, r.Options.Namespace, space, env.Name); err != nil {
			log.FromContext(ctx).Error(err, "recording what the pass did", "environment", env.Name)
		}
	}()
	passCtx, cancel := context.WithTimeout(ctx, r.Options.PassTimeout)
	defer cancel()
	answered, throttled := r.Connections.Answered(env.Instance.URL), r.Connections.Throttled(env.Instance.URL)
	answeredBefore, throttledBefore := answered.Load(), throttled.Load()

	fail := func(err error) outcome {
		e := syncer.Classify(ctrlpkg.KubernetesError(err))
		if passCtx.Err() != nil && ctx.Err() == nil {
			// The pass ran out of time: a long sync, one the rate limit slows
			// down, or an instance that does not answer.
			switch {
			case throttled.Load() > throttledBefore:
				e = syncer.Wait(syncer.ReasonRateLimited, time.Second, fmt.Errorf("rate limited by the instance (%d answers 429 in this pass); the sync goes on within its limit: %w",
					throttled.Load()-throttledBefore, err))
			case answered.Load() == answeredBefore:
				e = syncer.Wait(syncer.ReasonUnreachable, 0, fmt.Errorf("the instance at %s answered nothing in %s: %w", env.Instance.URL, r.Options.PassTimeout, err))
			default:
				e = &syncer.Error{Kind: syncer.Waiting, Reason: ReasonSyncing, RequeueAfter: time.Second, Message: "the sync goes on in the next pass", Err: err}
			}
		}
		if e.Reason == syncer.ReasonUnreachable {
			st.mu.Lock()
			since, ok := st.unreachableSince[env.Name]
			if !ok {
				since = time.Now()
				st.unreachableSince[env.Name] = since
			}
			st.mu.Unlock()
			e = &syncer.Error{Kind: e.Kind, Reason: e.Reason, RequeueAfter: e.RequeueAfter, Err: e,
				Message: fmt.Sprintf("the instance at %s is unreachable since %s", env.Instance.URL, since.UTC().Format(time.TimeOnly))}
		}
		o.err = r.explain(space, env, st, e)
		o.status.Message = bound(o.err.Error(), 1024)
		return o
	}

	if !space.Spec.Admin {
		id, err := r.ensureSpace(passCtx, space, env, rec, st)
		var toCreate *spaceToCreate
		if errors.As(err, &toCreate) {
			// Observe mode: the instance has no Space to read; its creation
			// is the plan, and what it will hold is planned once it exists.
			o.revision, o.status.SyncedRevision = model.Snapshot.Revision(), ""
			o.status.Planned = &governorv1alpha1.PlatformPlanned{Count: 1, Calls: []string{toCreate.call}}
			o.status.Message = "the Space is not in the instance: Observe mode does not create it (Additive does); its groups and grants are planned once it exists"
			return o, nil
		}
		if err != nil {
			return fail(err), nil
		}
		o.status.SpaceID = id
	}
	conn, err := r.Connections.Connect(passCtx, space, env)
	if err != nil {
		return fail(err), nil
	}
	creds, err := r.sourceControlCredentials(passCtx, space)
	if err != nil {
		return fail(err), nil
	}
	sso, err := ctrlpkg.LoadSSOProvider(passCtx, r.Client, r.Options.Namespace, space)
	if err != nil {
		return fail(err), nil
	}
	recorded, _ := rec.snapshot()
	res := syncer.Pass(passCtx, conn.Client, syncer.Input{
		Model:                model.Snapshot,
		Environment:          platform.Environment{Name: env.Name, ReadOnly: env.ReadOnly, Branch: env.Branch},
		Source:               ctrlpkg.PlatformSource(space),
		Mode:                 platform.Mode(space.EffectivePlatformMode()),
		InviteMissingMembers: space.Spec.Platform != nil && space.Spec.Platform.InviteMissingMembers,
		Recorded:             recorded,
		Credentials:          creds,
		SSO:                  sso,
		Memory:               st.memory(env.Name),
		GrantReads:           r.grantReadsPerPass(conn.RequestsPerMinute, model.Snapshot.Stats().Groups),
		UserGrantReads:       r.userGrantReadsPerPass(conn.RequestsPerMinute),
		Apply:                true,
		Recorder: syncer.RecorderFunc(func(e syncer.Effect) {
			rec.apply(e)
			if rec.due() {
				fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
				defer cancel()
				_ = rec.flush(fctx, r.Client, r.Options.Namespace, space, env.Name)
			}
		}),
	})
	again := "created again where still declared"
	if o.observing {
		again = "planned again where still declared (Observe mode writes nothing)"
	}
	for _, g := range res.Gone {
		r.Recorder.Eventf(space, nil, corev1.EventTypeWarning, "PlatformObjectGone", "Sync",
			"%s: %s, recorded by Governor, is gone from the instance: %s", env.Name, g, again)
	}
	platformWrites.WithLabelValues(space.Name, env.Name).Add(float64(res.Writes))
	if res.Plan.Space != "" {
		o.planned, o.notExpressible = true, res.Plan.NotExpressibleRules
	}
	if res.Err != nil {
		o = fail(res.Err)
		if o.err.Reason == ReasonSyncing {
			o.err.Message = fmt.Sprintf("%d of %d calls made; the sync goes on in the next pass", res.Writes, res.Plan.Writes())
			o.status.Message = o.err.Message
		}
		return o, nil
	}
	report(space.Name, env.Name, &o.status, res, o.observing)
	o.revision = res.Desired.Revision
	o.status.EffectiveDrift = st.effectiveFor(env.Name).last()
	if ed := st.effectiveFor(env.Name); res.Writes == 0 && ed.due(time.Now(), r.Options.Resync, throttled.Load()) {
		// The instance holds the plan: compare a slice of its objects with
		// Retool's own account of who reaches them (governor platform
		// verify), once a resync, in a bounded share of the pass's time.
		vctx, cancel := context.WithTimeout(passCtx, min(r.Options.PassTimeout/4, 30*time.Second))
		drift, err := ed.next(vctx, conn.Client, r.Client, space, env.Name, model)
		cancel()
		ed.settled(throttled.Load())
		if err != nil {
			log.FromContext(ctx).V(1).Info("comparing the instance's effective access deferred", "environment", env.Name, "error", err.Error())
		} else {
			o.status.EffectiveDrift = drift
		}
	}
	n := int32(0)
	if o.status.EffectiveDrift != nil {
		n = o.status.EffectiveDrift.Count
	}
	platformEffectiveDrift.WithLabelValues(space.Name, env.Name).Set(float64(n))
	return o, nil
}

// explain words a failure for the user: a refused token names its Secret.
func (r *Reconciler) explain(space *governorv1alpha1.Space, env governorv1alpha1.Environment, st *spaceState, e *syncer.Error) *syncer.Error {
	if e.Reason != syncer.ReasonUnauthorized || e.Message != syncer.MessageUnauthorized {
		return e // another token's (the admin Space's), already explained
	}
	secret := r.Connections.TokenSecret(env)
	st.mu.Lock()
	reissue := st.reissue[env.Name]
	st.mu.Unlock()
	out := *e
	out.Message = fmt.Sprintf("the instance refused the API token (401): store a valid token in Secret %s (the %s Space's Settings > API)", secret, space.Name)
	if reissue {
		out.Message = fmt.Sprintf("the %s Space was created again in the instance: issue its API token again (Settings > API) and store it in Secret %s", space.Name, secret)
	}
	return &out
}

// report fills the environment's status from a completed pass. An
// observing pass wrote nothing: the instance holds the revision only when
// it planned no call, and what it planned is listed.
func report(space, env string, st *governorv1alpha1.EnvironmentPlatformStatus, res syncer.Result, observing bool) {
	holds := !observing || res.Plan.Writes() == 0
	if holds && (st.SyncedRevision != res.Desired.Revision || res.Writes > 0 || st.LastSyncTime == nil) {
		now := metav1.NewTime(time.Now().Truncate(time.Second))
		st.LastSyncTime = &now
	}
	st.SyncedRevision = ""
	if holds {
		st.SyncedRevision = res.Desired.Revision
	}
	st.Planned = nil
	if observing {
		st.Planned = planned(res.Plan)
	}
	st.Groups = int32(len(res.GroupIDs))
	grants := 0
	for _, g := range res.Plan.Grants {
		if g.Object.ID != "" || g.FolderPath != "" {
			grants++
		}
	}
	st.Grants = int32(grants)
	pending := res.Plan.Pending
	st.PendingCount = int32(len(pending))
	st.Pending = firstN(pending, 20)
	// What the instance cannot hold (a None beneath a broader grant, a
	// single workflow) is said apart from what merely waits.
	st.NotExpressibleCount = int32(len(res.Plan.NotExpressible))
	st.NotExpressible = firstN(res.Plan.NotExpressible, 20)
	st.Drift = nil
	if len(res.Plan.Drift) > 0 {
		st.Drift = &governorv1alpha1.PlatformDrift{Count: int32(len(res.Plan.Drift)), Examples: firstN(res.Plan.Drift, 10)}
	}
	st.Message = ""
	if res.Plan.Unverified > 0 {
		st.Message = fmt.Sprintf("%d group(s)' grants are verified on later passes (request budget)", res.Plan.Unverified)
	}
	platformPending.WithLabelValues(space, env).Set(float64(len(pending)))
	platformDrift.WithLabelValues(space, env).Set(float64(len(res.Plan.Drift)))
	calls := 0
	if st.Planned != nil {
		calls = int(st.Planned.Count)
	}
	platformPlanned.WithLabelValues(space, env).Set(float64(calls))
}

// maxPlannedCalls bounds status.platform[].planned.calls, and
// maxPlannedCall each call's text.
const (
	maxPlannedCalls = 10
	maxPlannedCall  = 256
)

// planned is what an observing pass would have written: the count of calls
// and the first few, as `governor platform plan` prints them (one line,
// spaces collapsed).
func planned(p platform.Plan) *governorv1alpha1.PlatformPlanned {
	out := &governorv1alpha1.PlatformPlanned{Count: int32(len(p.Ops))}
	for _, op := range p.Ops[:min(len(p.Ops), maxPlannedCalls)] {
		out.Calls = append(out.Calls, bound(strings.Join(strings.Fields(op.String()), " "), maxPlannedCall))
	}
	return out
}

func firstN(items []string, n int) []string {
	if len(items) <= n {
		return items
	}
	return items[:n]
}

// grantReadsPerPass spreads the reads of groups' grants so that a drift pass
// fits the budget of one resync period (three reads per group), leaving
// half the budget to the rest of the pass.
func (r *Reconciler) grantReadsPerPass(rpm, groups int) int {
	if rpm < 0 {
		return -1
	}
	perResync := int(float64(rpm)*r.Options.Resync.Minutes()) / 2
	return max(1, min(groups, perResync/3))
}

// userGrantReadsPerPass is how many users' direct grants a pass reads (two
// requests each): an eighth of what grantReadsPerPass leaves a resync, so
// that the users of an instance are read in turn over resyncs without
// crowding out the groups.
func (r *Reconciler) userGrantReadsPerPass(rpm int) int {
	if rpm < 0 {
		return -1
	}
	perResync := int(float64(rpm)*r.Options.Resync.Minutes()) / 2
	return max(1, perResync/8/2)
}

// sourceControlCredentials reads the provider settings written with the
// source control configuration from the Space's credentials Secret.
func (r *Reconciler) sourceControlCredentials(ctx context.Context, space *governorv1alpha1.Space) (syncer.Credentials, error) {
	sc := space.EffectiveSourceControl()
	if sc == nil || sc.CredentialsSecretRef == nil {
		return nil, nil
	}
	secret := &corev1.Secret{}
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: r.Options.Namespace, Name: sc.CredentialsSecretRef.Name}, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil // source control is configured without credentials; the pass notes it
		}
		return nil, syncer.Retry(syncer.ReasonAPIServerError, fmt.Errorf("reading Secret %s/%s: %w", r.Options.Namespace, sc.CredentialsSecretRef.Name, err))
	}
	creds, err := ctrlpkg.SourceControlCredentials(space, secret)
	if err != nil {
		return nil, syncer.Stalled(syncer.ReasonInvalid, "source control credentials: "+err.Error(), err)
	}
	return creds, nil
}

// ensureSpace returns the Space's id in env's instance, created through the
// admin Space's connection for the same environment. The recorded id is a
// hint: the admin Space's listing says whether it still exists, and a
// Space gone from the instance is created again ("" when there is no admin
// Space with that environment's instance).
func (r *Reconciler) ensureSpace(ctx context.Context, space *governorv1alpha1.Space, env governorv1alpha1.Environment, rec *envRecord, st *spaceState) (string, error) {
	_, recorded := rec.snapshot()
	if recorded == "" {
		if prev := findStatus(space.Status.Platform, env.Name); prev != nil {
			recorded = prev.SpaceID
		}
	}
	admin, adminEnv, err := r.adminEnvironment(ctx, env.Name)
	if err != nil {
		return "", err
	}
	if admin == nil {
		return recorded, nil
	}
	conn, err := r.Connections.Connect(ctx, admin, *adminEnv)
	if err != nil {
		var e *syncer.Error
		if errors.As(err, &e) {
			c := *e
			c.Message = "the admin Space " + admin.Name + ", which creates this Space in the instance: " + e.Message
			return "", &c
		}
		return "", err
	}
	adminFailure := func(doing string, err error) error {
		e := *syncer.Classify(err)
		e.Err = fmt.Errorf("%s: %w", doing, e.Err)
		if e.Reason == syncer.ReasonUnauthorized {
			e.Message = fmt.Sprintf("the instance refused the admin Space %s's API token (401): store a valid token in Secret %s", admin.Name, r.Connections.TokenSecret(*adminEnv))
		}
		return &e
	}
	domain := spaceDomain(env.Instance)
	spaces, err := conn.Client.ListSpaces(ctx)
	if err != nil {
		return "", adminFailure("listing the admin Space's Spaces", err)
	}
	for _, s := range spaces {
		if s.ID == recorded {
			rec.setSpaceID(s.ID, false)
			return s.ID, nil
		}
	}
	for _, s := range spaces {
		if strings.EqualFold(s.Domain, domain) {
			// Not the recorded one (or none recorded): the Space of that
			// domain is this Space's, as created by hand or restored.
			rec.setSpaceID(s.ID, false)
			if recorded != "" {
				r.Recorder.Eventf(space, nil, corev1.EventTypeWarning, "SpaceReplaced", "Sync",
					"the Space %s recorded in the %s instance is gone; the instance's Space %s (%s) is taken instead: if its API token changed, store it in Secret %s",
					recorded, env.Name, s.ID, domain, r.Connections.TokenSecret(env))
			}
			return s.ID, nil
		}
	}
	name := space.Spec.DisplayName
	if name == "" {
		name = space.Name
	}
	if space.Observing() {
		return "", &spaceToCreate{call: fmt.Sprintf("POST /spaces %q domain %s (through the admin Space %s)", name, domain, admin.Name)}
	}
	copySSO := space.Spec.SSO == nil && space.Spec.InheritFrom == admin.Name
	created, err := conn.Client.CreateSpace(ctx, retool.SpaceCreate{Name: name, Domain: domain, CopySSOSettings: copySSO})
	if err != nil {
		return "", adminFailure("creating the Space in the instance", err)
	}
	rec.setSpaceID(created.ID, true)
	if recorded != "" {
		st.mu.Lock()
		st.reissue[env.Name] = true
		st.mu.Unlock()
		r.Recorder.Eventf(space, nil, corev1.EventTypeWarning, "SpaceRecreated", "Sync",
			"the Space %s recorded in the %s instance is gone: created it again as %s (%s); issue its API token again and store it in Secret %s",
			recorded, env.Name, created.ID, domain, r.Connections.TokenSecret(env))
		return created.ID, nil
	}
	r.Recorder.Eventf(space, nil, corev1.EventTypeNormal, "SpaceCreated", "Sync", "created the Space %s (%s) in the %s instance", created.ID, domain, env.Name)
	return created.ID, nil
}

// spaceToCreate is the child Space an observing Space would create in an
// instance that does not have it: reported as planned, never created.
type spaceToCreate struct{ call string }

func (s *spaceToCreate) Error() string { return "planned, not made (Observe mode): " + s.call }

// spaceDomain is the Space's domain in an instance: spec'd, else the URL's host.
func spaceDomain(inst *governorv1alpha1.Instance) string {
	if inst.Domain != "" {
		return inst.Domain
	}
	if i := strings.Index(inst.URL, "://"); i >= 0 {
		host := inst.URL[i+3:]
		if j := strings.IndexAny(host, "/?#"); j >= 0 {
			host = host[:j]
		}
		return host
	}
	return ""
}

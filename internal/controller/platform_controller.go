package controller

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/platform"
	"github.com/governor-dev/governor/internal/platform/retool"
	"github.com/governor-dev/governor/internal/platform/syncer"
)

// PlatformOptions configure the platform sync.
type PlatformOptions struct {
	// Namespace is Governor's own namespace, where instance token Secrets live.
	Namespace string
	// RequestsPerMinute is each instance's request budget (default 45).
	RequestsPerMinute int
	// Resync is how often an instance is checked for drift (default 10m).
	Resync time.Duration
	// PassTimeout bounds one pass over an environment; a longer sync goes on
	// in the next pass (default 2m).
	PassTimeout time.Duration
	// DeletionAttempts bounds how many passes a deletion waits for an
	// unreachable instance before it completes anyway (default 5).
	DeletionAttempts int
	// HTTPClient, when set, sends the instances' API calls (tests validate
	// them against Retool's OpenAPI description through it).
	HTTPClient *http.Client
}

func (o *PlatformOptions) defaults() {
	if o.RequestsPerMinute == 0 {
		o.RequestsPerMinute = retool.DefaultRequestsPerMinute
	}
	if o.Resync <= 0 {
		o.Resync = 10 * time.Minute
	}
	if o.PassTimeout <= 0 {
		o.PassTimeout = 2 * time.Minute
	}
	if o.DeletionAttempts <= 0 {
		o.DeletionAttempts = 5
	}
}

// Platform reasons (PlatformSynced condition, status.platform[].message).
const (
	reasonSynced        = "Synced"
	reasonSyncing       = "Syncing"
	reasonTokenMissing  = "TokenMissing"
	reasonUnauthorized  = "Unauthorized"
	reasonForbidden     = "Forbidden"
	reasonUnreachable   = "Unreachable"
	reasonRateLimited   = "RateLimited"
	reasonPlatformError = "PlatformError"
	reasonNoInstances   = "NoInstances"
)

// PlatformReconciler makes every environment's instance hold its Space's
// compiled access model (leader only).
type PlatformReconciler struct {
	client.Client
	Models   *Models
	Recorder events.EventRecorder
	Options  PlatformOptions

	// Connections reach the instances within their budgets; shared with
	// release publishing (made from Options when nil).
	Connections *Connections

	mu          sync.Mutex
	memories    map[string]*syncer.Memory // space/env -> what was learnt
	deleteTries map[types.UID]int         // failed deletion passes
}

// Connections are the instances' API clients as Spaces reach them, with one
// request budget per instance shared by everything that calls it (the
// platform sync and release publishing). Safe for concurrent use.
type Connections struct {
	reader  client.Reader
	options PlatformOptions

	mu        sync.Mutex
	limiters  map[string]*rate.Limiter      // instance URL -> its budget
	throttled map[string]*atomic.Int64      // instance URL -> 429s answered
	clients   map[string]*clientWithVersion // space/env -> client
}

// NewConnections returns the connections of Spaces to their instances;
// token Secrets are read with reader from opts.Namespace.
func NewConnections(reader client.Reader, opts PlatformOptions) *Connections {
	opts.defaults()
	return &Connections{reader: reader, options: opts, limiters: map[string]*rate.Limiter{},
		throttled: map[string]*atomic.Int64{}, clients: map[string]*clientWithVersion{}}
}

type clientWithVersion struct {
	key    string // url, domain, token
	client *retool.Client
}

// +kubebuilder:rbac:groups=governor.dev,resources=permissiongroups;accessrules,verbs=update;patch
// +kubebuilder:rbac:groups=governor.dev,resources=permissiongroups/status;accessrules/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=governor.dev,resources=permissiongroups/finalizers;accessrules/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch,namespace=governor-system

// Connection is one environment's instance as a Space reaches it.
type Connection struct {
	Env    governorv1alpha1.Environment
	Client *retool.Client
	// Key names the Space and environment ("payments/development").
	Key string
}

// envResult is one environment's pass.
type envResult struct {
	status governorv1alpha1.EnvironmentPlatformStatus
	// reason of the failure ("" when synced), and whether the user must act.
	reason  string
	stalled bool
	plan    *platform.Plan
	result  *syncer.Result
}

// Reconcile syncs one Space's instances.
func (r *PlatformReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	r.init()
	space := &governorv1alpha1.Space{}
	if err := r.Get(ctx, req.NamespacedName, space); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if !space.DeletionTimestamp.IsZero() {
		return r.finalizeSpace(ctx, space)
	}
	if !ownsNamespace(space) {
		// No model, nothing to sync: a Space that does not own its namespace
		// never writes to an instance, nor touches the objects there (they
		// are the owning Space's). Its model's arrival brings it back.
		return reconcile.Result{}, nil
	}
	if r.Models.Refused(space.Name) != nil {
		// Over a limit: nothing is synced, and nothing deleted waits for it.
		return reconcile.Result{}, r.releaseFinalizers(ctx, space.TargetNamespace(), true)
	}
	envs := instanceEnvironments(space)
	if len(envs) == 0 {
		return reconcile.Result{}, r.noInstances(ctx, space)
	}
	if controllerutil.AddFinalizer(space, governorv1alpha1.PlatformFinalizer) {
		if err := r.Update(ctx, space); err != nil {
			return reconcile.Result{}, err
		}
	}
	model := r.Models.Get(space.Name)
	if model == nil {
		return reconcile.Result{RequeueAfter: time.Second}, nil // the model controller compiles it first
	}
	objs, err := r.loadObjects(ctx, model.Namespace)
	if err != nil {
		return reconcile.Result{}, err
	}
	if err := objs.addFinalizers(ctx, r.Client); err != nil {
		return reconcile.Result{}, err
	}

	results := make([]envResult, len(envs))
	var wg sync.WaitGroup
	for i, env := range envs {
		wg.Go(func() { results[i] = r.syncEnvironment(ctx, space, env, model, objs) })
	}
	wg.Wait()

	if err := objs.recordIDs(ctx, r.Client, results); err != nil {
		return reconcile.Result{}, err
	}
	if err := objs.releaseDeleted(ctx, r.Client, results, r.deletionDone, r.Recorder); err != nil {
		return reconcile.Result{}, err
	}
	if err := r.writeStatus(ctx, space, results, model.Snapshot.Revision()); err != nil {
		return reconcile.Result{}, err
	}
	for _, res := range results {
		if res.reason == reasonSyncing {
			return reconcile.Result{RequeueAfter: time.Second}, nil // a long sync goes on
		}
		if res.reason != "" && !res.stalled {
			return reconcile.Result{RequeueAfter: retryDelay}, nil
		}
	}
	return reconcile.Result{RequeueAfter: r.Options.Resync}, nil
}

// retryDelay is when an environment that failed for a passing reason is tried again.
const retryDelay = 15 * time.Second

func (r *PlatformReconciler) init() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.memories == nil {
		r.Options.defaults()
		r.memories = map[string]*syncer.Memory{}
		r.deleteTries = map[types.UID]int{}
		if r.Connections == nil {
			r.Connections = NewConnections(r.Client, r.Options)
		}
	}
}

func instanceEnvironments(space *governorv1alpha1.Space) []governorv1alpha1.Environment {
	var out []governorv1alpha1.Environment
	for _, e := range space.Spec.Environments {
		if e.Instance != nil {
			out = append(out, e)
		}
	}
	return out
}

// noInstances clears what an earlier configuration reported, and lets the
// Space's groups and rules go without waiting for instances it no longer has.
func (r *PlatformReconciler) noInstances(ctx context.Context, space *governorv1alpha1.Space) error {
	if err := r.releaseFinalizers(ctx, space.TargetNamespace(), false); err != nil {
		return err
	}
	before := space.DeepCopy()
	space.Status.Platform = nil
	meta.RemoveStatusCondition(&space.Status.Conditions, governorv1alpha1.ConditionPlatformSynced)
	if controllerutil.RemoveFinalizer(space, governorv1alpha1.PlatformFinalizer) {
		if err := r.Update(ctx, space); err != nil {
			return err
		}
		space.Status = before.Status
		space.Status.Platform = nil
		meta.RemoveStatusCondition(&space.Status.Conditions, governorv1alpha1.ConditionPlatformSynced)
	}
	return r.patchStatus(ctx, before, space)
}

func (r *PlatformReconciler) patchStatus(ctx context.Context, before, after *governorv1alpha1.Space) error {
	if equality.Semantic.DeepEqual(before.Status, after.Status) {
		return nil
	}
	return r.Status().Patch(ctx, after, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
}

// connect returns the client of env's instance for the Space, or why not.
func (r *PlatformReconciler) connect(ctx context.Context, space *governorv1alpha1.Space, env governorv1alpha1.Environment) (*Connection, error) {
	return r.Connections.Connect(ctx, space, env)
}

// Connect returns the client of env's instance for the Space, or why not
// (a *platformError naming the token Secret to create, say).
func (c *Connections) Connect(ctx context.Context, space *governorv1alpha1.Space, env governorv1alpha1.Environment) (*Connection, error) {
	inst := env.Instance
	key := inst.TokenSecretRef.Key
	if key == "" {
		key = "token"
	}
	secret := &corev1.Secret{}
	ref := types.NamespacedName{Namespace: c.options.Namespace, Name: inst.TokenSecretRef.Name}
	howTo := fmt.Sprintf("create an API token in the %s Space's Settings > API of the %s instance and store it as key %q of Secret %s/%s",
		space.Name, env.Name, key, ref.Namespace, ref.Name)
	if err := c.reader.Get(ctx, ref, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, &platformError{reason: reasonTokenMissing, stalled: true, msg: fmt.Sprintf("Secret %s/%s not found: %s", ref.Namespace, ref.Name, howTo)}
		}
		return nil, err
	}
	token := strings.TrimSpace(string(secret.Data[key]))
	if token == "" {
		return nil, &platformError{reason: reasonTokenMissing, stalled: true, msg: fmt.Sprintf("Secret %s/%s has no key %q: %s", ref.Namespace, ref.Name, key, howTo)}
	}
	domain := inst.Domain
	cacheKey := inst.URL + "|" + domain + "|" + token
	id := space.Name + "/" + env.Name
	c.mu.Lock()
	defer c.mu.Unlock()
	if cached := c.clients[id]; cached != nil && cached.key == cacheKey {
		return &Connection{Env: env, Client: cached.client, Key: id}, nil
	}
	throttled := c.throttledLocked(inst.URL)
	lim := c.limiters[inst.URL]
	if lim == nil && c.options.RequestsPerMinute > 0 {
		lim = retool.NewLimiter(c.options.RequestsPerMinute)
		c.limiters[inst.URL] = lim
	}
	opts := retool.Options{URL: inst.URL, Domain: domain, Token: token, Limiter: lim, RequestsPerMinute: c.options.RequestsPerMinute,
		Observe: func(method, path string, code int, d time.Duration) {
			if code == http.StatusTooManyRequests {
				throttled.Add(1)
			}
			observeRequest(inst.URL)(method, path, code, d)
		}}
	opts.HTTPClient = c.options.HTTPClient
	rc, err := retool.New(opts)
	if err != nil {
		return nil, &platformError{reason: reasonPlatformError, stalled: true, msg: err.Error()}
	}
	c.clients[id] = &clientWithVersion{key: cacheKey, client: rc}
	return &Connection{Env: env, Client: rc, Key: id}, nil
}

func (r *PlatformReconciler) memory(id string) *syncer.Memory {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.memories[id]
	if m == nil {
		m = syncer.NewMemory()
		r.memories[id] = m
	}
	return m
}

// syncEnvironment makes one environment's instance hold the model.
func (r *PlatformReconciler) syncEnvironment(ctx context.Context, space *governorv1alpha1.Space, env governorv1alpha1.Environment,
	model *Model, objs *platformObjects) envResult {
	out := envResult{status: governorv1alpha1.EnvironmentPlatformStatus{Environment: env.Name}}
	if prev := findPlatformStatus(space.Status.Platform, env.Name); prev != nil {
		out.status = *prev.DeepCopy()
		out.status.Message = ""
	}
	throttled := r.Connections.Throttled(env.Instance.URL)
	throttledBefore := throttled.Load()
	passCtx, cancel := context.WithTimeout(ctx, r.Options.PassTimeout)
	fail := func(err error) envResult {
		out.reason, out.stalled, out.status.Message = classifyPlatformError(err)
		if passCtx.Err() != nil && ctx.Err() == nil {
			// The pass ran out of time: a long sync, or one the instance's
			// rate limit slows down. The next pass goes on.
			out.reason, out.stalled, out.status.Message = reasonSyncing, false, "the sync goes on in the next pass"
			if n := throttled.Load() - throttledBefore; n > 0 {
				out.reason, out.status.Message = reasonRateLimited, fmt.Sprintf("rate limited by the instance (%d answers 429 in this pass); the sync goes on within its limit", n)
			}
		}
		return out
	}
	ctx = passCtx
	defer cancel()
	start := time.Now()
	defer func() { platformSyncSeconds.WithLabelValues(space.Name, env.Name).Observe(time.Since(start).Seconds()) }()

	if !space.Spec.Admin && out.status.SpaceID == "" {
		// Once the Space's id in the instance is recorded, a pass does not
		// list the instance's Spaces again.
		id, err := r.ensureSpace(ctx, space, env)
		if err != nil {
			return fail(err)
		}
		if id != "" {
			out.status.SpaceID = id
		}
	}
	conn, err := r.connect(ctx, space, env)
	if err != nil {
		return fail(err)
	}
	desired, err := platform.Project(model.Snapshot, platform.Environment{Name: env.Name, ReadOnly: env.ReadOnly, Branch: env.Branch}, PlatformSource(space))
	if err != nil {
		return fail(&platformError{reason: reasonPlatformError, stalled: true, msg: err.Error()})
	}
	creds, err := r.sourceControlCredentials(ctx, space)
	if err != nil {
		return fail(err)
	}
	var notes []string
	if desired.SourceControl != nil && len(creds) == 0 {
		// Retool configures source control only with the provider's
		// credentials: without them the instance's configuration is left alone.
		desired.SourceControl = nil
		notes = append(notes, "sourceControl: no provider credentials (personal_access_token, or app_id, installation_id and private_key, ...) in the Space's credentialsSecretRef in "+r.Options.Namespace+": the instance's source control is left as it is")
	}
	mem := r.memory(conn.Key)
	grantReads := r.grantReadsPerPass(len(desired.Groups))
	observed, err := syncer.Observe(ctx, conn.Client, desired, mem, syncer.ObserveOptions{GrantReads: grantReads})
	if err != nil {
		return fail(err)
	}
	plan := platform.NewPlan(desired, observed, platform.Options{
		Mode:                 platform.Mode(platformMode(space)),
		InviteMissingMembers: space.Spec.Platform != nil && space.Spec.Platform.InviteMissingMembers,
		Ownership:            objs.ownership(env.Name),
	})
	plan.Pending = append(plan.Pending, notes...)
	out.plan = &plan
	res, err := syncer.Apply(ctx, conn.Client, plan, observed, mem, creds)
	out.result = &res
	if err != nil {
		out = fail(err)
		if out.reason == reasonSyncing {
			out.status.Message = fmt.Sprintf("%d of %d calls made; the sync goes on in the next pass", res.Writes, plan.Writes())
		}
		return out
	}
	r.report(space, env.Name, &out, plan, res, desired.Revision)
	return out
}

// grantReadsPerPass spreads the reads of groups' grants so that a drift pass
// fits the budget of one resync period (three reads per group), leaving
// half the budget to the rest of the pass.
func (r *PlatformReconciler) grantReadsPerPass(groups int) int {
	if r.Options.RequestsPerMinute < 0 {
		return -1
	}
	perResync := int(float64(r.Options.RequestsPerMinute)*r.Options.Resync.Minutes()) / 2
	return max(1, min(groups, perResync/3))
}

func (r *PlatformReconciler) report(space *governorv1alpha1.Space, env string, out *envResult, plan platform.Plan, res syncer.Result, revision string) {
	st := &out.status
	if st.SyncedRevision != revision || res.Writes > 0 || st.LastSyncTime == nil {
		now := metav1.Now()
		st.LastSyncTime = &now
	}
	st.SyncedRevision = revision
	st.Groups = int32(len(res.GroupIDs))
	st.Grants = int32(len(res.Grants))
	pending := append(append([]string(nil), plan.Pending...), plan.NotExpressible...)
	st.PendingCount = int32(len(pending))
	st.Pending = bounded(pending, 20)
	st.Drift = nil
	if len(plan.Drift) > 0 {
		st.Drift = &governorv1alpha1.PlatformDrift{Count: int32(len(plan.Drift)), Examples: bounded(plan.Drift, 10)}
	}
	if plan.Unverified > 0 {
		st.Message = fmt.Sprintf("%d group(s)' grants are verified on later passes (request budget)", plan.Unverified)
	}
	platformPending.WithLabelValues(space.Name, env).Set(float64(len(pending)))
	platformDrift.WithLabelValues(space.Name, env).Set(float64(len(plan.Drift)))
	platformWrites.WithLabelValues(space.Name, env).Add(float64(res.Writes))
}

func bounded(items []string, n int) []string {
	if len(items) <= n {
		return items
	}
	return items[:n]
}

func platformMode(space *governorv1alpha1.Space) governorv1alpha1.PlatformMode {
	if space.Spec.Platform != nil && space.Spec.Platform.Mode != "" {
		return space.Spec.Platform.Mode
	}
	return governorv1alpha1.PlatformAdditive
}

// PlatformSource is the Space's source control (inherited settings applied)
// as the projection reads it.
func PlatformSource(space *governorv1alpha1.Space) *platform.SpaceSource {
	sc := space.EffectiveSourceControl()
	if sc == nil {
		return nil
	}
	return &platform.SpaceSource{Provider: string(sc.Provider), Repository: sc.Repository, DefaultBranch: sc.DefaultBranch}
}

// sourceControlCredentials reads the provider settings written with the
// source control configuration from the Space's credentials Secret.
func (r *PlatformReconciler) sourceControlCredentials(ctx context.Context, space *governorv1alpha1.Space) (syncer.Credentials, error) {
	sc := space.EffectiveSourceControl()
	if sc == nil || sc.CredentialsSecretRef == nil {
		return nil, nil
	}
	secret := &corev1.Secret{}
	if err := r.Get(ctx, types.NamespacedName{Namespace: r.Options.Namespace, Name: sc.CredentialsSecretRef.Name}, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil // source control is configured without credentials; Retool reports what it lacks
		}
		return nil, err
	}
	creds := syncer.Credentials{}
	for k, v := range secret.Data {
		if retoolCredentialKeys[k] {
			creds[k] = string(v)
		}
	}
	return creds, nil
}

// retoolCredentialKeys are the source control config fields Retool reads
// (GitHub App or personal token, GitLab, Bitbucket, Azure Repos, CodeCommit).
var retoolCredentialKeys = map[string]bool{
	"type": true, "app_id": true, "installation_id": true, "private_key": true, "personal_access_token": true, "url": true, "enterprise_api_url": true,
	"project_id": true, "project_access_token": true, "username": true, "app_password": true, "enterprise_api_url_bitbucket": true,
	"instance_name": true, "project_name": true, "user": true, "use_basic_auth": true,
	"region": true, "access_key_id": true, "secret_access_key": true, "https_username": true, "https_password": true,
}

// ensureSpace creates a child Space in env's instance through the admin
// Space's connection for the same environment, and returns its id ("" when
// there is no admin Space with that environment's instance).
func (r *PlatformReconciler) ensureSpace(ctx context.Context, space *governorv1alpha1.Space, env governorv1alpha1.Environment) (string, error) {
	admin, err := r.soleAdminSpace(ctx)
	if err != nil || admin == nil {
		return "", err
	}
	var adminEnv *governorv1alpha1.Environment
	for i := range admin.Spec.Environments {
		if e := admin.Spec.Environments[i]; e.Name == env.Name && e.Instance != nil {
			adminEnv = &admin.Spec.Environments[i]
		}
	}
	if adminEnv == nil {
		return "", nil
	}
	conn, err := r.connect(ctx, admin, *adminEnv)
	if err != nil {
		var pe *platformError
		if errors.As(err, &pe) {
			pe.msg = "the admin Space " + admin.Name + ", which creates this Space in the instance: " + pe.msg
		}
		return "", err
	}
	domain := spaceDomain(env.Instance)
	spaces, err := conn.Client.ListSpaces(ctx)
	if err != nil {
		return "", err
	}
	for _, s := range spaces {
		if strings.EqualFold(s.Domain, domain) {
			return s.ID, nil
		}
	}
	name := space.Spec.DisplayName
	if name == "" {
		name = space.Name
	}
	copySSO := space.Spec.SSO == nil && space.Spec.InheritFrom == admin.Name
	created, err := conn.Client.CreateSpace(ctx, retool.SpaceCreate{Name: name, Domain: domain, CopySSOSettings: copySSO})
	if err != nil {
		return "", err
	}
	r.Recorder.Eventf(space, nil, corev1.EventTypeNormal, "SpaceCreated", "Sync", "created the Space %s (%s) in the %s instance", created.ID, domain, env.Name)
	return created.ID, nil
}

// soleAdminSpace is the admin Space, nil while there is none or while two
// claim it (the Space controller stalls the younger).
func (r *PlatformReconciler) soleAdminSpace(ctx context.Context) (*governorv1alpha1.Space, error) {
	admins, err := adminSpaces(ctx, r.Client)
	if err != nil || len(admins) != 1 {
		return nil, err
	}
	return &admins[0], nil
}

// spaceDomain is the Space's domain in an instance: spec'd, else the URL's host.
func spaceDomain(inst *governorv1alpha1.Instance) string {
	if inst.Domain != "" {
		return inst.Domain
	}
	if u, err := url.Parse(inst.URL); err == nil {
		return u.Host
	}
	return ""
}

func findPlatformStatus(list []governorv1alpha1.EnvironmentPlatformStatus, env string) *governorv1alpha1.EnvironmentPlatformStatus {
	for i := range list {
		if list[i].Environment == env {
			return &list[i]
		}
	}
	return nil
}

// writeStatus records every environment's pass and PlatformSynced.
func (r *PlatformReconciler) writeStatus(ctx context.Context, space *governorv1alpha1.Space, results []envResult, revision string) error {
	before := space.DeepCopy()
	space.Status.Platform = make([]governorv1alpha1.EnvironmentPlatformStatus, len(results))
	for i, res := range results {
		space.Status.Platform[i] = res.status
	}
	sort.Slice(space.Status.Platform, func(i, j int) bool {
		return space.Status.Platform[i].Environment < space.Status.Platform[j].Environment
	})
	meta.SetStatusCondition(&space.Status.Conditions, platformSyncedCondition(results, revision, space.Generation))
	return r.patchStatus(ctx, before, space)
}

// finalizeSpace follows spec.platform.deletionPolicy in every instance and
// lets the Space go; an unreachable instance is given up on after a bounded
// number of attempts, with an event naming what was left behind.
func (r *PlatformReconciler) finalizeSpace(ctx context.Context, space *governorv1alpha1.Space) (reconcile.Result, error) {
	if !controllerutil.ContainsFinalizer(space, governorv1alpha1.PlatformFinalizer) {
		return reconcile.Result{}, nil
	}
	policy := governorv1alpha1.DeletionRetain
	if space.Spec.Platform != nil && space.Spec.Platform.DeletionPolicy != "" {
		policy = space.Spec.Platform.DeletionPolicy
	}
	var failed []string
	if policy == governorv1alpha1.DeletionDelete && !space.Spec.Admin {
		for _, env := range instanceEnvironments(space) {
			if err := r.deleteSpace(ctx, space, env); err != nil {
				failed = append(failed, fmt.Sprintf("%s (%v)", env.Name, err))
			}
		}
	}
	if len(failed) > 0 && !r.deletionDone(space.UID) {
		return reconcile.Result{RequeueAfter: retryDelay}, nil
	}
	if len(failed) > 0 {
		r.Recorder.Eventf(space, nil, corev1.EventTypeWarning, "PlatformLeftBehind", "Delete",
			"gave up deleting the Space in: %s; delete it there by hand", strings.Join(failed, ", "))
	}
	// The instances have let go of the Space (deletionPolicy): its groups and
	// rules no longer wait for them, so that its namespace can go too.
	if err := r.releaseFinalizers(ctx, space.TargetNamespace(), false); err != nil {
		return reconcile.Result{}, err
	}
	controllerutil.RemoveFinalizer(space, governorv1alpha1.PlatformFinalizer)
	return reconcile.Result{}, client.IgnoreNotFound(r.Update(ctx, space))
}

// releaseFinalizers removes the platform finalizer from the groups and rules
// of a namespace (only from those being deleted, with onlyDeleting).
func (r *PlatformReconciler) releaseFinalizers(ctx context.Context, namespace string, onlyDeleting bool) error {
	objs, err := r.loadObjects(ctx, namespace)
	if err != nil {
		return err
	}
	release := func(obj client.Object) error {
		if onlyDeleting && obj.GetDeletionTimestamp().IsZero() {
			return nil
		}
		return removePlatformFinalizer(ctx, r.Client, obj)
	}
	for i := range objs.groups {
		if err := release(&objs.groups[i]); err != nil {
			return err
		}
	}
	for i := range objs.rules {
		if err := release(&objs.rules[i]); err != nil {
			return err
		}
	}
	return nil
}

func (r *PlatformReconciler) deleteSpace(ctx context.Context, space *governorv1alpha1.Space, env governorv1alpha1.Environment) error {
	id := ""
	if st := findPlatformStatus(space.Status.Platform, env.Name); st != nil {
		id = st.SpaceID
	}
	if id == "" {
		return nil
	}
	admin, err := r.soleAdminSpace(ctx)
	if err != nil || admin == nil {
		return err
	}
	for _, e := range admin.Spec.Environments {
		if e.Name != env.Name || e.Instance == nil {
			continue
		}
		conn, err := r.connect(ctx, admin, e)
		if err != nil {
			return err
		}
		if err := conn.Client.DeleteSpace(ctx, id); err != nil && !retool.IsNotFound(err) {
			return err
		}
	}
	return nil
}

// deletionDone counts a failed deletion pass of uid and reports whether the
// attempts are used up.
func (r *PlatformReconciler) deletionDone(uid types.UID) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.deleteTries[uid]++
	if r.deleteTries[uid] >= r.Options.DeletionAttempts {
		delete(r.deleteTries, uid)
		return true
	}
	return false
}

// SetupWithManager registers the platform controller: a Space is synced when
// its model's revision changes, its spec changes, a token Secret changes,
// and every resync period.
func (r *PlatformReconciler) SetupWithManager(mgr ctrl.Manager) error {
	toSpace := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
		return spaceRequestsForNamespace(ctx, r.Client, o.GetNamespace())
	})
	bySecret := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
		if o.GetNamespace() != r.Options.Namespace {
			return nil
		}
		var spaces governorv1alpha1.SpaceList
		if err := r.List(ctx, &spaces, client.MatchingFields{indexSpaceSecret: o.GetName()}); err != nil {
			return nil
		}
		return spaceRequests(spaces.Items)
	})
	return ctrl.NewControllerManagedBy(mgr).
		Named("platform").
		For(&governorv1alpha1.Space{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, deletionPredicate()))).
		// Deleting a group or rule (its finalizer holds it until the instances let go).
		Watches(&governorv1alpha1.PermissionGroup{}, toSpace, builder.WithPredicates(deletionPredicate())).
		Watches(&governorv1alpha1.AccessRule{}, toSpace, builder.WithPredicates(deletionPredicate())).
		Watches(&corev1.Secret{}, bySecret).
		WatchesRawSource(r.Models.Source(func(c ModelChange) []reconcile.Request {
			return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: c.Space}}}
		})).
		WithOptions(controller.Options{MaxConcurrentReconciles: 4}).
		Complete(quietConflicts(r))
}

// Throttled counts the 429s an instance has answered.
func (c *Connections) Throttled(instance string) *atomic.Int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.throttledLocked(instance)
}

func (c *Connections) throttledLocked(instance string) *atomic.Int64 {
	n := c.throttled[instance]
	if n == nil {
		n = &atomic.Int64{}
		c.throttled[instance] = n
	}
	return n
}

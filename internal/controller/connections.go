package controller

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/platform"
	"github.com/governor-dev/governor/internal/platform/retool"
	"github.com/governor-dev/governor/internal/platform/syncer"
)

// PlatformOptions configure the platform sync.
type PlatformOptions struct {
	// Namespace is Governor's own namespace, where instance token Secrets live.
	Namespace string
	// RequestsPerMinute is the request budget of an instance whose
	// spec.environments[].instance.requestsPerMinute is unset (default 45;
	// negative: unlimited).
	RequestsPerMinute int
	// Resync is how often an instance is checked for drift (default 10m).
	Resync time.Duration
	// PassTimeout bounds one pass over an environment; a longer sync goes on
	// in the next pass (default 2m).
	PassTimeout time.Duration
	// RequestTimeout bounds each request to an instance (default 30s).
	RequestTimeout time.Duration
	// DeletionAttempts bounds how many passes a deletion waits for an
	// unreachable instance before it completes anyway (default 5).
	DeletionAttempts int
	// TokenGrace is how long a Space whose token Secret does not exist yet
	// is Reconciling before it is Stalled on it (default 1m): installers and
	// `governor dev` create the Secret moments after the Space.
	TokenGrace time.Duration
	// HTTPClient, when set, sends the instances' API calls (tests validate
	// them against Retool's OpenAPI description through it).
	HTTPClient *http.Client
	// Connections are shared by the platform sync and release publishing
	// (one budget per instance); made from the options when nil.
	Connections *Connections
	// Expressibility carries the platform sync's verdict on each AccessRule
	// to the rule's object reconciler (PlatformExpressible); made when nil.
	Expressibility *PlatformExpressibility
}

// WithDefaults returns the options with their defaults filled in.
func (o PlatformOptions) WithDefaults() PlatformOptions {
	o.defaults()
	return o
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
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = retool.DefaultTimeout
	}
	if o.DeletionAttempts <= 0 {
		o.DeletionAttempts = 5
	}
	if o.TokenGrace <= 0 {
		o.TokenGrace = time.Minute
	}
}

// Connections are the instances' API clients as Spaces reach them, with one
// request budget per instance URL shared by everything that calls it (the
// platform sync and release publishing). Safe for concurrent use.
type Connections struct {
	reader  client.Reader
	options PlatformOptions

	mu        sync.Mutex
	limiters  map[string]*rate.Limiter      // instance URL -> its budget
	budgets   map[string]map[string]int     // instance URL -> space/env -> requests a minute asked for
	throttled map[string]*atomic.Int64      // instance URL -> 429s answered
	answered  map[string]*atomic.Int64      // instance URL -> requests answered
	clients   map[string]*clientWithVersion // space/env -> client
}

// NewConnections returns the connections of Spaces to their instances;
// token Secrets are read with reader from opts.Namespace.
func NewConnections(reader client.Reader, opts PlatformOptions) *Connections {
	opts.defaults()
	return &Connections{reader: reader, options: opts, limiters: map[string]*rate.Limiter{}, budgets: map[string]map[string]int{},
		throttled: map[string]*atomic.Int64{}, answered: map[string]*atomic.Int64{}, clients: map[string]*clientWithVersion{}}
}

type clientWithVersion struct {
	key    string // url, domain, token
	client *retool.Client
}

// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch,namespace=governor-system

// Connection is one environment's instance as a Space reaches it.
type Connection struct {
	Env    governorv1alpha1.Environment
	Client *retool.Client
	// Key names the Space and environment ("payments/development").
	Key string
	// Secret holds the token.
	Secret types.NamespacedName
	// RequestsPerMinute is the instance's budget (negative: unlimited).
	RequestsPerMinute int
}

// TokenSecret names the Secret holding a Space's token for env's instance.
func (c *Connections) TokenSecret(env governorv1alpha1.Environment) types.NamespacedName {
	return types.NamespacedName{Namespace: c.options.Namespace, Name: env.Instance.TokenSecretRef.Name}
}

// Connect returns the client of env's instance for the Space, or why not
// (a *syncer.Error naming the token Secret to create, say).
func (c *Connections) Connect(ctx context.Context, space *governorv1alpha1.Space, env governorv1alpha1.Environment) (*Connection, error) {
	inst := env.Instance
	key := inst.TokenSecretRef.Key
	if key == "" {
		key = "token"
	}
	secret := &corev1.Secret{}
	ref := c.TokenSecret(env)
	howTo := fmt.Sprintf("create an API token in the %s Space's Settings > API of the %s instance and store it as key %q of Secret %s",
		space.Name, env.Name, key, ref)
	if err := c.reader.Get(ctx, ref, secret); err != nil {
		if apierrors.IsNotFound(err) {
			// Progressing, not stalled: the Secret's creation starts a pass.
			return nil, tokenMissing(fmt.Sprintf("Secret %s not found: %s", ref, howTo))
		}
		return nil, syncer.Retry(syncer.ReasonAPIServerError, fmt.Errorf("reading Secret %s: %w", ref, err))
	}
	token := strings.TrimSpace(string(secret.Data[key]))
	if token == "" {
		return nil, tokenMissing(fmt.Sprintf("Secret %s has no key %q: %s", ref, key, howTo))
	}
	rpm := c.options.RequestsPerMinute
	if inst.RequestsPerMinute != nil {
		rpm = int(*inst.RequestsPerMinute)
	}
	id := space.Name + "/" + env.Name
	cacheKey := inst.URL + "|" + inst.Domain + "|" + token
	c.mu.Lock()
	defer c.mu.Unlock()
	rpm = c.budgetLocked(inst.URL, id, rpm)
	conn := &Connection{Env: env, Key: id, Secret: ref, RequestsPerMinute: rpm}
	if cached := c.clients[id]; cached != nil && cached.key == cacheKey {
		conn.Client = cached.client
		return conn, nil
	}
	throttled, answered := c.throttledLocked(inst.URL), c.answeredLocked(inst.URL)
	opts := retool.Options{URL: inst.URL, Domain: inst.Domain, Token: token, Limiter: c.limiters[inst.URL], RequestsPerMinute: rpm,
		Timeout: c.options.RequestTimeout, HTTPClient: c.options.HTTPClient,
		Observe: func(method, path string, code int, d time.Duration) {
			if code == http.StatusTooManyRequests {
				throttled.Add(1)
			}
			if code != 0 {
				answered.Add(1)
			}
			observeRequest(inst.URL)(method, path, code, d)
		}}
	rc, err := retool.New(opts)
	if err != nil {
		return nil, syncer.Stalled(syncer.ReasonInvalid, "spec.environments["+env.Name+"].instance", err)
	}
	c.clients[id] = &clientWithVersion{key: cacheKey, client: rc}
	conn.Client = rc
	return conn, nil
}

// tokenMissing is a token Secret that does not exist (yet): progressing, not
// stalled, since `governor dev` and installers create it a moment later and
// its creation starts a pass.
func tokenMissing(msg string) error {
	return &syncer.Error{Kind: syncer.Waiting, Reason: syncer.ReasonTokenMissing, RequeueAfter: time.Minute, Message: msg}
}

// budgetLocked records the budget a Space asks of an instance and returns
// the instance's: the lowest any Space asks, shared by all of them.
func (c *Connections) budgetLocked(url, id string, rpm int) int {
	if c.budgets[url] == nil {
		c.budgets[url] = map[string]int{}
	}
	c.budgets[url][id] = rpm
	lowest := 0
	for _, v := range c.budgets[url] {
		if v > 0 && (lowest == 0 || v < lowest) {
			lowest = v
		}
	}
	if lowest == 0 { // every Space asks for no limit
		delete(c.limiters, url)
		return -1
	}
	lim := c.limiters[url]
	if lim == nil {
		c.limiters[url] = retool.NewLimiter(lowest)
	} else if want := retool.NewLimiter(lowest).Limit(); lim.Limit() != want {
		lim.SetLimit(want)
	}
	return lowest
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

// classifyPlatformError names a failure for a condition: its reason,
// whether the user must act, and a message saying what to do.
func classifyPlatformError(err error) (reason string, stalled bool, msg string) {
	e := syncer.Classify(KubernetesError(err))
	return e.Reason, e.Kind == syncer.Stalling, e.Error()
}

// KubernetesError marks an error of the Kubernetes API server as such, so
// that it is never taken for the instance's.
func KubernetesError(err error) error {
	var se *syncer.Error
	if err == nil || errors.As(err, &se) {
		return err
	}
	if _, ok := err.(apierrors.APIStatus); ok || errors.As(err, new(apierrors.APIStatus)) {
		return syncer.Retry(syncer.ReasonAPIServerError, err)
	}
	return err
}

// Platform reasons the Space and release controllers read from
// PlatformSynced and platform failures.
const (
	reasonTokenMissing = syncer.ReasonTokenMissing
	reasonUnauthorized = syncer.ReasonUnauthorized
	reasonForbidden    = syncer.ReasonForbidden
	reasonSSOSecret    = syncer.ReasonSSOSecret
)

// retryDelay is when something that failed for a passing reason is tried again.
const retryDelay = syncer.DefaultWait

// Answered counts the requests an instance answered (any status).
func (c *Connections) Answered(instance string) *atomic.Int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.answeredLocked(instance)
}

func (c *Connections) answeredLocked(instance string) *atomic.Int64 {
	n := c.answered[instance]
	if n == nil {
		n = &atomic.Int64{}
		c.answered[instance] = n
	}
	return n
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

// SourceControlCredentials are the provider settings written with the
// Space's source control configuration, read from its credentials Secret
// and typed as Retool's document types them for the Space's provider (only
// that provider's keys: the Secret may also hold the git credentials that
// releases are resolved with). nil when the Secret holds none of them; an
// error names the Secret and what is missing or mistyped.
func SourceControlCredentials(space *governorv1alpha1.Space, secret *corev1.Secret) (syncer.Credentials, error) {
	sc := space.EffectiveSourceControl()
	if sc == nil {
		return nil, nil
	}
	provider, ok := platform.RetoolProvider(string(sc.Provider))
	if !ok {
		return nil, nil // a provider Retool has no configuration for (plain Git): nothing to write
	}
	cfg, err := platform.SourceControlCredentials(provider, secret.Data)
	if err != nil {
		return nil, fmt.Errorf("the credentials Secret %s/%s: %w", secret.Namespace, secret.Name, err)
	}
	return cfg, nil
}

package decisionapi

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/apis/apiserver"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/authenticatorfactory"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	authenticationv1 "k8s.io/client-go/kubernetes/typed/authentication/v1"
	authorizationv1 "k8s.io/client-go/kubernetes/typed/authorization/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/lru"
)

// Callers are authenticated with TokenReview and authorised with
// SubjectAccessReview against the API server, the way controller-runtime's
// metrics filter and kube-rbac-proxy do. Each endpoint is a virtual
// subresource of the Space, so RBAC grants it per Space:
//
//   - apiGroups: [governor.dev]
//     resources: [spaces/check, spaces/who-can, spaces/permissions]
//     verbs: [create]          # check, who-can
//     # verbs: [get]           # permissions
//     resourceNames: [payments]  # optional: only this Space
const apiGroup = "governor.dev"

// Authorizer decides who may call the API. Delegating to the API server is
// the production implementation.
type Authorizer interface {
	// Authenticate returns the caller, or ok=false when the request carries no valid credentials.
	Authenticate(r *http.Request) (user.Info, bool, error)
	// Allowed asks whether the caller may use subresource of the Space with verb.
	Allowed(ctx context.Context, u user.Info, verb, subresource, space string) (bool, string, error)
}

// AuthOptions tune authentication.
type AuthOptions struct {
	// Audiences, when set, are asked of TokenReview (spec.audiences): only
	// tokens minted for one of them are accepted, not a pod's default token.
	Audiences []string
	// FailuresPerSecond and FailureBurst bound the failed authentications
	// one client address may cause (each a TokenReview); past them it is
	// answered 429 without a review. Defaults: 1 per second, burst 10.
	FailuresPerSecond float64
	FailureBurst      int
	// MaxClients bounds the client addresses remembered (least recently seen
	// are forgotten first). Default 10000.
	MaxClients int
	// NegativeTTL is how long a refused token is refused without a new
	// review, keyed by its SHA-256. Default 10s.
	NegativeTTL time.Duration
}

func (o AuthOptions) withDefaults() AuthOptions {
	if o.FailuresPerSecond <= 0 {
		o.FailuresPerSecond = 1
	}
	if o.FailureBurst <= 0 {
		o.FailureBurst = 10
	}
	if o.MaxClients <= 0 {
		o.MaxClients = 10000
	}
	if o.NegativeTTL <= 0 {
		o.NegativeTTL = 10 * time.Second
	}
	return o
}

// ErrTooManyFailures is returned by Authenticate when the client address
// has used up its budget of failed authentications.
var ErrTooManyFailures = errors.New("too many failed authentications from this address")

// Delegating authenticates and authorises against the API server, with
// short-lived caches so that a busy caller costs one review a minute, and a
// budget of failed authentications per client address so that junk tokens
// cannot flood TokenReview.
type Delegating struct {
	authn     authenticator.Request
	authz     authorizer.Authorizer
	audiences authenticator.Audiences
	failures  *failureGuard
}

// NewDelegating builds the TokenReview/SubjectAccessReview authorizer.
func NewDelegating(cfg *rest.Config, opts AuthOptions) (*Delegating, error) {
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	authnClient, err := authenticationv1.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, err
	}
	authzClient, err := authorizationv1.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, err
	}
	return newDelegating(authnClient, authzClient, opts)
}

func newDelegating(authnClient authenticationv1.AuthenticationV1Interface, authzClient authorizationv1.AuthorizationV1Interface, opts AuthOptions) (*Delegating, error) {
	opts = opts.withDefaults()
	backoff := &wait.Backoff{Duration: 500 * time.Millisecond, Factor: 1.5, Jitter: 0.2, Steps: 5}
	authn, _, err := authenticatorfactory.DelegatingAuthenticatorConfig{
		Anonymous:                &apiserver.AnonymousAuthConfig{Enabled: false},
		CacheTTL:                 time.Minute,
		TokenAccessReviewClient:  authnClient,
		TokenAccessReviewTimeout: 10 * time.Second,
		WebhookRetryBackoff:      backoff,
		APIAudiences:             opts.Audiences,
	}.New()
	if err != nil {
		return nil, fmt.Errorf("authenticator: %w", err)
	}
	authz, err := authorizerfactory.DelegatingAuthorizerConfig{
		SubjectAccessReviewClient: authzClient,
		AllowCacheTTL:             time.Minute,
		DenyCacheTTL:              10 * time.Second,
		WebhookRetryBackoff:       backoff,
	}.New()
	if err != nil {
		return nil, fmt.Errorf("authorizer: %w", err)
	}
	return &Delegating{authn: authn, authz: authz, audiences: opts.Audiences, failures: newFailureGuard(opts)}, nil
}

// Authenticate reviews the request's bearer token: a token refused in the
// last NegativeTTL is refused again without a review, and an address past
// its budget of failures gets ErrTooManyFailures without one.
func (d *Delegating) Authenticate(r *http.Request) (user.Info, bool, error) {
	token, ok := bearerToken(r)
	if !ok {
		return nil, false, nil
	}
	key := sha256.Sum256([]byte(token))
	if d.failures.refusedRecently(key) {
		return nil, false, nil
	}
	// A token accepted lately is not held back by its address's failures
	// (a valid caller behind the same address as a flood keeps working).
	reservation := noReservation
	if !d.failures.acceptedRecently(key) {
		res, ok := d.failures.reserve(clientAddress(r))
		if !ok {
			return nil, false, ErrTooManyFailures
		}
		reservation = res
	}
	if len(d.audiences) > 0 {
		r = r.WithContext(authenticator.WithAudiences(r.Context(), d.audiences))
	}
	res, ok, err := d.authn.AuthenticateRequest(r)
	if err != nil || !ok {
		// A refused token comes back as an error (TokenReview's
		// status.error) as does a review that could not be made; both are
		// charged and remembered, so that neither can be repeated at
		// TokenReview's expense.
		d.failures.refuse(key)
		return nil, false, nil
	}
	reservation.Cancel() // a success costs nothing from the budget
	d.failures.accept(key)
	return res.User, true, nil
}

// bearerToken is the request's bearer token, when it has one.
func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "bearer") || token == "" {
		return "", false
	}
	return token, true
}

// clientAddress is the TCP peer's IP (no forwarding header is trusted).
func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// failureGuard holds a token bucket of failed authentications per client
// address and the hashes of recently refused and accepted tokens, each an
// LRU of at most MaxClients entries.
type failureGuard struct {
	opts     AuthOptions
	mu       sync.Mutex
	clients  *lru.Cache // address -> *rate.Limiter
	refused  *lru.Cache // sha256(token) -> time.Time (until)
	accepted *lru.Cache // sha256(token) -> time.Time (until)
	now      func() time.Time
}

// acceptedTTL matches the authenticator's cache of accepted tokens.
const acceptedTTL = time.Minute

// noReservation is a reservation with nothing to give back.
var noReservation = rate.NewLimiter(rate.Inf, 0).Reserve()

func newFailureGuard(opts AuthOptions) *failureGuard {
	return &failureGuard{opts: opts, clients: lru.New(opts.MaxClients), refused: lru.New(opts.MaxClients),
		accepted: lru.New(opts.MaxClients), now: time.Now}
}

func (g *failureGuard) accept(key [sha256.Size]byte) {
	g.accepted.Add(key, g.now().Add(acceptedTTL))
}

func (g *failureGuard) acceptedRecently(key [sha256.Size]byte) bool {
	v, ok := g.accepted.Get(key)
	return ok && g.now().Before(v.(time.Time))
}

// reserve takes one failure from the address's budget, to be given back
// (Cancel) unless the authentication fails; ok is false when none is left.
func (g *failureGuard) reserve(addr string) (*rate.Reservation, bool) {
	g.mu.Lock()
	var lim *rate.Limiter
	if v, ok := g.clients.Get(addr); ok {
		lim = v.(*rate.Limiter)
	} else {
		lim = rate.NewLimiter(rate.Limit(g.opts.FailuresPerSecond), g.opts.FailureBurst)
		g.clients.Add(addr, lim)
	}
	g.mu.Unlock()
	res := lim.ReserveN(g.now(), 1)
	if !res.OK() || res.DelayFrom(g.now()) > 0 {
		res.CancelAt(g.now())
		return nil, false
	}
	return res, true
}

func (g *failureGuard) refuse(key [sha256.Size]byte) {
	g.refused.Add(key, g.now().Add(g.opts.NegativeTTL))
}

func (g *failureGuard) refusedRecently(key [sha256.Size]byte) bool {
	v, ok := g.refused.Get(key)
	return ok && g.now().Before(v.(time.Time))
}

// Allowed reviews access to a Space's virtual subresource.
func (d *Delegating) Allowed(ctx context.Context, u user.Info, verb, subresource, space string) (bool, string, error) {
	decision, reason, err := d.authz.Authorize(ctx, authorizer.AttributesRecord{
		User:            u,
		Verb:            verb,
		APIGroup:        apiGroup,
		APIVersion:      "v1alpha1",
		Resource:        "spaces",
		Subresource:     subresource,
		Name:            space,
		ResourceRequest: true,
	})
	if err != nil {
		return false, "", err
	}
	return decision == authorizer.DecisionAllow, reason, nil
}

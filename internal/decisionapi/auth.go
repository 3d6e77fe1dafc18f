package decisionapi

import (
	"context"
	"fmt"
	"net/http"
	"time"

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

// Delegating authenticates and authorises against the API server, with
// short-lived caches so that a busy caller costs one review a minute.
type Delegating struct {
	authn authenticator.Request
	authz authorizer.Authorizer
}

// NewDelegating builds the TokenReview/SubjectAccessReview authorizer.
func NewDelegating(cfg *rest.Config) (*Delegating, error) {
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
	backoff := &wait.Backoff{Duration: 500 * time.Millisecond, Factor: 1.5, Jitter: 0.2, Steps: 5}
	authn, _, err := authenticatorfactory.DelegatingAuthenticatorConfig{
		Anonymous:                &apiserver.AnonymousAuthConfig{Enabled: false},
		CacheTTL:                 time.Minute,
		TokenAccessReviewClient:  authnClient,
		TokenAccessReviewTimeout: 10 * time.Second,
		WebhookRetryBackoff:      backoff,
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
	return &Delegating{authn: authn, authz: authz}, nil
}

// Authenticate reviews the request's bearer token.
func (d *Delegating) Authenticate(r *http.Request) (user.Info, bool, error) {
	res, ok, err := d.authn.AuthenticateRequest(r)
	if err != nil || !ok {
		return nil, false, err
	}
	return res.User, true, nil
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

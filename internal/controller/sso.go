package controller

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/platform/retool"
	"github.com/governor-dev/governor/internal/platform/syncer"
)

// ssoConfigTypes maps spec.sso.provider.type to Retool's config_type.
var ssoConfigTypes = map[governorv1alpha1.SSOProviderType]string{
	governorv1alpha1.SSOProviderGoogle:        retool.SSOGoogle,
	governorv1alpha1.SSOProviderOIDC:          retool.SSOOIDC,
	governorv1alpha1.SSOProviderGoogleAndOIDC: retool.SSOGoogleAndOIDC,
	governorv1alpha1.SSOProviderSAML:          retool.SSOSAML,
	governorv1alpha1.SSOProviderGoogleAndSAML: retool.SSOGoogleAndSAML,
}

// LoadSSOProvider reads the Space's effective identity provider (its own or
// inherited) and its Secret from Governor's namespace: the connection part
// of the instances' SSO configuration, secrets included. nil when the Space
// declares none. A missing Secret or key is a stalling *syncer.Error
// naming it.
func LoadSSOProvider(ctx context.Context, reader client.Reader, namespace string, space *governorv1alpha1.Space) (*retool.SSOConfig, error) {
	sso := space.EffectiveSSO()
	if sso == nil || sso.Provider == nil {
		return nil, nil
	}
	p := sso.Provider
	ref := types.NamespacedName{Namespace: namespace, Name: p.SecretRef.Name}
	secret := &corev1.Secret{}
	if err := reader.Get(ctx, ref, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, syncer.Stalled(syncer.ReasonSSOSecret, fmt.Sprintf("spec.sso.provider.secretRef: Secret %s not found: create it with key(s) %s",
				ref, keysText(ssoSecretKeys(p))), err)
		}
		return nil, syncer.Retry(syncer.ReasonAPIServerError, fmt.Errorf("reading Secret %s: %w", ref, err))
	}
	cfg, err := SSOConfig(p, secret.Data)
	if err != nil {
		return nil, syncer.Stalled(syncer.ReasonSSOSecret, fmt.Sprintf("spec.sso.provider.secretRef: Secret %s: %v", ref, err), err)
	}
	return &cfg, nil
}

// ssoSecretKeys are the keys the provider's Secret must hold.
func ssoSecretKeys(p *governorv1alpha1.SSOProvider) []string {
	var keys []string
	if p.Google != nil {
		keys = append(keys, governorv1alpha1.SSOSecretGoogleClientSecret)
	}
	if p.OIDC != nil {
		keys = append(keys, governorv1alpha1.SSOSecretOIDCClientSecret)
	}
	if p.SAML != nil {
		keys = append(keys, governorv1alpha1.SSOSecretSAMLMetadata)
	}
	return keys
}

func keysText(keys []string) string { return strings.Join(keys, ", ") }

// SSOConfig is the /sso/config body of provider, its secrets read from the
// provider Secret's data; JIT, the allowed domains and the role mappings
// are the projection's. An error names the missing key.
func SSOConfig(p *governorv1alpha1.SSOProvider, data map[string][]byte) (retool.SSOConfig, error) {
	typ, ok := ssoConfigTypes[p.Type]
	if !ok {
		return retool.SSOConfig{}, fmt.Errorf("spec.sso.provider.type %q: want OIDC, SAML, Google, GoogleAndOIDC or GoogleAndSAML", p.Type)
	}
	for _, k := range ssoSecretKeys(p) {
		if len(data[k]) == 0 {
			return retool.SSOConfig{}, fmt.Errorf("no key %q (spec.sso.provider type %s needs key(s) %s)", k, p.Type, keysText(ssoSecretKeys(p)))
		}
	}
	cfg := retool.SSOConfig{ConfigType: typ, DisableEmailPasswordLogin: p.DisableEmailPasswordLogin}
	if typ != retool.SSOGoogle {
		trigger := p.TriggerLoginAutomatically
		cfg.TriggerLoginAutomatically = &trigger
	}
	if g := p.Google; g != nil {
		cfg.GoogleClientID = g.ClientID
		cfg.GoogleClientSecret = string(data[governorv1alpha1.SSOSecretGoogleClientSecret])
	}
	if o := p.OIDC; o != nil {
		cfg.OIDCClientID, cfg.OIDCClientSecret = o.ClientID, string(data[governorv1alpha1.SSOSecretOIDCClientSecret])
		cfg.OIDCScopes, cfg.OIDCAuthURL, cfg.OIDCTokenURL = orDefault(o.Scopes, "openid email profile"), o.AuthorizationURL, o.TokenURL
		cfg.OIDCUserinfoURL, cfg.OIDCAudience = o.UserinfoURL, o.Audience
		cfg.JWTEmailKey = orDefault(o.Claims.Email, "idToken.email")
		cfg.JWTFirstNameKey = orDefault(o.Claims.FirstName, "idToken.given_name")
		cfg.JWTLastNameKey = orDefault(o.Claims.LastName, "idToken.family_name")
		cfg.JWTRolesKey = o.Claims.Roles
	}
	if s := p.SAML; s != nil {
		cfg.IDPMetadataXML = string(data[governorv1alpha1.SSOSecretSAMLMetadata])
		cfg.SAMLFirstNameAttribute, cfg.SAMLLastNameAttribute, cfg.SAMLGroupsAttribute = s.FirstNameAttribute, s.LastNameAttribute, s.GroupsAttribute
		cfg.SAMLSyncGroupClaims = boolOr(s.SyncGroupClaims, true)
		if l := s.LDAP; l != nil {
			cfg.LDAPServerURL, cfg.LDAPServerName, cfg.LDAPBaseDomainComponents = l.ServerURL, l.ServerName, l.BaseDomainComponents
			cfg.LDAPSyncGroupClaims = boolOr(l.SyncGroupClaims, true)
			cfg.LDAPServerKey = string(data[governorv1alpha1.SSOSecretLDAPServerKey])
			cfg.LDAPServerCertificate = string(data[governorv1alpha1.SSOSecretLDAPServerCertificate])
		}
	}
	return cfg, nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func boolOr(v *bool, def bool) *bool {
	if v != nil {
		def = *v
	}
	return &def
}

package retool

import (
	"context"
	"net/http"
	"strings"
)

const pathSSOConfig = "/sso/config"

// SSO configuration types (SSOConfig.ConfigType).
const (
	SSOGoogle          = "google"
	SSOOIDC            = "oidc"
	SSOGoogleAndOIDC   = "google & oidc"
	SSOSAML            = "saml"
	SSOGoogleAndSAML   = "google & saml"
	ssoEncryptedCanary = "__RETOOL_ENCRYPTED_JSON__"
)

// SSOConfig is a Space's SSO configuration (/sso/config). Retool closes
// each ConfigType to its own fields: leave the others empty (nil). Secrets
// (the client secrets, the LDAP key and certificate) come back encrypted,
// never as sent: compare everything else.
type SSOConfig struct {
	ConfigType                string `json:"config_type"`
	DisableEmailPasswordLogin bool   `json:"disable_email_password_login"`

	GoogleClientID     string `json:"google_client_id,omitempty"`
	GoogleClientSecret string `json:"google_client_secret,omitempty"`

	OIDCClientID     string `json:"oidc_client_id,omitempty"`
	OIDCClientSecret string `json:"oidc_client_secret,omitempty"`
	OIDCScopes       string `json:"oidc_scopes,omitempty"`
	OIDCAuthURL      string `json:"oidc_auth_url,omitempty"`
	OIDCTokenURL     string `json:"oidc_token_url,omitempty"`
	OIDCUserinfoURL  string `json:"oidc_userinfo_url,omitempty"`
	OIDCAudience     string `json:"oidc_audience,omitempty"`
	JWTEmailKey      string `json:"jwt_email_key,omitempty"`
	JWTRolesKey      string `json:"jwt_roles_key,omitempty"`
	JWTFirstNameKey  string `json:"jwt_first_name_key,omitempty"`
	JWTLastNameKey   string `json:"jwt_last_name_key,omitempty"`
	// RolesMapping maps IdP roles to groups: "idp-role->group,...".
	RolesMapping string `json:"roles_mapping,omitempty"`

	IDPMetadataXML           string `json:"idp_metadata_xml,omitempty"`
	SAMLFirstNameAttribute   string `json:"saml_first_name_attribute,omitempty"`
	SAMLLastNameAttribute    string `json:"saml_last_name_attribute,omitempty"`
	SAMLGroupsAttribute      string `json:"saml_groups_attribute,omitempty"`
	SAMLSyncGroupClaims      *bool  `json:"saml_sync_group_claims,omitempty"`
	LDAPSyncGroupClaims      *bool  `json:"ldap_sync_group_claims,omitempty"`
	LDAPRoleMapping          string `json:"ldap_role_mapping,omitempty"`
	LDAPServerURL            string `json:"ldap_server_url,omitempty"`
	LDAPBaseDomainComponents string `json:"ldap_base_domain_components,omitempty"`
	LDAPServerName           string `json:"ldap_server_name,omitempty"`
	LDAPServerKey            string `json:"ldap_server_key,omitempty"`
	LDAPServerCertificate    string `json:"ldap_server_certificate,omitempty"`

	// JITEnabled, RestrictedDomain (comma-separated domains) and
	// TriggerLoginAutomatically belong to every type but google.
	JITEnabled                *bool  `json:"jit_enabled,omitempty"`
	RestrictedDomain          string `json:"restricted_domain,omitempty"`
	TriggerLoginAutomatically *bool  `json:"trigger_login_automatically,omitempty"`
}

// GetSSOConfig returns the Space's SSO configuration, or nil when it has
// none (Retool's 404).
func (c *Client) GetSSOConfig(ctx context.Context) (*SSOConfig, error) {
	var cfg SSOConfig
	_, err := c.do(ctx, call{method: http.MethodGet, template: pathSSOConfig, idempotent: true}, &cfg)
	if IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &cfg, nil
}

// SetSSOConfig replaces the Space's SSO configuration; the answer holds the
// secrets encrypted.
func (c *Client) SetSSOConfig(ctx context.Context, cfg SSOConfig) (SSOConfig, error) {
	body := struct {
		Data SSOConfig `json:"data"`
	}{Data: cfg}
	var out SSOConfig
	_, err := c.do(ctx, call{method: http.MethodPost, template: pathSSOConfig, body: body, idempotent: true}, &out)
	return out, err
}

// DeleteSSOConfig removes the Space's SSO configuration.
func (c *Client) DeleteSSOConfig(ctx context.Context) error {
	_, err := c.do(ctx, call{method: http.MethodDelete, template: pathSSOConfig, idempotent: true}, nil)
	return err
}

// IsEncryptedSecret reports whether v is a secret as Retool answers it
// (encrypted), not as it was sent.
func IsEncryptedSecret(v string) bool {
	return v == EncryptedSecret || (strings.HasPrefix(v, "{") && strings.Contains(v, ssoEncryptedCanary))
}

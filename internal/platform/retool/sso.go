package retool

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
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

// secretFields are the SSOConfig's secrets, by Retool's name: Retool
// answers them encrypted, so they are compared by digest, never by value.
func (c *SSOConfig) secretFields() []struct {
	name string
	v    *string
} {
	return []struct {
		name string
		v    *string
	}{
		{"google_client_secret", &c.GoogleClientSecret}, {"oidc_client_secret", &c.OIDCClientSecret},
		{"idp_metadata_xml", &c.IDPMetadataXML}, {"ldap_server_key", &c.LDAPServerKey},
		{"ldap_server_certificate", &c.LDAPServerCertificate},
	}
}

// WithoutSecrets returns c with its secrets (and the SAML metadata, which
// Governor keeps with them) emptied: what an instance's answer is compared
// with.
func (c SSOConfig) WithoutSecrets() SSOConfig {
	for _, f := range c.secretFields() {
		*f.v = ""
	}
	return c
}

// WithSecretsOf returns c with the secrets of src.
func (c SSOConfig) WithSecretsOf(src SSOConfig) SSOConfig {
	from := src.secretFields()
	for i, f := range c.secretFields() {
		*f.v = *from[i].v
	}
	return c
}

// SecretDigest digests c's secrets (SHA-256 of each field's name and value):
// remembered in place of the secrets, so that a changed secret is sent
// again. "" when c holds none.
func (c SSOConfig) SecretDigest() string {
	h := sha256.New()
	held := false
	for _, f := range c.secretFields() {
		if *f.v == "" {
			continue
		}
		held = true
		fmt.Fprintf(h, "%s\x00%d\x00%s\x00", f.name, len(*f.v), *f.v)
	}
	if !held {
		return ""
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

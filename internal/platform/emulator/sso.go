package emulator

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// SSO configuration (/sso/config): one per Space, of a type (google, oidc,
// saml, or google with either), with the fields Retool's document closes
// each type to. Secrets are answered encrypted, as Retool answers them.

func (s *Server) ssoRoutes() {
	s.api("GET /sso/config", "SSO > Read", s.getSSO)
	s.api("POST /sso/config", "SSO > Write", s.postSSO)
	s.api("DELETE /sso/config", "SSO > Write", s.deleteSSO)
}

// ssoOIDCClientSecret is the OIDC client secret's field.
const ssoOIDCClientSecret = "oidc_client_secret"

// ssoKind is the JSON type of an SSO field.
type ssoKind int

const (
	ssoString ssoKind = iota
	ssoBool
)

// ssoField is a field of an SSO configuration type.
type ssoField struct {
	name     string
	kind     ssoKind
	required bool
}

var (
	googleFields = []ssoField{
		{"google_client_id", ssoString, true}, {"google_client_secret", ssoString, true},
	}
	oidcFields = []ssoField{
		{"oidc_client_id", ssoString, true}, {ssoOIDCClientSecret, ssoString, true}, {"oidc_scopes", ssoString, true},
		{"oidc_auth_url", ssoString, true}, {"oidc_token_url", ssoString, true}, {"oidc_userinfo_url", ssoString, false},
		{"oidc_audience", ssoString, false}, {"jwt_email_key", ssoString, true}, {"jwt_roles_key", ssoString, false},
		{"jwt_first_name_key", ssoString, true}, {"jwt_last_name_key", ssoString, true}, {"roles_mapping", ssoString, false},
	}
	samlFields = []ssoField{
		{"idp_metadata_xml", ssoString, true}, {"saml_first_name_attribute", ssoString, true},
		{"saml_last_name_attribute", ssoString, true}, {"saml_groups_attribute", ssoString, false},
		{"saml_sync_group_claims", ssoBool, true}, {"ldap_sync_group_claims", ssoBool, false},
		{"ldap_role_mapping", ssoString, false}, {"ldap_server_url", ssoString, false},
		{"ldap_base_domain_components", ssoString, false}, {"ldap_server_name", ssoString, false},
		{"ldap_server_key", ssoString, false}, {"ldap_server_certificate", ssoString, false},
	}
	// Every type has disable_email_password_login; every type but google
	// has JIT, the allowed domains and automatic login.
	commonFields = []ssoField{{"disable_email_password_login", ssoBool, true}}
	idpFields    = []ssoField{{"jit_enabled", ssoBool, true}, {"restricted_domain", ssoString, false}, {"trigger_login_automatically", ssoBool, true}}
)

// ssoTypes are the configuration types and their fields.
var ssoTypes = map[string][]ssoField{
	"google":        slices.Concat(commonFields, googleFields),
	"oidc":          slices.Concat(commonFields, oidcFields, idpFields),
	"google & oidc": slices.Concat(commonFields, googleFields, oidcFields, idpFields),
	"saml":          slices.Concat(commonFields, samlFields, idpFields),
	"google & saml": slices.Concat(commonFields, googleFields, samlFields, idpFields),
}

// ssoNonEmpty are the string fields Retool's document gives minLength 1.
var ssoNonEmpty = []string{"oidc_client_id", ssoOIDCClientSecret, "oidc_scopes", "oidc_auth_url", "oidc_token_url", "oidc_userinfo_url",
	"jwt_email_key", "jwt_roles_key", "jwt_first_name_key", "jwt_last_name_key",
	"idp_metadata_xml", "saml_first_name_attribute", "saml_last_name_attribute"}

// ssoSecrets are the fields Retool stores encrypted and answers as an
// encrypted envelope, never as sent.
var ssoSecrets = []string{"google_client_secret", ssoOIDCClientSecret, "ldap_server_key", "ldap_server_certificate"}

// ssoKey keys the emulator's stand-in for Retool's encryption: the same
// secret gives the same envelope (as in the recordings), never the secret.
var ssoKey = []byte("governor-emulator-sso")

// encryptSecret is the envelope Retool answers for a stored secret.
func encryptSecret(secret string) string {
	keyHash := sha256.Sum256(ssoKey)
	mac := hmac.New(sha256.New, ssoKey)
	mac.Write([]byte(secret))
	b, _ := json.Marshal(map[string]any{
		"canaryValue": "__RETOOL_ENCRYPTED_JSON__", "methodVersion": 2,
		"encryptionKeyHash": hex.EncodeToString(keyHash[:]),
		"encryptedValue":    hex.EncodeToString(mac.Sum(nil)[:16]),
		"iv":                nil, "authTag": nil,
	})
	return string(b)
}

// decodeSSO validates a POST /sso/config body: {"data": {...}} of one type,
// its required fields present, each of its type, no other field.
func decodeSSO(body []byte) (map[string]any, error) {
	var in struct {
		Data map[string]json.RawMessage `json:"data"`
	}
	if err := decode(body, &in, true); err != nil {
		return nil, err
	}
	if in.Data == nil {
		return nil, fmt.Errorf("data is required")
	}
	var typ string
	if raw, ok := in.Data["config_type"]; !ok || json.Unmarshal(raw, &typ) != nil {
		return nil, fmt.Errorf("data.config_type is required: one of %s", strings.Join(sortedKeys(ssoTypes), ", "))
	}
	fields, ok := ssoTypes[typ]
	if !ok {
		return nil, fmt.Errorf("data.config_type must be one of %s, got %q", strings.Join(sortedKeys(ssoTypes), ", "), typ)
	}
	out := map[string]any{"config_type": typ}
	for _, f := range fields {
		raw, present := in.Data[f.name]
		if !present {
			if f.required {
				return nil, fmt.Errorf("data.%s is required for config_type %q", f.name, typ)
			}
			continue
		}
		switch f.kind {
		case ssoBool:
			var v bool
			if json.Unmarshal(raw, &v) != nil {
				return nil, fmt.Errorf("data.%s must be a boolean, got %s", f.name, raw)
			}
			out[f.name] = v
		default:
			var v string
			if json.Unmarshal(raw, &v) != nil {
				return nil, fmt.Errorf("data.%s must be a string, got %s", f.name, raw)
			}
			if v == "" && slices.Contains(ssoNonEmpty, f.name) {
				return nil, fmt.Errorf("data.%s must not be empty", f.name)
			}
			if slices.Contains(ssoSecrets, f.name) {
				v = encryptSecret(v)
			}
			out[f.name] = v
		}
	}
	for _, name := range sortedKeys(in.Data) {
		if _, ok := out[name]; !ok && !slices.ContainsFunc(fields, func(f ssoField) bool { return f.name == name }) {
			return nil, fmt.Errorf("data.%s is not a field of config_type %q", name, typ)
		}
	}
	return out, nil
}

func (s *Server) getSSO(sp *space, _ *http.Request, _ []byte) (int, any) {
	if sp.sso == nil {
		return fail(http.StatusNotFound, "SSO is not configured for this space")
	}
	return ok(sp.sso)
}

func (s *Server) postSSO(sp *space, _ *http.Request, body []byte) (int, any) {
	cfg, err := decodeSSO(body)
	if err != nil {
		return badBody(err)
	}
	sp.sso = cfg
	return ok(cfg)
}

func (s *Server) deleteSSO(sp *space, _ *http.Request, _ []byte) (int, any) {
	sp.sso = nil
	return http.StatusNoContent, nil
}

// copySSO gives a new Space its parent's SSO configuration
// (copy_sso_settings).
func copySSO(from *space) map[string]any {
	if from.sso == nil {
		return nil
	}
	out := make(map[string]any, len(from.sso))
	for k, v := range from.sso {
		out[k] = v
	}
	return out
}

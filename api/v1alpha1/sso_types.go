package v1alpha1

// SSOProviderType is the kind of identity provider an instance signs users
// in with: one of Retool's SSO configuration types.
// +kubebuilder:validation:Enum=OIDC;SAML;Google;GoogleAndOIDC;GoogleAndSAML
type SSOProviderType string

// The SSO provider types.
const (
	SSOProviderOIDC          SSOProviderType = "OIDC"
	SSOProviderSAML          SSOProviderType = "SAML"
	SSOProviderGoogle        SSOProviderType = "Google"
	SSOProviderGoogleAndOIDC SSOProviderType = "GoogleAndOIDC"
	SSOProviderGoogleAndSAML SSOProviderType = "GoogleAndSAML"
)

// The keys of an SSO provider's Secret (spec.sso.provider.secretRef),
// named as Retool's API names the fields they fill.
const (
	SSOSecretGoogleClientSecret    = "google_client_secret"
	SSOSecretOIDCClientSecret      = "oidc_client_secret"
	SSOSecretSAMLMetadata          = "idp_metadata_xml"
	SSOSecretLDAPServerKey         = "ldap_server_key"
	SSOSecretLDAPServerCertificate = "ldap_server_certificate"
)

// SSOProvider is the identity provider's connection, as each instance of
// the Space's environments is configured with it. Its secrets are in a
// Secret of Governor's namespace (secretRef), never in the Space.
//
// +kubebuilder:validation:XValidation:rule="(self.type == 'OIDC' || self.type == 'GoogleAndOIDC') == has(self.oidc)",message="oidc: required when type is OIDC or GoogleAndOIDC, and only then"
// +kubebuilder:validation:XValidation:rule="(self.type == 'SAML' || self.type == 'GoogleAndSAML') == has(self.saml)",message="saml: required when type is SAML or GoogleAndSAML, and only then"
// +kubebuilder:validation:XValidation:rule="self.type.startsWith('Google') == has(self.google)",message="google: required when type is Google, GoogleAndOIDC or GoogleAndSAML, and only then"
type SSOProvider struct {
	// type of the provider: OIDC, SAML, Google, or Google with OIDC or SAML.
	// +required
	Type SSOProviderType `json:"type"`
	// secretRef names the Secret, in Governor's own namespace, holding the
	// provider's secrets under these keys: google_client_secret (Google
	// types), oidc_client_secret (OIDC types), idp_metadata_xml (SAML types:
	// the identity provider's metadata), and ldap_server_key and
	// ldap_server_certificate (optional, SAML with ldap). A missing Secret
	// or key stalls the Space's sync, naming it. Governor remembers a digest
	// of what it sent and sends the secrets again when the Secret changes.
	// +required
	SecretRef LocalObjectReference `json:"secretRef"`
	// google is the Google sign-in's OAuth client.
	// +optional
	Google *GoogleSSO `json:"google,omitempty"`
	// oidc is the OpenID Connect provider.
	// +optional
	OIDC *OIDCSSO `json:"oidc,omitempty"`
	// saml is the SAML identity provider.
	// +optional
	SAML *SAMLSSO `json:"saml,omitempty"`
	// disableEmailPasswordLogin leaves SSO as the only way to sign in.
	// +optional
	DisableEmailPasswordLogin bool `json:"disableEmailPasswordLogin,omitempty"`
	// triggerLoginAutomatically sends users to the identity provider
	// without showing the login page (OIDC and SAML types).
	// +optional
	TriggerLoginAutomatically bool `json:"triggerLoginAutomatically,omitempty"`
}

// GoogleSSO is the Google sign-in's OAuth client; its secret is key
// google_client_secret of the provider's Secret.
type GoogleSSO struct {
	// clientID of the OAuth client.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	ClientID string `json:"clientID"`
}

// OIDCSSO is an OpenID Connect provider; its client secret is key
// oidc_client_secret of the provider's Secret.
type OIDCSSO struct {
	// clientID of the OIDC client.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	ClientID string `json:"clientID"`
	// scopes requested, space-separated. Default "openid email profile".
	// +optional
	// +kubebuilder:default="openid email profile"
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Scopes string `json:"scopes,omitempty"`
	// authorizationURL is the provider's authorization endpoint.
	// +required
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && (self.startsWith('https://') || self.startsWith('http://'))",message="authorizationURL must be an http:// or https:// URL"
	AuthorizationURL string `json:"authorizationURL"`
	// tokenURL is the provider's token endpoint.
	// +required
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && (self.startsWith('https://') || self.startsWith('http://'))",message="tokenURL must be an http:// or https:// URL"
	TokenURL string `json:"tokenURL"`
	// userinfoURL is the provider's userinfo endpoint, when claims are read
	// from it.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && (self.startsWith('https://') || self.startsWith('http://'))",message="userinfoURL must be an http:// or https:// URL"
	UserinfoURL string `json:"userinfoURL,omitempty"`
	// audience of the access token, when the provider needs one.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Audience string `json:"audience,omitempty"`
	// claims say where the user's details are in the tokens.
	// +optional
	// +kubebuilder:default={}
	Claims OIDCClaims `json:"claims,omitempty"`
}

// OIDCClaims are the paths of the user's details in the OIDC tokens
// (idToken.email, accessToken.groups...).
type OIDCClaims struct {
	// email claim. Default idToken.email.
	// +optional
	// +kubebuilder:default=idToken.email
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	Email string `json:"email,omitempty"`
	// firstName claim. Default idToken.given_name.
	// +optional
	// +kubebuilder:default=idToken.given_name
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	FirstName string `json:"firstName,omitempty"`
	// lastName claim. Default idToken.family_name.
	// +optional
	// +kubebuilder:default=idToken.family_name
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	LastName string `json:"lastName,omitempty"`
	// roles claim holding the user's IdP groups (idToken.groups, say): the
	// role mappings match its values. Without it no role mapping applies.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	Roles string `json:"roles,omitempty"`
}

// SAMLSSO is a SAML identity provider; its metadata is key idp_metadata_xml
// of the provider's Secret.
type SAMLSSO struct {
	// firstNameAttribute is the assertion's attribute holding the first name.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	FirstNameAttribute string `json:"firstNameAttribute"`
	// lastNameAttribute is the assertion's attribute holding the last name.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	LastNameAttribute string `json:"lastNameAttribute"`
	// groupsAttribute is the assertion's attribute holding the user's IdP
	// groups: the role mappings match its values.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	GroupsAttribute string `json:"groupsAttribute,omitempty"`
	// syncGroupClaims applies the role mappings on every sign-in. Default true.
	// +optional
	// +kubebuilder:default=true
	SyncGroupClaims *bool `json:"syncGroupClaims,omitempty"`
	// ldap reads the user's groups from an LDAP server instead of the
	// assertion; its key and certificate are keys ldap_server_key and
	// ldap_server_certificate of the provider's Secret.
	// +optional
	LDAP *LDAPSSO `json:"ldap,omitempty"`
}

// LDAPSSO is the LDAP server a SAML provider's groups are read from.
type LDAPSSO struct {
	// serverURL of the LDAP server (ldap:// or ldaps://).
	// +required
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.startsWith('ldap://') || self.startsWith('ldaps://')",message="serverURL must be an ldap:// or ldaps:// URL"
	ServerURL string `json:"serverURL"`
	// serverName is the server's name in its certificate.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	ServerName string `json:"serverName,omitempty"`
	// baseDomainComponents searched (dc=example,dc=com).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	BaseDomainComponents string `json:"baseDomainComponents"`
	// syncGroupClaims applies the role mappings from the LDAP groups on
	// every sign-in. Default true.
	// +optional
	// +kubebuilder:default=true
	SyncGroupClaims *bool `json:"syncGroupClaims,omitempty"`
}

// EffectiveSSO is the Space's sso with what it inherits (status.inherited)
// where it leaves it unset: the whole of sso, or its provider.
func (s *Space) EffectiveSSO() *SSO {
	var inherited *SSO
	if s.Status.Inherited != nil {
		inherited = s.Status.Inherited.SSO
	}
	own := s.Spec.SSO
	switch {
	case own == nil:
		return inherited
	case own.Provider == nil && inherited != nil && inherited.Provider != nil:
		out := *own
		out.Provider = inherited.Provider
		return &out
	}
	return own
}

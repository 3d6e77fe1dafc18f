package controller_test

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/controller"
	"github.com/governor-dev/governor/internal/platform/emulator"
	"github.com/governor-dev/governor/internal/platform/retool"
)

const ssoWrites = "POST /api/v2/sso/config"

// oidcProvider is an OIDC provider whose client secret is in Secret secret.
func oidcProvider(secret string) *governorv1alpha1.SSOProvider {
	return &governorv1alpha1.SSOProvider{Type: governorv1alpha1.SSOProviderOIDC, SecretRef: governorv1alpha1.LocalObjectReference{Name: secret},
		OIDC: &governorv1alpha1.OIDCSSO{ClientID: "governor", AuthorizationURL: "https://idp.example.com/auth", TokenURL: "https://idp.example.com/token",
			Claims: governorv1alpha1.OIDCClaims{Roles: "idToken.groups"}}}
}

func ssoSecret(t *testing.T, name, clientSecret string) *corev1.Secret {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: governorNamespace},
		StringData: map[string]string{governorv1alpha1.SSOSecretOIDCClientSecret: clientSecret}}
	create(t, s)
	t.Cleanup(func() { _ = env.Client.Delete(ctx(), s) })
	return s
}

// ssoOf reads a Space's SSO configuration in an instance.
func ssoOf(g Gomega, inst *instance, sp *emulator.Space) *retool.SSOConfig {
	c, err := retool.New(retool.Options{URL: inst.ts.URL, Domain: sp.Domain(), Token: sp.Token(), RequestsPerMinute: -1})
	g.Expect(err).NotTo(HaveOccurred())
	cfg, err := c.GetSSOConfig(ctx())
	g.Expect(err).NotTo(HaveOccurred())
	return cfg
}

// TestPlatformSSO: a Space that inherits its identity provider and sets its
// own JIT and role mappings gets one SSO configuration in each instance;
// a mapping added in git reaches every instance once, a rotated secret is
// sent again once, and nothing is written at rest.
func TestPlatformSSO(t *testing.T) {
	g := NewWithT(t)
	secret := ssoSecret(t, "plat-sso-idp", "first-secret")
	source := newSpace("plat-sso-src", func(s *governorv1alpha1.Space) {
		s.Spec.DefaultGroups = new(bool)
		s.Spec.SSO = &governorv1alpha1.SSO{Provider: oidcProvider(secret.Name),
			JIT: &governorv1alpha1.JIT{Enabled: true, AllowedDomains: []string{"example.com"}}}
	})
	create(t, source)
	t.Cleanup(func() { _ = env.Client.Delete(ctx(), source) })
	space, dev, prod, devSpace, prodSpace := platformSpace(t, "plat-sso", func(s *governorv1alpha1.Space) {
		s.Spec.InheritFrom = source.Name
		s.Spec.SSO = &governorv1alpha1.SSO{JIT: &governorv1alpha1.JIT{Enabled: false},
			RoleMappings: []governorv1alpha1.RoleMapping{{IdPGroup: "finance-team", Group: "finance"}}}
	})
	instances := []struct {
		inst *instance
		sp   *emulator.Space
	}{{dev, devSpace}, {prod, prodSpace}}
	// writes counts each instance's SSO writes: -1 until the first check
	// (the groups are created after the Space, so the first passes may
	// write the configuration before the mappings' groups exist).
	writes := []int{-1, -1}
	expectEverywhere := func(check func(g Gomega, cfg *retool.SSOConfig)) {
		t.Helper()
		g.Eventually(func(g Gomega) {
			for n, i := range instances {
				cfg := ssoOf(g, i.inst, i.sp)
				g.Expect(cfg).NotTo(BeNil())
				check(g, cfg)
				if writes[n] >= 0 {
					g.Expect(i.inst.srv.Stats().Requests[ssoWrites]).To(Equal(writes[n]+1), "one write per change")
				}
			}
		}, platformTimeout, interval).Should(Succeed())
		for n, i := range instances {
			writes[n] = i.inst.srv.Stats().Requests[ssoWrites]
		}
	}

	eventuallySynced(t, space)
	var firstEnvelope string
	expectEverywhere(func(g Gomega, cfg *retool.SSOConfig) {
		g.Expect(cfg.ConfigType).To(Equal("oidc"), "the provider is inherited")
		g.Expect(cfg.OIDCClientID).To(Equal("governor"))
		g.Expect(cfg.OIDCScopes).To(Equal("openid email profile"), "the scopes' default")
		g.Expect(cfg.JITEnabled).To(HaveValue(BeFalse()), "the Space's own JIT, not the source's")
		g.Expect(cfg.RestrictedDomain).To(BeEmpty())
		g.Expect(cfg.RolesMapping).To(Equal("finance-team->Finance"), "the instance's group name")
		g.Expect(retool.IsEncryptedSecret(cfg.OIDCClientSecret)).To(BeTrue(), "the secret was sent (answered encrypted)")
		firstEnvelope = cfg.OIDCClientSecret
	})

	// The record keeps a digest of the secret, never the secret.
	rec := &corev1.ConfigMap{}
	g.Expect(env.Client.Get(ctx(), client.ObjectKey{Namespace: governorNamespace, Name: "governor-platform-plat-sso-development"}, rec)).To(Succeed())
	g.Expect(rec.Data["record.json"]).To(ContainSubstring(`"ssoDigest":"sha256:`))
	g.Expect(rec.Data["record.json"]).NotTo(ContainSubstring("first-secret"))

	// A mapping added in git (a group's idpGroups) reaches every instance once.
	admins := &governorv1alpha1.PermissionGroup{ObjectMeta: metav1.ObjectMeta{Namespace: "plat-sso", Name: "admins"}}
	g.Expect(updateGroup(env.Client, admins, func(pg *governorv1alpha1.PermissionGroup) { pg.Spec.IdPGroups = []string{"platform-admins"} })).To(Succeed())
	expectEverywhere(func(g Gomega, cfg *retool.SSOConfig) {
		g.Expect(cfg.RolesMapping).To(Equal("finance-team->Finance,platform-admins->admin"))
	})

	// The secret rotated in its Secret is sent again, once.
	g.Expect(env.Client.Get(ctx(), client.ObjectKeyFromObject(secret), secret)).To(Succeed())
	secret.Data[governorv1alpha1.SSOSecretOIDCClientSecret] = []byte("second-secret")
	g.Expect(env.Client.Update(ctx(), secret)).To(Succeed())
	expectEverywhere(func(g Gomega, cfg *retool.SSOConfig) {
		g.Expect(cfg.OIDCClientSecret).NotTo(Equal(firstEnvelope), "the new secret was sent")
	})

	// At rest: nothing written, in either instance.
	time.Sleep(4 * time.Second)
	for _, i := range instances {
		i.inst.srv.ResetStats()
	}
	time.Sleep(5 * time.Second) // two resyncs and more
	for _, i := range instances {
		st := i.inst.srv.Stats()
		g.Expect(st.Writes()).To(BeZero(), "requests at rest: %v", st.Requests)
		g.Expect(st.Requests["GET /api/v2/sso/config"]).To(BeNumerically(">", 0), "the configuration is read each pass")
	}
}

// TestPlatformSSOSecretMissing: a provider whose Secret does not exist
// stalls the Space naming it; creating it syncs.
func TestPlatformSSOSecretMissing(t *testing.T) {
	g := NewWithT(t)
	space, dev, _, devSpace, _ := platformSpace(t, "plat-sso-missing", func(s *governorv1alpha1.Space) {
		s.Spec.SSO = &governorv1alpha1.SSO{Provider: oidcProvider("plat-sso-missing-idp")}
	})
	msg := eventuallyStalled(t, space, "SSOSecretMissing")
	g.Expect(msg).To(ContainSubstring(governorNamespace + "/plat-sso-missing-idp"))
	g.Expect(msg).To(ContainSubstring("oidc_client_secret"))

	// A Secret without the key is named too.
	empty := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "plat-sso-missing-idp", Namespace: governorNamespace}, StringData: map[string]string{"other": "x"}}
	create(t, empty)
	t.Cleanup(func() { _ = env.Client.Delete(ctx(), empty) })
	g.Eventually(func(g Gomega) {
		s := condition(g, space, governorv1alpha1.ConditionStalled)
		g.Expect(s).NotTo(BeNil())
		g.Expect(s.Message).To(ContainSubstring(`no key "oidc_client_secret"`))
	}, platformTimeout, interval).Should(Succeed())

	empty.Data = map[string][]byte{governorv1alpha1.SSOSecretOIDCClientSecret: []byte("s")}
	g.Expect(env.Client.Update(ctx(), empty)).To(Succeed())
	eventuallySynced(t, space)
	g.Eventually(func(g Gomega) { g.Expect(ssoOf(g, dev, devSpace)).NotTo(BeNil()) }, platformTimeout, interval).Should(Succeed())
}

// updateSpace changes the Space, again on a conflict (the controllers write
// its status meanwhile).
func updateSpace(g Gomega, space *governorv1alpha1.Space, mutate func(*governorv1alpha1.Space)) {
	g.Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := env.Client.Get(ctx(), client.ObjectKeyFromObject(space), space); err != nil {
			return err
		}
		mutate(space)
		return env.Client.Update(ctx(), space)
	})).To(Succeed())
}

// TestPlatformSSOModes: Additive leaves an SSO configuration Governor did
// not write; Authoritative removes it; one Governor wrote goes with its
// provider, in either mode.
func TestPlatformSSOModes(t *testing.T) {
	g := NewWithT(t)
	space, dev, _, devSpace, _ := platformSpace(t, "plat-sso-mode")
	eventuallySynced(t, space)
	devc := dev.as(t, devSpace)
	byHand := retool.SSOConfig{ConfigType: retool.SSOGoogle, GoogleClientID: "by-hand", GoogleClientSecret: "s"}
	_, err := devc.SetSSOConfig(ctx(), byHand)
	g.Expect(err).NotTo(HaveOccurred())
	time.Sleep(5 * time.Second) // two resyncs and more
	g.Expect(ssoOf(g, dev, devSpace)).NotTo(BeNil(), "Additive never removes an SSO configuration it did not write")

	updateSpace(g, space, func(s *governorv1alpha1.Space) {
		s.Spec.Platform = &governorv1alpha1.Platform{Mode: governorv1alpha1.PlatformAuthoritative}
	})
	g.Eventually(func(g Gomega) { g.Expect(ssoOf(g, dev, devSpace)).To(BeNil()) }, platformTimeout, interval).Should(Succeed(),
		"Authoritative removes what nothing declares")

	// Back to Additive: a configuration Governor wrote goes with its provider.
	ssoSecret(t, "plat-sso-mode-idp", "s")
	updateSpace(g, space, func(s *governorv1alpha1.Space) {
		s.Spec.Platform = nil
		s.Spec.SSO = &governorv1alpha1.SSO{Provider: oidcProvider("plat-sso-mode-idp")}
	})
	g.Eventually(func(g Gomega) { g.Expect(ssoOf(g, dev, devSpace)).NotTo(BeNil()) }, platformTimeout, interval).Should(Succeed())
	updateSpace(g, space, func(s *governorv1alpha1.Space) { s.Spec.SSO = nil })
	g.Eventually(func(g Gomega) { g.Expect(ssoOf(g, dev, devSpace)).To(BeNil()) }, platformTimeout, interval).Should(Succeed(),
		"the configuration Governor wrote is removed with its provider")
}

// TestSSOConfigFromProvider: each provider type becomes Retool's body with
// its secrets from the Secret's keys; a missing key is named.
func TestSSOConfigFromProvider(t *testing.T) {
	on, off := true, false
	saml := &governorv1alpha1.SSOProvider{Type: governorv1alpha1.SSOProviderGoogleAndSAML, SecretRef: governorv1alpha1.LocalObjectReference{Name: "idp"},
		Google: &governorv1alpha1.GoogleSSO{ClientID: "gid"},
		SAML: &governorv1alpha1.SAMLSSO{FirstNameAttribute: "first", LastNameAttribute: "last", GroupsAttribute: "groups",
			LDAP: &governorv1alpha1.LDAPSSO{ServerURL: "ldaps://ldap.example.com", BaseDomainComponents: "dc=example,dc=com", SyncGroupClaims: &off}},
		DisableEmailPasswordLogin: true}
	for name, tc := range map[string]struct {
		provider *governorv1alpha1.SSOProvider
		data     map[string]string
		want     retool.SSOConfig
		err      string
	}{
		"OIDC with the defaults": {provider: oidcProvider("idp"), data: map[string]string{"oidc_client_secret": "s"},
			want: retool.SSOConfig{ConfigType: "oidc", OIDCClientID: "governor", OIDCClientSecret: "s", OIDCScopes: "openid email profile",
				OIDCAuthURL: "https://idp.example.com/auth", OIDCTokenURL: "https://idp.example.com/token", JWTEmailKey: "idToken.email",
				JWTFirstNameKey: "idToken.given_name", JWTLastNameKey: "idToken.family_name", JWTRolesKey: "idToken.groups", TriggerLoginAutomatically: &off}},
		"Google and SAML with LDAP": {provider: saml, data: map[string]string{"google_client_secret": "g", "idp_metadata_xml": "<md/>", "ldap_server_key": "k"},
			want: retool.SSOConfig{ConfigType: "google & saml", DisableEmailPasswordLogin: true, GoogleClientID: "gid", GoogleClientSecret: "g",
				IDPMetadataXML: "<md/>", SAMLFirstNameAttribute: "first", SAMLLastNameAttribute: "last", SAMLGroupsAttribute: "groups",
				SAMLSyncGroupClaims: &on, LDAPServerURL: "ldaps://ldap.example.com", LDAPBaseDomainComponents: "dc=example,dc=com",
				LDAPSyncGroupClaims: &off, LDAPServerKey: "k", TriggerLoginAutomatically: &off}},
		"Google and SAML without the metadata": {provider: saml, data: map[string]string{"google_client_secret": "g"},
			err: `no key "idp_metadata_xml" (spec.sso.provider type GoogleAndSAML needs key(s) google_client_secret, idp_metadata_xml)`},
	} {
		t.Run(name, func(t *testing.T) {
			data := map[string][]byte{}
			for k, v := range tc.data {
				data[k] = []byte(v)
			}
			got, err := controller.SSOConfig(tc.provider, data)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			NewWithT(t).Expect(got).To(Equal(tc.want))
		})
	}
}

// TestPlatformSSOAdminSpaceDeletion: deleting the admin Space with
// deletionPolicy Delete leaves the admin Space in the instance but removes
// the SSO configuration Governor wrote there.
func TestPlatformSSOAdminSpaceDeletion(t *testing.T) {
	g := NewWithT(t)
	// Only one Space may be admin: the other tests' have gone.
	g.Eventually(func(g Gomega) {
		var spaces governorv1alpha1.SpaceList
		g.Expect(env.Client.List(ctx(), &spaces)).To(Succeed())
		for _, s := range spaces.Items {
			g.Expect(s.Spec.Admin).To(BeFalse(), "admin Space %s", s.Name)
		}
	}, platformTimeout, interval).Should(Succeed())
	inst := newInstance(t, emulator.Options{Domain: "hub.ssodel.test"})
	tokenSecret(t, "ssodel-hub", inst.srv.Space("").Token())
	ssoSecret(t, "ssodel-idp", "s")
	hub := newSpace("plat-sso-hub", func(s *governorv1alpha1.Space) {
		s.Spec.Admin = true
		s.Spec.DefaultGroups = new(bool)
		s.Spec.Environments = []governorv1alpha1.Environment{platformEnv("hubenv", inst, "hub.ssodel.test", "ssodel-hub", false)}
		s.Spec.SSO = &governorv1alpha1.SSO{Provider: oidcProvider("ssodel-idp")}
		s.Spec.Platform = &governorv1alpha1.Platform{DeletionPolicy: governorv1alpha1.DeletionDelete}
	})
	create(t, hub)
	t.Cleanup(func() { _ = env.Client.Delete(ctx(), hub) })
	g.Eventually(func(g Gomega) { g.Expect(ssoOf(g, inst, inst.srv.Space(""))).NotTo(BeNil()) }, platformTimeout, interval).Should(Succeed())

	g.Expect(env.Client.Delete(ctx(), hub)).To(Succeed())
	g.Eventually(func(g Gomega) { g.Expect(ssoOf(g, inst, inst.srv.Space(""))).To(BeNil()) }, platformTimeout, interval).Should(Succeed())
	g.Eventually(func() bool {
		return env.Client.Get(ctx(), client.ObjectKeyFromObject(hub), &governorv1alpha1.Space{}) != nil
	}, platformTimeout, interval).Should(BeTrue(), "the Space goes")
}

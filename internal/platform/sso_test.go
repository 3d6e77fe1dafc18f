package platform

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/platform/retool"
)

// oidc is an OIDC provider's connection as the controller reads it (secret
// included).
func oidc(secret string) retool.SSOConfig {
	f := false
	return retool.SSOConfig{ConfigType: retool.SSOOIDC, OIDCClientID: "governor", OIDCClientSecret: secret, OIDCScopes: "openid email profile",
		OIDCAuthURL: "https://idp.example.com/auth", OIDCTokenURL: "https://idp.example.com/token", JWTEmailKey: "idToken.email",
		JWTFirstNameKey: "idToken.given_name", JWTLastNameKey: "idToken.family_name", JWTRolesKey: "idToken.groups", TriggerLoginAutomatically: &f}
}

// ssoSpace is the plan tests' Space with JIT for two domains and three
// IdP groups: one through spec.sso.roleMappings, two through a group's
// idpGroups (one of them mapped twice), and one to AllUsers.
func ssoSpace(t *testing.T) *access.Snapshot {
	return space(t, func(in *access.SpaceInput) {
		in.SSO = access.SSO{JIT: true, AllowedDomains: []string{"Example.org", "example.com"},
			RoleMappings: []access.RoleMapping{{IdPGroup: "platform-admins", Group: "admin"}, {IdPGroup: "finance-team", Group: "finance"}, {IdPGroup: "everyone", Group: "all"}}}
		in.Groups[0].IdPGroups = []string{"finance-team", "payments-oncall"}
		in.Groups = append(in.Groups, access.Group{Name: "all", Builtin: access.AllUsers})
	})
}

func TestProjectSSO(t *testing.T) {
	d := desired(t, ssoSpace(t), "development", false)
	ProjectSSO(ssoSpace(t), &d, oidc("s3cret"))
	if d.SSO == nil {
		t.Fatal("no SSO projected")
	}
	cfg := d.SSO.Config
	if cfg.OIDCClientSecret != "" {
		t.Errorf("the desired configuration holds the secret %q; it must hold its digest only", cfg.OIDCClientSecret)
	}
	if d.SSO.SecretDigest == "" || strings.Contains(d.SSO.SecretDigest, "s3cret") || d.SSO.SecretDigest != oidc("s3cret").SecretDigest() {
		t.Errorf("digest %q, want the secret's digest", d.SSO.SecretDigest)
	}
	if cfg.JITEnabled == nil || !*cfg.JITEnabled || cfg.RestrictedDomain != "example.com,example.org" {
		t.Errorf("jit %v domains %q, want true and example.com,example.org", cfg.JITEnabled, cfg.RestrictedDomain)
	}
	var got []string
	for _, m := range d.SSO.Mappings {
		got = append(got, m.String())
	}
	// Sorted by IdP group; one entry per group an IdP group maps to; the
	// instance's names (Finance, Retool's admin); nothing for AllUsers.
	want := []string{"finance-team->Finance", "payments-oncall->Finance", "platform-admins->admin"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("mappings %v, want %v", got, want)
	}
	if !slicesContain(d.NotExpressible, "AllUsers") {
		t.Errorf("the mapping to AllUsers is not said: %v", d.NotExpressible)
	}

	t.Run("Google alone holds no JIT nor mappings", func(t *testing.T) {
		d := desired(t, ssoSpace(t), "development", false)
		ProjectSSO(ssoSpace(t), &d, retool.SSOConfig{ConfigType: retool.SSOGoogle, GoogleClientID: "id", GoogleClientSecret: "g"})
		if d.SSO.Config.JITEnabled != nil || len(d.SSO.Mappings) != 0 || !slicesContain(d.NotExpressible, "GoogleAndOIDC") {
			t.Errorf("google: %+v, notes %v", d.SSO, d.NotExpressible)
		}
	})
	t.Run("SAML mappings go to ldap_role_mapping", func(t *testing.T) {
		on := true
		saml := retool.SSOConfig{ConfigType: retool.SSOSAML, IDPMetadataXML: "<xml/>", SAMLFirstNameAttribute: "first", SAMLLastNameAttribute: "last",
			SAMLGroupsAttribute: "groups", SAMLSyncGroupClaims: &on, TriggerLoginAutomatically: &on}
		d := desired(t, ssoSpace(t), "development", false)
		ProjectSSO(ssoSpace(t), &d, saml)
		p := NewPlan(d, withSSO(converged(), nil), Options{Mode: Additive})
		op := ssoOp(t, p)
		if op.SSO.Config.LDAPRoleMapping != "finance-team->Finance,payments-oncall->Finance,platform-admins->admin" || op.SSO.Config.RolesMapping != "" {
			t.Errorf("saml mappings: roles %q ldap %q", op.SSO.Config.RolesMapping, op.SSO.Config.LDAPRoleMapping)
		}
		if op.SSO.Config.IDPMetadataXML != "" {
			t.Error("the SAML metadata (from the Secret) is in the plan")
		}
	})
}

func slicesContain(items []string, sub string) bool {
	for _, it := range items {
		if strings.Contains(it, sub) {
			return true
		}
	}
	return false
}

func withSSO(o Observed, cfg *retool.SSOConfig) Observed {
	o.SSO, o.SSORead = cfg, true
	return o
}

func ssoOp(t *testing.T, p Plan) Op {
	t.Helper()
	var found []Op
	for _, op := range p.Ops {
		if op.Kind == OpSetSSO || op.Kind == OpDeleteSSO {
			found = append(found, op)
		}
	}
	if len(found) != 1 {
		t.Fatalf("plan %v: want one SSO call", kinds(p))
	}
	return found[0]
}

// answered is cfg as Retool answers it: the secret encrypted.
func answered(cfg retool.SSOConfig) *retool.SSOConfig {
	cfg.OIDCClientSecret = `{"canaryValue":"__RETOOL_ENCRYPTED_JSON__"}`
	return &cfg
}

func TestPlanSSO(t *testing.T) {
	snap := ssoSpace(t)
	d := desired(t, snap, "development", false)
	ProjectSSO(snap, &d, oidc("s3cret"))
	digest := oidc("s3cret").SecretDigest()

	// What the instance holds once Governor wrote the configuration.
	written := NewPlan(d, withSSO(converged(), nil), Options{Mode: Additive})
	first := ssoOp(t, written)
	if first.Kind != OpSetSSO || first.SSO.Config.RolesMapping != "finance-team->Finance,payments-oncall->Finance,platform-admins->admin" ||
		first.SSO.SecretDigest != digest {
		t.Fatalf("first write: %+v", first.SSO)
	}
	if kinds(written)[len(written.Ops)-1] != string(OpSetSSO) {
		t.Errorf("the SSO write is not last: %v", kinds(written))
	}
	held := answered(first.SSO.Config)

	noSSO := d
	noSSO.SSO = nil
	for name, tc := range map[string]struct {
		d        Desired
		o        Observed
		opts     Options
		want     OpKind // "" for no call
		changed  []string
		pending  string
		drift    string
		notRead  bool
		wantNone bool
	}{
		"at rest": {d: d, o: withSSO(converged(), held), opts: Options{Ownership: Ownership{SSODigest: digest}}},
		"the Secret changed": {d: d, o: withSSO(converged(), held), opts: Options{Ownership: Ownership{SSODigest: "sha256:old"}},
			want: OpSetSSO, changed: []string{"secrets"}},
		"never written by Governor (the secret cannot be compared)": {d: d, o: withSSO(converged(), held), want: OpSetSSO, changed: []string{"secrets"}},
		"JIT turned off in the instance": {d: d, o: withSSO(converged(), func() *retool.SSOConfig {
			c := *held
			f := false
			c.JITEnabled = &f
			return &c
		}()), opts: Options{Ownership: Ownership{SSODigest: digest}}, want: OpSetSSO, changed: []string{"jit_enabled"}},
		"a group not yet in the instance is pending": {d: d, o: withSSO(func() Observed {
			o := converged()
			o.Groups = o.Groups[1:] // no admin group: it cannot be created
			return o
		}(), held), opts: Options{Ownership: Ownership{SSODigest: digest}}, want: OpSetSSO, changed: []string{"roles_mapping"},
			pending: "sso: role mapping platform-admins->admin waits for group admin in the instance"},
		"a group the plan creates is mapped": {d: d, o: withSSO(instance(), nil), opts: Options{Ownership: Ownership{SSODigest: digest}}},
		"no provider, Additive, a configuration Governor did not write": {d: noSSO, o: withSSO(converged(), held),
			drift: `sso: a "oidc" configuration that no spec.sso.provider declares`},
		"no provider, Additive, a configuration Governor wrote": {d: noSSO, o: withSSO(converged(), held), opts: Options{Ownership: Ownership{SSODigest: digest}}, want: OpDeleteSSO},
		"no provider, Authoritative":                            {d: noSSO, o: withSSO(converged(), held), opts: Options{Mode: Authoritative}, want: OpDeleteSSO},
		"no provider, nothing in the instance":                  {d: noSSO, o: withSSO(converged(), nil), opts: Options{Mode: Authoritative}},
		"not read":                                              {d: noSSO, o: converged(), opts: Options{Mode: Authoritative}},
	} {
		t.Run(name, func(t *testing.T) {
			if tc.opts.Mode == "" {
				tc.opts.Mode = Additive
			}
			p := NewPlan(tc.d, tc.o, tc.opts)
			var ops []Op
			for _, op := range p.Ops {
				if op.Kind == OpSetSSO || op.Kind == OpDeleteSSO {
					ops = append(ops, op)
				}
			}
			if name == "a group the plan creates is mapped" {
				// Finance is created by the plan: its mapping is written, not pending.
				if len(ops) != 1 || !strings.Contains(ops[0].SSO.Config.RolesMapping, "Finance") || slicesContain(p.Pending, "sso:") {
					t.Errorf("ops %+v pending %v", ops, p.Pending)
				}
				return
			}
			switch {
			case tc.want == "" && len(ops) > 0:
				t.Errorf("calls %v, want no SSO call", kinds(p))
			case tc.want != "" && (len(ops) != 1 || ops[0].Kind != tc.want):
				t.Errorf("calls %v, want one %s", kinds(p), tc.want)
			case tc.changed != nil && !reflect.DeepEqual(ops[0].SSO.Changed, tc.changed):
				t.Errorf("changed %v, want %v", ops[0].SSO.Changed, tc.changed)
			}
			if tc.pending != "" && !slicesContain(p.Pending, tc.pending) {
				t.Errorf("pending %v, want %q", p.Pending, tc.pending)
			}
			if tc.drift != "" && !slicesContain(p.Drift, tc.drift) {
				t.Errorf("drift %v, want %q", p.Drift, tc.drift)
			}
		})
	}

	t.Run("the plan shows no secret", func(t *testing.T) {
		var b bytes.Buffer
		written.Format(&b)
		out := b.String()
		if strings.Contains(out, "s3cret") || !strings.Contains(out, "POST /sso/config") || !strings.Contains(out, "masked") ||
			!strings.Contains(out, `roles_mapping="finance-team->Finance,payments-oncall->Finance,platform-admins->admin"`) {
			t.Errorf("plan:\n%s", out)
		}
	})
}

func TestSSODifferences(t *testing.T) {
	snap := ssoSpace(t)
	d := desired(t, snap, "development", false)
	ProjectSSO(snap, &d, oidc("s3cret"))
	if got := SSODifferences(nil, &retool.SSOConfig{ConfigType: "google"}); got != nil {
		t.Errorf("no provider declared: %v, want nothing compared", got)
	}
	if got := SSODifferences(d.SSO, nil); len(got) != 1 || !strings.Contains(got[0], "no SSO configuration") {
		t.Errorf("none in the instance: %v", got)
	}
	held := answered(oidc("other-secret"))
	f := false
	held.JITEnabled, held.RestrictedDomain = &f, "example.com,example.org"
	held.RolesMapping = "finance-team->Finance,payments-oncall->Finance"
	got := SSODifferences(d.SSO, held)
	want := []string{
		`sso: roles_mapping: instance "finance-team->Finance,payments-oncall->Finance", model "finance-team->Finance,payments-oncall->Finance,platform-admins->admin"`,
		"sso: jit_enabled: instance false, model true",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("differences:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, g := range got {
		if strings.Contains(g, "secret") {
			t.Errorf("a secret is compared or shown: %s", g)
		}
	}
}

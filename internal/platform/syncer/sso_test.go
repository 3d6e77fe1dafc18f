package syncer_test

import (
	"context"
	"strings"
	"testing"

	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/platform"
	"github.com/governor-dev/governor/internal/platform/retool"
	"github.com/governor-dev/governor/internal/platform/syncer"
)

func ssoProvider(secret string) *retool.SSOConfig {
	f := false
	return &retool.SSOConfig{ConfigType: retool.SSOOIDC, OIDCClientID: "governor", OIDCClientSecret: secret, OIDCScopes: "openid email profile",
		OIDCAuthURL: "https://idp.example.com/auth", OIDCTokenURL: "https://idp.example.com/token", JWTEmailKey: "idToken.email",
		JWTFirstNameKey: "idToken.given_name", JWTLastNameKey: "idToken.family_name", JWTRolesKey: "idToken.groups", TriggerLoginAutomatically: &f}
}

// TestPassSSO: the configuration is written once with its secret, never
// again at rest, once more when the secret changes, and removed when the
// provider goes (Governor wrote it); the record keeps a digest, never the
// secret.
func TestPassSSO(t *testing.T) {
	in := access.SpaceInput{Name: "payments", Environments: []access.Environment{{Name: "development"}},
		SSO:    access.SSO{RoleMappings: []access.RoleMapping{{IdPGroup: "finance-team", Group: "finance"}}},
		Groups: []access.Group{{Name: "finance", DisplayName: "Finance"}}}
	snap, problems := access.Compile(in)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	f := newFake()
	rec := syncer.NewRecorded()
	pass := func(provider *retool.SSOConfig, mode platform.Mode) syncer.Result {
		t.Helper()
		res := syncer.Pass(context.Background(), f, syncer.Input{Model: snap, Environment: platform.Environment{Name: "development"}, Mode: mode,
			Recorded: rec.Clone(), GrantReads: -1, Apply: true, SSO: provider, Recorder: syncer.RecorderFunc(func(e syncer.Effect) { rec.Apply(e) })})
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		return res
	}
	sets := func() int { return f.counts["SetSSOConfig"] }

	pass(ssoProvider("one"), platform.Additive)
	if sets() != 1 || f.sso == nil || f.sso.OIDCClientSecret != "one" || f.sso.RolesMapping != "finance-team->Finance" || f.sso.JITEnabled == nil || *f.sso.JITEnabled {
		t.Fatalf("after the first pass: %d writes, %+v", sets(), f.sso)
	}
	if rec.SSODigest == "" || strings.Contains(rec.SSODigest, "one") {
		t.Fatalf("recorded digest %q", rec.SSODigest)
	}
	if res := pass(ssoProvider("one"), platform.Additive); res.Writes != 0 || sets() != 1 {
		t.Fatalf("at rest: %d writes (%v)", res.Writes, res.Plan.Ops)
	}
	pass(ssoProvider("two"), platform.Additive)
	pass(ssoProvider("two"), platform.Additive)
	if sets() != 2 || f.sso.OIDCClientSecret != "two" {
		t.Fatalf("after rotating the secret: %d writes, secret %q; want it sent once more", sets(), f.sso.OIDCClientSecret)
	}
	pass(nil, platform.Additive)
	if f.sso != nil || rec.SSODigest != "" {
		t.Fatalf("the provider removed: instance %+v, digest %q; want the configuration Governor wrote gone", f.sso, rec.SSODigest)
	}

	// A configuration Governor did not write: Additive leaves it, Authoritative removes it.
	f.sso = ssoProvider("by-hand")
	// (Additive does not even read it: nothing of it is Governor's.)
	reads := f.counts["GetSSOConfig"]
	if res := pass(nil, platform.Additive); f.sso == nil || res.Writes != 0 || f.counts["GetSSOConfig"] != reads {
		t.Fatalf("Additive: %d writes, instance %+v", res.Writes, f.sso)
	}
	pass(nil, platform.Authoritative)
	if f.sso != nil {
		t.Fatal("Authoritative left the undeclared SSO configuration")
	}
}

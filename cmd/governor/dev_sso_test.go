package main

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/governor-dev/governor/internal/controller"
	"github.com/governor-dev/governor/internal/platform"
	"github.com/governor-dev/governor/internal/platform/emulator"
	"github.com/governor-dev/governor/internal/platform/retool"
	"github.com/governor-dev/governor/internal/platform/syncer"
	"github.com/governor-dev/governor/internal/spacemodel"
)

// TestDevSamplesSSO: the samples' payments Space, synced into an instance
// per environment, gets the hub's OIDC provider (whose Secret governor dev
// creates) with JIT off and the role mappings of its four IdP groups.
func TestDevSamplesSSO(t *testing.T) {
	ctx := context.Background()
	objs, err := spacemodel.LoadManifests("../../config/samples")
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := spacemodel.Load(ctx, objs, "payments")
	if err != nil {
		t.Fatal(err)
	}
	snap, _ := loaded.Compile()
	sso := loaded.Effective.Spec.SSO
	if sso == nil || sso.Provider == nil || sso.Provider.SecretRef.Name != devSSOSecret {
		t.Fatalf("payments' effective sso %+v: want the hub's provider, its Secret %s (governor dev creates it)", sso, devSSOSecret)
	}
	provider, err := controller.SSOConfig(sso.Provider, map[string][]byte{"oidc_client_secret": []byte("dev-oidc-client-secret")})
	if err != nil {
		t.Fatal(err)
	}
	const want = "finance-team->Finance,payments-admins->admin,payments-developers->editor,payments-oncall->Payments on-call"
	for _, env := range loaded.Space.Spec.Environments {
		srv := emulator.New(emulator.Options{Domain: env.Instance.Domain, RequestsPerMinute: -1})
		ts := httptest.NewServer(srv)
		t.Cleanup(ts.Close)
		c, err := retool.New(retool.Options{URL: ts.URL, Domain: env.Instance.Domain, Token: srv.Space("").Token(), RequestsPerMinute: -1})
		if err != nil {
			t.Fatal(err)
		}
		res := syncer.Pass(ctx, c, syncer.Input{Model: snap, Environment: platform.Environment{Name: env.Name, ReadOnly: env.ReadOnly, Branch: env.Branch},
			Mode: platform.Additive, Recorded: syncer.NewRecorded(), SSO: &provider, GrantReads: -1, Apply: true})
		if res.Err != nil {
			t.Fatalf("%s: %v", env.Name, res.Err)
		}
		cfg, err := c.GetSSOConfig(ctx)
		if err != nil || cfg == nil {
			t.Fatalf("%s: GET /sso/config: %+v %v", env.Name, cfg, err)
		}
		if cfg.ConfigType != retool.SSOOIDC || cfg.JITEnabled == nil || *cfg.JITEnabled || cfg.RolesMapping != want || !retool.IsEncryptedSecret(cfg.OIDCClientSecret) {
			t.Errorf("%s: /sso/config = %+v; want the hub's OIDC provider, JIT off, roles_mapping %q", env.Name, *cfg, want)
		}
	}
}

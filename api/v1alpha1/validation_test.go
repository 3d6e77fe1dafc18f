package v1alpha1_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/governor-dev/governor/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Run(m, &env, testenv.Options{})) }

const ns = "validation"

// obj parses one manifest, defaulting the namespace of namespaced kinds.
func obj(t *testing.T, manifest string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(manifest), &u.Object); err != nil {
		t.Fatalf("bad test manifest: %v", err)
	}
	if u.GetKind() != "Space" && u.GetNamespace() == "" {
		u.SetNamespace(ns)
	}
	return u
}

func ensureNamespace(t *testing.T, name string) {
	t.Helper()
	err := env.Client.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// Each manifest is invalid; the API server must refuse it with a message
// naming the field at fault.
func TestInvalidManifestsAreRejected(t *testing.T) {
	ensureNamespace(t, ns)
	cases := map[string]invalidCase{
		"space namespace not a DNS label": {`
apiVersion: governor.dev/v1alpha1
kind: Space
metadata: {name: bad-ns}
spec: {namespace: Not_A_Namespace}`, []string{"spec.namespace"}},
		"space admin kind unknown": {`
apiVersion: governor.dev/v1alpha1
kind: Space
metadata: {name: bad-admin-kind}
spec: {admins: [{kind: ServiceAccount, name: x}]}`, []string{"spec.admins[0].kind", "Unsupported value"}},
		"space admin without name": {`
apiVersion: governor.dev/v1alpha1
kind: Space
metadata: {name: bad-admin-name}
spec: {admins: [{kind: User}]}`, []string{"spec.admins[0].name", "Required"}},
		"space duplicate environment": {`
apiVersion: governor.dev/v1alpha1
kind: Space
metadata: {name: dup-env}
spec: {environments: [{name: production}, {name: production}]}`, []string{"spec.environments[1]", "Duplicate value"}},
		"space environment name invalid": {`
apiVersion: governor.dev/v1alpha1
kind: Space
metadata: {name: bad-env}
spec: {environments: [{name: Prod Env}]}`, []string{"spec.environments[0].name"}},
		"space branch on editable environment": {`
apiVersion: governor.dev/v1alpha1
kind: Space
metadata: {name: branch-rw}
spec: {environments: [{name: development, branch: dev}]}`, []string{"spec.environments[0]", "branch is only meaningful on a readOnly environment"}},
		"space unknown source control provider": {`
apiVersion: governor.dev/v1alpha1
kind: Space
metadata: {name: bad-provider}
spec: {sourceControl: {provider: SVN, repository: https://example.com/r.git}}`, []string{"spec.sourceControl.provider", "Unsupported value"}},
		"space repository not a URL": {`
apiVersion: governor.dev/v1alpha1
kind: Space
metadata: {name: bad-repo}
spec: {sourceControl: {provider: GitHub, repository: acme/apps}}`, []string{"spec.sourceControl.repository", "https://"}},
		"space admin inheriting": {`
apiVersion: governor.dev/v1alpha1
kind: Space
metadata: {name: admin-inherits}
spec: {admin: true, inheritFrom: hub}`, []string{"spec", "inheritFrom: the admin Space cannot inherit"}},
		"space role mapping without group": {`
apiVersion: governor.dev/v1alpha1
kind: Space
metadata: {name: bad-mapping}
spec: {sso: {roleMappings: [{idpGroup: x}]}}`, []string{"spec.sso.roleMappings[0].group", "Required"}},
		"space JIT domain invalid": {`
apiVersion: governor.dev/v1alpha1
kind: Space
metadata: {name: bad-domain}
spec: {sso: {jit: {enabled: true, allowedDomains: ["@example.com"]}}}`, []string{"spec.sso.jit.allowedDomains[0]"}},
		"sso provider type unknown": {`
apiVersion: governor.dev/v1alpha1
kind: Space
metadata: {name: sso-type}
spec: {sso: {provider: {type: LDAP, secretRef: {name: idp}}}}`, []string{"spec.sso.provider.type", "Unsupported value"}},
		"sso provider without secretRef": {`
apiVersion: governor.dev/v1alpha1
kind: Space
metadata: {name: sso-secret}
spec: {sso: {provider: {type: Google, google: {clientID: x}}}}`, []string{"spec.sso.provider.secretRef", "Required"}},
		"sso OIDC without its settings": {`
apiVersion: governor.dev/v1alpha1
kind: Space
metadata: {name: sso-oidc}
spec: {sso: {provider: {type: OIDC, secretRef: {name: idp}}}}`, []string{"spec.sso.provider", "oidc: required when type is OIDC or GoogleAndOIDC"}},
		"sso SAML settings on an OIDC provider": {`
apiVersion: governor.dev/v1alpha1
kind: Space
metadata: {name: sso-saml-on-oidc}
spec: {sso: {provider: {type: OIDC, secretRef: {name: idp}, oidc: {clientID: c, authorizationURL: "https://idp/auth", tokenURL: "https://idp/token"},
  saml: {firstNameAttribute: f, lastNameAttribute: l}}}}`, []string{"spec.sso.provider", "saml: required when type is SAML or GoogleAndSAML, and only then"}},
		"sso GoogleAndOIDC without google": {`
apiVersion: governor.dev/v1alpha1
kind: Space
metadata: {name: sso-google}
spec: {sso: {provider: {type: GoogleAndOIDC, secretRef: {name: idp}, oidc: {clientID: c, authorizationURL: "https://idp/auth", tokenURL: "https://idp/token"}}}}`, []string{"spec.sso.provider", "google: required"}},
		"sso OIDC token URL not a URL": {`
apiVersion: governor.dev/v1alpha1
kind: Space
metadata: {name: sso-url}
spec: {sso: {provider: {type: OIDC, secretRef: {name: idp}, oidc: {clientID: c, authorizationURL: "https://idp/auth", tokenURL: "idp/token"}}}}`, []string{"spec.sso.provider.oidc.tokenURL", "http:// or https://"}},
		"sso OIDC without a client id": {`
apiVersion: governor.dev/v1alpha1
kind: Space
metadata: {name: sso-client}
spec: {sso: {provider: {type: OIDC, secretRef: {name: idp}, oidc: {authorizationURL: "https://idp/auth", tokenURL: "https://idp/token"}}}}`, []string{"spec.sso.provider.oidc.clientID", "Required"}},
		"sso SAML LDAP URL not ldap": {`
apiVersion: governor.dev/v1alpha1
kind: Space
metadata: {name: sso-ldap}
spec: {sso: {provider: {type: SAML, secretRef: {name: idp}, saml: {firstNameAttribute: f, lastNameAttribute: l, ldap: {serverURL: "https://x", baseDomainComponents: "dc=x"}}}}}`, []string{"spec.sso.provider.saml.ldap.serverURL", "ldap://"}},
		"group unknown builtin": {`
apiVersion: governor.dev/v1alpha1
kind: PermissionGroup
metadata: {name: bad-builtin}
spec: {builtin: Owner}`, []string{"spec.builtin", "Unsupported value"}},
		"group universal on Viewer": {`
apiVersion: governor.dev/v1alpha1
kind: PermissionGroup
metadata: {name: viewer-universal}
spec: {builtin: Viewer, universal: {apps: Edit}}`, []string{"universal: only custom and AllUsers groups"}},
		"group additional on Admin": {`
apiVersion: governor.dev/v1alpha1
kind: PermissionGroup
metadata: {name: admin-additional}
spec: {builtin: Admin, additional: {auditLog: true}}`, []string{"additional: only custom and AllUsers groups"}},
		"group members on AllUsers": {`
apiVersion: governor.dev/v1alpha1
kind: PermissionGroup
metadata: {name: all-users-members}
spec: {builtin: AllUsers, members: [{email: a@example.com}]}`, []string{"members: the AllUsers group"}},
		"group duplicate member email": {`
apiVersion: governor.dev/v1alpha1
kind: PermissionGroup
metadata: {name: dup-member}
spec: {members: [{email: a@example.com}, {email: a@example.com, groupAdmin: true}]}`, []string{"spec.members[1]", "Duplicate value"}},
		"group member email invalid": {`
apiVersion: governor.dev/v1alpha1
kind: PermissionGroup
metadata: {name: bad-email}
spec: {members: [{email: not-an-email}]}`, []string{"spec.members[0].email"}},
		"group universal level unknown": {`
apiVersion: governor.dev/v1alpha1
kind: PermissionGroup
metadata: {name: bad-level}
spec: {universal: {apps: Admin}}`, []string{"spec.universal.apps", "Unsupported value"}},
		"group query library Own": {`
apiVersion: governor.dev/v1alpha1
kind: PermissionGroup
metadata: {name: ql-own}
spec: {universal: {queryLibrary: Own}}`, []string{"spec.universal.queryLibrary", "Unsupported value"}},
		"rule without group": {`
apiVersion: governor.dev/v1alpha1
kind: AccessRule
metadata: {name: no-group}
spec: {level: Use, targets: [{kind: App, name: a}]}`, []string{"spec.group", "Required"}},
		"rule level None": {`
apiVersion: governor.dev/v1alpha1
kind: AccessRule
metadata: {name: level-none}
spec: {group: g, level: None, targets: [{kind: App, name: a}]}`, []string{"spec.level", "Unsupported value"}},
		"rule without targets": {`
apiVersion: governor.dev/v1alpha1
kind: AccessRule
metadata: {name: no-targets}
spec: {group: g, level: Use, targets: []}`, []string{"spec.targets", "should have at least 1 items"}},
		"rule unknown target kind": {`
apiVersion: governor.dev/v1alpha1
kind: AccessRule
metadata: {name: bad-kind}
spec: {group: g, level: Use, targets: [{kind: Query, name: a}]}`, []string{"spec.targets[0].kind", "Unsupported value"}},
		"rule folder without folderType": {`
apiVersion: governor.dev/v1alpha1
kind: AccessRule
metadata: {name: folder-no-type}
spec: {group: g, level: Use, targets: [{kind: Folder, name: finance}]}`, []string{"spec.targets[0]", "folderType is required when kind is Folder"}},
		"rule folderType on an app": {`
apiVersion: governor.dev/v1alpha1
kind: AccessRule
metadata: {name: app-with-type}
spec: {group: g, level: Use, targets: [{kind: App, folderType: App, name: a}]}`, []string{"spec.targets[0]", "folderType is required when kind is Folder and refused otherwise"}},
		"rule environments on an app": {`
apiVersion: governor.dev/v1alpha1
kind: AccessRule
metadata: {name: app-envs}
spec: {group: g, level: Use, targets: [{kind: App, name: a, environments: [{name: production, level: Use}]}]}`, []string{"spec.targets[0]", "environments: per-environment levels are only for Resource targets"}},
		"rule object name with slash": {`
apiVersion: governor.dev/v1alpha1
kind: AccessRule
metadata: {name: app-slash}
spec: {group: g, level: Use, targets: [{kind: App, name: finance/payouts}]}`, []string{"spec.targets[0]", "use kind Folder for a folder path"}},
		"rule folder path malformed": {`
apiVersion: governor.dev/v1alpha1
kind: AccessRule
metadata: {name: folder-slash}
spec: {group: g, level: Use, targets: [{kind: Folder, folderType: App, name: /finance/}]}`, []string{"spec.targets[0].name"}},
		"rule environment level unknown": {`
apiVersion: governor.dev/v1alpha1
kind: AccessRule
metadata: {name: env-level}
spec: {group: g, level: Use, targets: [{kind: Resource, name: db, environments: [{name: production, level: Read}]}]}`, []string{"spec.targets[0].environments[0].level", "Unsupported value"}},
		"release version not semantic": {`
apiVersion: governor.dev/v1alpha1
kind: Release
metadata: {name: bad-version}
spec: {app: payouts, version: "1.4", ref: v1.4}`, []string{"spec.version"}},
		"release without ref": {`
apiVersion: governor.dev/v1alpha1
kind: Release
metadata: {name: no-ref}
spec: {app: payouts, version: 1.4.0}`, []string{"spec.ref", "Required"}},
		"release unknown state": {`
apiVersion: governor.dev/v1alpha1
kind: Release
metadata: {name: bad-state}
spec: {app: payouts, version: 1.4.0, ref: v1.4.0, state: Live}`, []string{"spec.state", "Unsupported value"}},
		"member expires not a time": {`
apiVersion: governor.dev/v1alpha1
kind: PermissionGroup
metadata: {name: bad-expires}
spec: {members: [{email: a@example.com, expires: friday}]}`, []string{"spec.members[0].expires"}},
		"member expires before 2000": {`
apiVersion: governor.dev/v1alpha1
kind: PermissionGroup
metadata: {name: old-expires}
spec: {members: [{email: a@example.com, expires: "0026-12-31T17:00:00Z"}]}`, []string{"spec.members[0].expires", "between the years 2000 and 2100"}},
		"rule expires a date without a time": {`
apiVersion: governor.dev/v1alpha1
kind: AccessRule
metadata: {name: bad-expires}
spec: {group: g, level: Use, targets: [{kind: App, name: x}], expires: "2026-12-31"}`, []string{"spec.expires"}},
		"rule expires after 2100": {`
apiVersion: governor.dev/v1alpha1
kind: AccessRule
metadata: {name: far-expires}
spec: {group: g, level: Use, targets: [{kind: App, name: x}], expires: "2126-12-31T17:00:00Z"}`, []string{"spec.expires", "between the years 2000 and 2100"}},
	}
	for name, tc := range boundCases() {
		if _, dup := cases[name]; dup {
			t.Fatalf("case %q twice", name)
		}
		cases[name] = tc
	}
	if len(cases) < 60 {
		t.Fatalf("%d cases: every field with a bound, pattern or rule has one", len(cases))
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := env.Client.Create(context.Background(), obj(t, tc.manifest))
			if err == nil {
				t.Fatalf("the API server accepted an invalid manifest; want an error naming %q", tc.want)
			}
			if !apierrors.IsInvalid(err) {
				t.Fatalf("want an Invalid error, got %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// Each update changes a field that may not change after creation.
func TestImmutableFieldsAreRejected(t *testing.T) {
	ensureNamespace(t, ns)
	cases := map[string]struct {
		manifest string
		mutate   func(u *unstructured.Unstructured)
		want     string
	}{
		"space namespace": {`
apiVersion: governor.dev/v1alpha1
kind: Space
metadata: {name: immutable-ns}
spec: {namespace: first}`, func(u *unstructured.Unstructured) {
			_ = unstructured.SetNestedField(u.Object, "second", "spec", "namespace")
		}, "namespace is immutable"},
		"space namespace unset": {`
apiVersion: governor.dev/v1alpha1
kind: Space
metadata: {name: immutable-ns-unset}
spec: {namespace: first}`, func(u *unstructured.Unstructured) {
			unstructured.RemoveNestedField(u.Object, "spec", "namespace")
		}, "namespace is immutable"},
		"space namespace set after creation": {`
apiVersion: governor.dev/v1alpha1
kind: Space
metadata: {name: immutable-ns-set}
spec: {}`, func(u *unstructured.Unstructured) {
			_ = unstructured.SetNestedField(u.Object, "payments", "spec", "namespace")
		}, "namespace is immutable from creation"},
		"group builtin": {`
apiVersion: governor.dev/v1alpha1
kind: PermissionGroup
metadata: {name: immutable-builtin}
spec: {builtin: Viewer}`, func(u *unstructured.Unstructured) {
			_ = unstructured.SetNestedField(u.Object, "Admin", "spec", "builtin")
		}, "builtin is immutable"},
		"group builtin added": {`
apiVersion: governor.dev/v1alpha1
kind: PermissionGroup
metadata: {name: immutable-builtin-added}
spec: {members: [{email: a@example.com}]}`, func(u *unstructured.Unstructured) {
			_ = unstructured.SetNestedField(u.Object, "Admin", "spec", "builtin")
		}, "builtin is immutable"},
		"release version": {`
apiVersion: governor.dev/v1alpha1
kind: Release
metadata: {name: immutable-version}
spec: {app: payouts, version: 1.0.0, ref: v1.0.0}`, func(u *unstructured.Unstructured) {
			_ = unstructured.SetNestedField(u.Object, "1.0.1", "spec", "version")
		}, "version is immutable"},
		"release ref": {`
apiVersion: governor.dev/v1alpha1
kind: Release
metadata: {name: immutable-ref}
spec: {app: payouts, version: 1.0.0, ref: v1.0.0}`, func(u *unstructured.Unstructured) {
			_ = unstructured.SetNestedField(u.Object, "main", "spec", "ref")
		}, "ref is immutable"},
		"release app": {`
apiVersion: governor.dev/v1alpha1
kind: Release
metadata: {name: immutable-app}
spec: {app: payouts, version: 1.0.0, ref: v1.0.0}`, func(u *unstructured.Unstructured) {
			_ = unstructured.SetNestedField(u.Object, "ledger", "spec", "app")
		}, "app is immutable"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			u := obj(t, tc.manifest)
			if err := env.Client.Create(ctx, u); err != nil {
				t.Fatalf("creating the valid original: %v", err)
			}
			tc.mutate(u)
			err := env.Client.Update(ctx, u)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("update error = %v, want one saying %q", err, tc.want)
			}
		})
	}
}

// Every sample is accepted as it is, and defaults are applied.
func TestSamplesAreAccepted(t *testing.T) {
	ctx := context.Background()
	files, err := filepath.Glob(filepath.Join(env.Root, "config", "samples", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples found: %v", err)
	}
	var kinds []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(string(data)), 4096)
		for {
			u := &unstructured.Unstructured{}
			if err := dec.Decode(&u.Object); err != nil {
				break
			}
			if len(u.Object) == 0 {
				continue
			}
			if err := env.Client.Create(ctx, u); err != nil && !apierrors.IsAlreadyExists(err) {
				t.Errorf("%s: %s %s rejected: %v", filepath.Base(f), u.GetKind(), u.GetName(), err)
			}
			kinds = append(kinds, u.GetKind())
		}
	}
	for _, k := range []string{"Namespace", "Space", "PermissionGroup", "AccessRule", "Release"} {
		if !strings.Contains(strings.Join(kinds, ","), k) {
			t.Errorf("samples hold no %s", k)
		}
	}
	// Defaults come from the CRD: payments leaves state unset nowhere, but the hub leaves defaultGroups unset.
	hub := &unstructured.Unstructured{}
	hub.SetAPIVersion("governor.dev/v1alpha1")
	hub.SetKind("Space")
	if err := env.Client.Get(ctx, client.ObjectKey{Name: "hub"}, hub); err != nil {
		t.Fatal(err)
	}
	if v, _, _ := unstructured.NestedBool(hub.Object, "spec", "defaultGroups"); !v {
		t.Errorf("spec.defaultGroups was not defaulted to true: %v", hub.Object["spec"])
	}
}

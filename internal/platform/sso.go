package platform

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/platform/retool"
)

// DesiredSSO is the instance's SSO configuration as it should be: the
// identity provider's connection, JIT, the allowed domains and the role
// mappings, in one /sso/config body.
type DesiredSSO struct {
	// Config is the body without its secrets (Retool answers them
	// encrypted) and without the role mappings, which the plan writes for
	// the groups the instance has.
	Config retool.SSOConfig
	// SecretDigest digests the secrets the body is sent with
	// (retool.SSOConfig.SecretDigest); a pass remembers it, never the
	// secrets, and sends them again when it changes.
	SecretDigest string
	// Mappings are the declared role mappings, sorted by IdP group, then
	// group.
	Mappings []SSOMapping
}

// SSOMapping maps an IdP group to a group, by its name in the instance.
type SSOMapping struct {
	IdPGroup string
	// Group is the PermissionGroup, PlatformName its name in the instance.
	Group, PlatformName string
}

func (m SSOMapping) String() string { return m.IdPGroup + "->" + m.PlatformName }

// SSOWrite is a planned /sso/config write: the body without its secrets
// (the applier adds them), and what differs from the instance's.
type SSOWrite struct {
	Config       retool.SSOConfig
	SecretDigest string
	// Changed names the fields that differ, "secrets" when the provider's
	// Secret changed since it was last sent (or it never was).
	Changed []string
}

// idpType reports a configuration type that takes JIT, the allowed domains
// and role mappings (all but Google alone).
func idpType(configType string) bool { return configType != retool.SSOGoogle }

// samlType reports a type whose role mappings are ldap_role_mapping (SAML's
// group claims and LDAP groups alike), not roles_mapping.
func samlType(configType string) bool {
	return configType == retool.SSOSAML || configType == retool.SSOGoogleAndSAML
}

// ProjectSSO sets d.SSO: provider (the identity provider's connection with
// its secrets, as the Space or the Space it inherits from declares it) with
// the compiled Space's JIT, allowed domains and role mappings. What the
// configuration cannot hold is added to d.NotExpressible.
func ProjectSSO(snap *access.Snapshot, d *Desired, provider retool.SSOConfig) {
	st := snap.SSO()
	out := &DesiredSSO{Config: provider.WithoutSecrets(), SecretDigest: provider.SecretDigest()}
	cfg := &out.Config
	cfg.RolesMapping, cfg.LDAPRoleMapping = "", ""
	note := func(format string, args ...any) {
		d.NotExpressible = append(d.NotExpressible, "sso: "+fmt.Sprintf(format, args...))
	}
	if !idpType(cfg.ConfigType) {
		cfg.JITEnabled, cfg.RestrictedDomain, cfg.TriggerLoginAutomatically = nil, "", nil
		if st.JIT || len(st.Mappings) > 0 {
			note("the Google provider type holds neither JIT nor role mappings: they reach the instance with type GoogleAndOIDC or GoogleAndSAML")
		}
		d.SSO = out
		return
	}
	jit := st.JIT
	cfg.JITEnabled = &jit
	cfg.RestrictedDomain = strings.Join(st.AllowedDomains, ",")
	names := make(map[string]string, len(d.Groups))
	for _, g := range d.Groups {
		names[g.Name] = g.PlatformName
	}
	for _, m := range st.Mappings {
		if m.Builtin == access.AllUsers {
			note("IdP group %q maps to the AllUsers group %s: the platform's All Users group takes no role mapping (it holds every member)", m.IdPGroup, m.Group)
			continue
		}
		name, ok := names[m.Group]
		if !ok {
			continue // the group itself is not expressible; said with the groups
		}
		if badMappingPart(m.IdPGroup) || badMappingPart(name) {
			note("IdP group %q -> group %q: a role mapping cannot hold a name with \",\" or \"->\"", m.IdPGroup, name)
			continue
		}
		out.Mappings = append(out.Mappings, SSOMapping{IdPGroup: m.IdPGroup, Group: m.Group, PlatformName: name})
	}
	if len(out.Mappings) > 0 && !samlType(cfg.ConfigType) && cfg.JWTRolesKey == "" {
		note("role mappings are written, but no IdP group reaches them: set spec.sso.provider.oidc.claims.roles (the claim holding the user's groups)")
	}
	if len(out.Mappings) > 0 && samlType(cfg.ConfigType) && cfg.SAMLGroupsAttribute == "" && cfg.LDAPServerURL == "" {
		note("role mappings are written, but no IdP group reaches them: set spec.sso.provider.saml.groupsAttribute (or saml.ldap)")
	}
	d.SSO = out
}

func badMappingPart(s string) bool { return strings.Contains(s, ",") || strings.Contains(s, "->") }

// planSSO writes the SSO configuration when it differs from the instance's
// (everything but the secrets, which Retool answers encrypted) or when its
// secrets changed (by digest); with no provider declared, it deletes a
// configuration Governor wrote, or any in Authoritative mode. Runs after
// groups: a role mapping names a group the instance has or the plan
// creates, else it is pending.
func (pl *planner) sso() {
	d, o := pl.d.SSO, pl.o
	if !o.SSORead {
		return
	}
	if d == nil {
		if o.SSO == nil {
			return
		}
		if pl.opts.Mode == Authoritative || pl.opts.Ownership.SSODigest != "" {
			pl.add(Op{Kind: OpDeleteSSO, SSO: &SSOWrite{Config: o.SSO.WithoutSecrets()}})
			return
		}
		pl.p.Drift = append(pl.p.Drift, fmt.Sprintf("sso: a %q configuration that no spec.sso.provider declares", o.SSO.ConfigType))
		return
	}
	inInstance := make(map[string]bool, len(pl.p.GroupIDs))
	for name := range pl.p.GroupIDs {
		inInstance[name] = true
	}
	for _, op := range pl.p.Ops {
		if op.Kind == OpCreateGroup {
			inInstance[op.Group] = true
		}
	}
	var pairs []string
	for _, m := range d.Mappings {
		if !inInstance[m.Group] {
			pl.p.Pending = append(pl.p.Pending, fmt.Sprintf("sso: role mapping %s waits for group %s in the instance", m, m.Group))
			continue
		}
		pairs = append(pairs, m.String())
	}
	cfg := d.Config
	if samlType(cfg.ConfigType) {
		cfg.LDAPRoleMapping = strings.Join(pairs, ",")
	} else if idpType(cfg.ConfigType) {
		cfg.RolesMapping = strings.Join(pairs, ",")
	}
	changed := ssoChanges(cfg, o.SSO)
	if d.SecretDigest != pl.opts.Ownership.SSODigest {
		changed = append(changed, "secrets")
	}
	if len(changed) > 0 {
		pl.add(Op{Kind: OpSetSSO, SSO: &SSOWrite{Config: cfg, SecretDigest: d.SecretDigest, Changed: changed}})
	}
}

// ssoChanges names the fields of want (secrets left out) that the
// instance's configuration has otherwise; every field when it has none.
func ssoChanges(want retool.SSOConfig, have *retool.SSOConfig) []string {
	if have == nil {
		return []string{"config_type"}
	}
	w, h := reflect.ValueOf(want.WithoutSecrets()), reflect.ValueOf(have.WithoutSecrets())
	var out []string
	for i := range w.NumField() {
		if !reflect.DeepEqual(w.Field(i).Interface(), h.Field(i).Interface()) {
			name, _, _ := strings.Cut(w.Type().Field(i).Tag.Get("json"), ",")
			out = append(out, name)
		}
	}
	return out
}

// SSODifferences compares the instance's SSO configuration with the one
// the model declares, secrets aside (Retool answers them encrypted; they are
// never shown): one line per field that differs, the role mappings with
// every declared mapping (a group the instance lacks included). None when
// want is nil (no provider declared).
func SSODifferences(want *DesiredSSO, have *retool.SSOConfig) []string {
	if want == nil {
		return nil
	}
	if have == nil {
		return []string{fmt.Sprintf("sso: the instance has no SSO configuration; the model declares a %q one", want.Config.ConfigType)}
	}
	cfg := want.Config
	pairs := make([]string, len(want.Mappings))
	for i, m := range want.Mappings {
		pairs[i] = m.String()
	}
	if samlType(cfg.ConfigType) {
		cfg.LDAPRoleMapping = strings.Join(pairs, ",")
	} else if idpType(cfg.ConfigType) {
		cfg.RolesMapping = strings.Join(pairs, ",")
	}
	w, h := reflect.ValueOf(cfg.WithoutSecrets()), reflect.ValueOf(have.WithoutSecrets())
	var out []string
	for _, name := range ssoChanges(cfg, have) {
		for i := range w.NumField() {
			if n, _, _ := strings.Cut(w.Type().Field(i).Tag.Get("json"), ","); n == name {
				out = append(out, fmt.Sprintf("sso: %s: instance %s, model %s", name, fieldText(h.Field(i)), fieldText(w.Field(i))))
			}
		}
	}
	return out
}

func fieldText(v reflect.Value) string {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return "unset"
		}
		v = v.Elem()
	}
	if v.Kind() == reflect.String {
		return fmt.Sprintf("%q", v.String())
	}
	return fmt.Sprint(v.Interface())
}

package platform

import (
	"fmt"
	"io"
	"strings"

	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/platform/retool"
)

func (op Op) String() string {
	group := func() string {
		if op.GroupID == 0 {
			return fmt.Sprintf("group %q (new)", op.GroupName)
		}
		return fmt.Sprintf("group %q (%d)", op.GroupName, op.GroupID)
	}
	object := func() string {
		if op.Object.ID == "" {
			return fmt.Sprintf("%s folder %q (new)", FolderType(op.FolderKind), op.FolderPath)
		}
		return op.Object.String()
	}
	switch op.Kind {
	case OpSetLock:
		return fmt.Sprintf("PUT  /source_control/settings              version_control_locked=%t", *op.Locked)
	case OpSetSourceControl:
		sc := op.SourceControl
		return fmt.Sprintf("PUT  /source_control/config                %s %s/%s branch %s", sc.Provider, sc.Org, sc.Repo, sc.Branch)
	case OpCreateFolder:
		return fmt.Sprintf("POST /folders                             %s folder %q", FolderType(op.FolderKind), op.FolderPath)
	case OpCreateGroup:
		return fmt.Sprintf("POST /groups                              %q with %d member(s)%s", op.GroupName, len(op.Members), settingsText(op.Settings))
	case OpUpdateGroup:
		return fmt.Sprintf("PATCH /groups/%d%s%s", op.GroupID, pad(len(fmt.Sprint(op.GroupID))+7), updateText(op.Update))
	case OpAddMembers:
		emails := make([]string, len(op.Members))
		for i, m := range op.Members {
			emails[i] = m.Email
			if m.GroupAdmin {
				emails[i] += " (group admin)"
			}
		}
		return fmt.Sprintf("POST /groups/%d/members%s%s", op.GroupID, pad(len(fmt.Sprint(op.GroupID))+15), strings.Join(emails, ", "))
	case OpRemoveMember:
		return fmt.Sprintf("DELETE /groups/%d/members/%s  %s", op.GroupID, op.Member.UserID, op.Member.Email)
	case OpInvite:
		return fmt.Sprintf("POST /user_invites                        %s into %s", op.Member.Email, group())
	case OpGrant:
		if op.InheritedFrom != "" {
			return fmt.Sprintf("POST /permissions/grant                   %s: %s on %s (rule %s, carried down from folder %q)", group(), op.Level, object(), op.Rule, op.InheritedFrom)
		}
		return fmt.Sprintf("POST /permissions/grant                   %s: %s on %s (rule %s)", group(), op.Level, object(), op.Rule)
	case OpRevoke:
		return fmt.Sprintf("POST /permissions/revoke                  %s: %s", group(), object())
	case OpRevokeUserGrant:
		return fmt.Sprintf("POST /permissions/revoke                  user %s (%s): %s", op.Member.Email, op.Member.UserID, object())
	case OpDeleteGroup:
		return fmt.Sprintf("DELETE /groups/%d%s%q", op.GroupID, pad(len(fmt.Sprint(op.GroupID))+8), op.GroupName)
	case OpSetSSO:
		return fmt.Sprintf("POST /sso/config                          %s (changed: %s)", ssoText(op.SSO.Config), strings.Join(op.SSO.Changed, ", "))
	case OpDeleteSSO:
		return fmt.Sprintf("DELETE /sso/config                        %q configuration", op.SSO.Config.ConfigType)
	}
	return string(op.Kind)
}

func pad(used int) string {
	const width = 42
	if used >= width {
		return " "
	}
	return strings.Repeat(" ", width-used)
}

func settingsText(s *GroupSettings) string {
	if s == nil {
		return ""
	}
	return fmt.Sprintf(", universal apps %s, workflows %s, resources %s, query library %s", s.UniversalApp, s.UniversalWorkflow, s.UniversalResource, s.UniversalQueryLibrary)
}

func updateText(u *SettingsUpdate) string {
	var parts []string
	str := func(name string, v *string) {
		if v != nil {
			parts = append(parts, fmt.Sprintf("%s=%q", name, *v))
		}
	}
	flag := func(name string, v *bool) {
		if v != nil {
			parts = append(parts, fmt.Sprintf("%s=%t", name, *v))
		}
	}
	str("name", u.Name)
	str("universal_app_access", u.UniversalApp)
	str("universal_workflow_access", u.UniversalWorkflow)
	str("universal_resource_access", u.UniversalResource)
	str("universal_query_library_access", u.UniversalQueryLibrary)
	flag("user_list_access", u.UserList)
	flag("audit_log_access", u.AuditLog)
	flag("unpublished_release_access", u.UnpublishedRelease)
	flag("usage_analytics_access", u.UsageAnalytics)
	flag("theme_access", u.Theme)
	flag("account_details_access", u.AccountDetails)
	return strings.Join(parts, " ")
}

// Format writes the plan for a person to read.
func (p Plan) Format(w io.Writer) {
	fmt.Fprintf(w, "Space %s, environment %s, revision %s\n", p.Space, p.Environment, access.ShortRevision(p.Revision))
	if p.Mode == Observe {
		fmt.Fprintln(w, "Observe mode: Governor writes nothing to the instance; these are the calls switching the Space to Additive makes.")
	}
	if len(p.Ops) == 0 {
		fmt.Fprintln(w, "\nNo changes: the instance holds the declared state.")
	} else {
		fmt.Fprintf(w, "\n%d call(s):\n", len(p.Ops))
		for i, op := range p.Ops {
			fmt.Fprintf(w, "%4d. %s\n", i+1, op)
		}
	}
	section := func(title string, items []string) {
		if len(items) == 0 {
			return
		}
		fmt.Fprintf(w, "\n%s (%d):\n", title, len(items))
		for _, it := range items {
			fmt.Fprintf(w, "  - %s\n", it)
		}
	}
	section("Pending", p.Pending)
	section("Not expressible in the platform", p.NotExpressible)
	section("Drift (the instance holds or grants more than declared; left alone in Additive mode)", p.Drift)
	if p.Unverified > 0 {
		fmt.Fprintf(w, "\n%d group(s)' grants were not read this time (request budget); they are verified on later passes.\n", p.Unverified)
	}
}

// ssoText is an SSO configuration for a person to read, its secrets masked:
// they are never in a plan.
func ssoText(c retool.SSOConfig) string {
	parts := []string{fmt.Sprintf("%q", c.ConfigType)}
	if c.JITEnabled != nil {
		parts = append(parts, fmt.Sprintf("jit_enabled=%t", *c.JITEnabled))
	}
	if c.RestrictedDomain != "" {
		parts = append(parts, fmt.Sprintf("restricted_domain=%q", c.RestrictedDomain))
	}
	if c.RolesMapping != "" {
		parts = append(parts, fmt.Sprintf("roles_mapping=%q", c.RolesMapping))
	}
	if c.LDAPRoleMapping != "" {
		parts = append(parts, fmt.Sprintf("ldap_role_mapping=%q", c.LDAPRoleMapping))
	}
	return strings.Join(parts, " ") + ", secrets from the provider's Secret (masked)"
}

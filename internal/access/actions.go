package access

import (
	"slices"
	"strings"
)

// This file is the one definition of what each action needs. Check, WhoCan,
// Permissions and Diff all evaluate these requirements through the policy
// chain of policy.go; none of them knows an action by name. Adding an action
// is one entry below (and its rows in the contract tests).

// scale is what a requirement's level is measured on.
type scale uint8

const (
	// scaleNone: a permission, not a level (Space and group actions).
	scaleNone scale = iota
	// scaleObject: the level on the object or folder: the group's object
	// rule, else its nearest folder rule, else its universal level.
	scaleObject
	// scaleUniversal: the universal level on the target's kind only.
	scaleUniversal
	// scaleQueryLibrary: the query-library level (None, Use or Edit).
	scaleQueryLibrary
)

// flagSet holds additional (organisation-level) permissions, one bit each.
type flagSet uint8

// The additional permissions, as spec.additional names them.
const (
	flagUserList flagSet = 1 << iota
	flagAuditLog
	flagUnpublishedReleases
	flagUsageAnalytics
	flagThemes
	flagAccountDetails
)

var flagNames = []struct {
	flag flagSet
	name string
}{
	{flagUserList, "userList"}, {flagAuditLog, "auditLog"}, {flagUnpublishedReleases, "unpublishedReleases"},
	{flagUsageAnalytics, "usageAnalytics"}, {flagThemes, "themes"}, {flagAccountDetails, "accountDetails"},
}

// name is the flag's spec.additional field name (one flag).
func (f flagSet) name() string {
	for _, n := range flagNames {
		if n.flag == f {
			return n.name
		}
	}
	return ""
}

// names lists the flags set, sorted.
func (f flagSet) names() []string {
	var out []string
	for _, n := range flagNames {
		if f&n.flag != 0 {
			out = append(out, n.name)
		}
	}
	slices.Sort(out)
	return out
}

// flagsOf is a group's additional permissions as a set.
func flagsOf(a Additional) flagSet {
	var f flagSet
	for b, on := range []bool{a.UserList, a.AuditLog, a.UnpublishedReleases, a.UsageAnalytics, a.Themes, a.AccountDetails} {
		if on {
			f |= 1 << b
		}
	}
	return f
}

// Actions several target types have.
const (
	actionUse  = "use"
	actionEdit = "edit"
)

// requirement is what one action on one target type needs.
type requirement struct {
	action string
	// scale and need: the level the action needs, and on what it is measured.
	scale scale
	need  Level
	// mutating actions are refused in read-only environments.
	mutating bool
	// flag is an additional permission that grants the action on its own
	// (scaleNone) or together with flagWith on the scale, from any of the
	// user's groups (view-unpublished: Use plus unpublishedReleases).
	flag     flagSet
	flagWith Level
	// adminOnly: only the Admin group (manage-settings).
	adminOnly bool
	// groupAdmin: a group admin of the target group (manage-members).
	groupAdmin bool
}

// requirements, per target type. Admin is allowed everything (but changes
// in read-only environments); see the chain in policy.go.
var requirements = sortedByAction(map[TargetType][]requirement{
	TargetApp: {
		{action: actionUse, scale: scaleObject, need: Use},
		{action: actionEdit, scale: scaleObject, need: Edit, mutating: true},
		{action: "release", scale: scaleObject, need: Edit, mutating: true},
		{action: "view-unpublished", scale: scaleObject, need: Edit, flag: flagUnpublishedReleases, flagWith: Use},
		{action: "rename", scale: scaleObject, need: Own, mutating: true},
		{action: "move", scale: scaleObject, need: Own, mutating: true},
		{action: "export", scale: scaleObject, need: Own},
		{action: "delete", scale: scaleObject, need: Own, mutating: true},
		{action: "share", scale: scaleObject, need: Own, mutating: true},
	},
	TargetWorkflow: {
		{action: actionUse, scale: scaleObject, need: Use},
		{action: "run", scale: scaleObject, need: Use},
		{action: actionEdit, scale: scaleObject, need: Edit, mutating: true},
		{action: "rename", scale: scaleObject, need: Own, mutating: true},
		{action: "move", scale: scaleObject, need: Own, mutating: true},
		{action: "export", scale: scaleObject, need: Own},
		{action: "delete", scale: scaleObject, need: Own, mutating: true},
	},
	TargetResource: {
		{action: actionUse, scale: scaleObject, need: Use},
		{action: "write", scale: scaleObject, need: Edit},
		{action: "configure", scale: scaleObject, need: Own},
	},
	TargetAppFolder:      folderRequirements,
	TargetWorkflowFolder: folderRequirements,
	TargetResourceFolder: folderRequirements,
	TargetQueryLibrary: {
		{action: actionUse, scale: scaleQueryLibrary, need: Use},
		{action: actionEdit, scale: scaleQueryLibrary, need: Edit, mutating: true},
	},
	TargetSpace: {
		{action: "view-users", flag: flagUserList},
		{action: "view-audit-log", flag: flagAuditLog},
		{action: "view-usage-analytics", flag: flagUsageAnalytics},
		{action: "manage-themes", flag: flagThemes},
		{action: "view-account-details", flag: flagAccountDetails},
		{action: "manage-settings", adminOnly: true},
	},
	TargetGroup: {
		{action: "manage-members", groupAdmin: true},
	},
})

var folderRequirements = []requirement{
	{action: actionUse, scale: scaleObject, need: Use},
	{action: "create", scale: scaleObject, need: Edit, mutating: true},
	{action: "manage", scale: scaleObject, need: Own, mutating: true},
	// Creating folders needs Admin or a universal level of at least Edit.
	{action: "create-folder", scale: scaleUniversal, need: Edit, mutating: true},
}

// sortedByAction sorts each target type's requirements by action (a copy
// each: the folder types share their list).
func sortedByAction(m map[TargetType][]requirement) map[TargetType][]requirement {
	for t, reqs := range m {
		m[t] = slices.SortedFunc(slices.Values(reqs), func(a, b requirement) int { return strings.Compare(a.action, b.action) })
	}
	return m
}

// Actions lists the actions of a target type, sorted.
func Actions(t TargetType) []string {
	reqs := requirements[t]
	out := make([]string, len(reqs))
	for i := range reqs {
		out[i] = reqs[i].action
	}
	return out
}

// lookupAction is the requirement of an action on a target, or invalid
// input for an unknown target or action.
func lookupAction(t Target, name string) (*requirement, error) {
	reqs, ok := requirements[t.Type]
	if !ok {
		return nil, invalid(ReasonUnknownTarget, "unknown target type %q", t.Type)
	}
	if err := checkTargetName(t); err != nil {
		return nil, err
	}
	lower := strings.ToLower(name)
	for i := range reqs {
		if reqs[i].action == lower {
			return &reqs[i], nil
		}
	}
	return nil, invalid(ReasonUnknownAction, "unknown action %q on %s (want one of: %s)", name, t.Type, strings.Join(Actions(t.Type), ", "))
}

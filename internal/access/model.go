// Package access decides who may do what in a Space, exactly as
// shared/design/access-model.md (docs/access-model.md) defines it.
//
// Compile turns a Space's groups and rules into an immutable, indexed
// Snapshot; Check, WhoCan, Permissions and Diff answer from snapshots. The
// package is pure Go and knows nothing of Kubernetes: callers convert their
// objects into a SpaceInput (see internal/spacemodel).
package access

import (
	"fmt"
	"strings"
	"time"
)

// Level is an access level: None < Use < Edit < Own.
type Level uint8

// The levels, in order.
const (
	None Level = iota
	Use
	Edit
	Own
)

var levelNames = [...]string{"None", "Use", "Edit", "Own"}

func (l Level) String() string {
	if int(l) < len(levelNames) {
		return levelNames[l]
	}
	return fmt.Sprintf("Level(%d)", l)
}

// MarshalText writes the level's name, so JSON shows "Edit", not 2.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText reads a level's name.
func (l *Level) UnmarshalText(b []byte) error {
	v, err := ParseLevel(string(b))
	*l = v
	return err
}

// ParseLevel reads "None", "Use", "Edit" or "Own" ("" is None).
func ParseLevel(s string) (Level, error) {
	for i, n := range levelNames {
		if strings.EqualFold(s, n) {
			return Level(i), nil
		}
	}
	if s == "" {
		return None, nil
	}
	return None, fmt.Errorf("unknown level %q (want None, Use, Edit or Own)", s)
}

// Kind is the kind of an object, and of a folder (its folder type).
type Kind uint8

// The object kinds.
const (
	App Kind = iota
	Workflow
	Resource
	numKinds
)

var kindNames = [...]string{"App", "Workflow", "Resource"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", k)
}

// MarshalText writes the kind's name.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// ParseKind reads "App", "Workflow" or "Resource".
func ParseKind(s string) (Kind, error) {
	for i, n := range kindNames {
		if strings.EqualFold(s, n) {
			return Kind(i), nil
		}
	}
	return 0, fmt.Errorf("unknown kind %q (want App, Workflow or Resource)", s)
}

// Builtin is a group's fixed role.
type Builtin string

// The built-in roles; "" is a custom group.
const (
	Custom   Builtin = ""
	AllUsers Builtin = "AllUsers"
	Viewer   Builtin = "Viewer"
	Editor   Builtin = "Editor"
	Admin    Builtin = "Admin"
)

// SpaceInput is everything a Space's access model is compiled from.
type SpaceInput struct {
	Name         string
	Environments []Environment
	SSO          SSO
	Groups       []Group
	Rules        []Rule
	// At is the instant the model answers for: members and rules whose
	// Expires is at or before At are left out. The zero time is the moment
	// Compile runs.
	At time.Time
}

// Environment is a stage of the Space.
type Environment struct {
	Name     string
	ReadOnly bool
}

// SSO is how users become members without being listed.
type SSO struct {
	// JIT makes anyone of AllowedDomains (any domain when empty) a member.
	JIT            bool
	AllowedDomains []string
	// RoleMappings map IdP groups to groups, as groups' IdPGroups do.
	RoleMappings []RoleMapping
}

// RoleMapping maps an IdP group to a group of the Space.
type RoleMapping struct {
	IdPGroup string
	Group    string
}

// Group is a permission group.
type Group struct {
	Name string
	// DisplayName is the name people see (the platform's group name); "" is Name.
	DisplayName string
	Builtin     Builtin
	Members     []Member
	IdPGroups   []string
	Universal   Universal
	Additional  Additional
	// Created is when the group was created: of two groups with the same
	// builtin, the older holds the role (then the lower name; the zero time,
	// as offline manifests have, is oldest).
	Created time.Time
}

// Member is a listed member of a group.
type Member struct {
	Email      string
	GroupAdmin bool
	// Expires is when the membership ends (the zero time: never). From that
	// instant on the member is not in the group.
	Expires time.Time
}

// Universal are a group's levels on every object of a kind.
type Universal struct {
	Apps, Workflows, Resources Level
	QueryLibrary               Level // None, Use or Edit
}

// Additional are organisation-level permissions.
type Additional struct {
	UserList, AuditLog, UnpublishedReleases, UsageAnalytics, Themes, AccountDetails bool
}

// Rule grants a group a level on targets.
type Rule struct {
	Name    string
	Group   string
	Level   Level
	Targets []RuleTarget
	// Expires is when the rule ends (the zero time: never). From that
	// instant on the rule is not in the model.
	Expires time.Time
}

// RuleTarget is an object (Folder false) or a folder of Kind.
type RuleTarget struct {
	Kind   Kind
	Folder bool
	// Name is the object's name or the folder's path ("a/b").
	Name string
	// Environments override the level per environment (resources only).
	Environments []EnvironmentLevel
}

// EnvironmentLevel is a resource's level in one environment.
type EnvironmentLevel struct {
	Name  string
	Level Level
}

// ObjectRef names the object a Problem is about.
type ObjectRef struct {
	Kind string `json:"kind"` // Space, PermissionGroup or AccessRule
	Name string `json:"name"`
}

// Problem is why (part of) an object was left out of the compiled model.
type Problem struct {
	Object  ObjectRef `json:"object"`
	Field   string    `json:"field"`
	Reason  string    `json:"reason"`
	Message string    `json:"message"`
}

func (p Problem) String() string {
	return fmt.Sprintf("%s %s: %s: %s", p.Object.Kind, p.Object.Name, p.Field, p.Message)
}

// Problem reasons.
const (
	ReasonGroupNotFound        = "GroupNotFound"
	ReasonUnknownEnvironment   = "UnknownEnvironment"
	ReasonDuplicateBuiltin     = "DuplicateBuiltin"
	ReasonInvalidLevel         = "InvalidLevel"
	ReasonInvalidTarget        = "InvalidTarget"
	ReasonDuplicateEnvironment = "DuplicateEnvironment"
)

// builtinRole is a built-in role's fixed levels and organisation-level
// permissions: those of the platform's default group of the same role
// (Retool's admin, editor and viewer groups, as a real instance holds them).
type builtinRole struct {
	apps, workflows, resources, queryLibrary Level
	additional                               Additional
}

// builtinRoles is the built-in roles table (docs/access-model.md, "Built-in
// groups"). AllUsers is not in it: its levels come from spec.universal.
var builtinRoles = map[Builtin]builtinRole{
	Viewer: {apps: Use, workflows: Use, resources: Use, queryLibrary: Use,
		additional: Additional{UserList: true, AccountDetails: true}},
	Editor: {apps: Edit, workflows: Edit, resources: Own, queryLibrary: Edit,
		additional: Additional{UserList: true, UnpublishedReleases: true, AccountDetails: true}},
	Admin: {apps: Own, workflows: Own, resources: Own, queryLibrary: Edit,
		additional: Additional{UserList: true, AuditLog: true, UnpublishedReleases: true, UsageAnalytics: true, Themes: true, AccountDetails: true}},
}

// universalOf is a group's level on every object of k: its built-in role's
// fixed level, or its spec.universal.
func universalOf(b Builtin, u Universal, k Kind) Level {
	if r, ok := builtinRoles[b]; ok {
		u = Universal{Apps: r.apps, Workflows: r.workflows, Resources: r.resources}
	}
	switch k {
	case App:
		return u.Apps
	case Workflow:
		return u.Workflows
	default:
		return u.Resources
	}
}

// queryLibraryOf is a group's query-library level.
func queryLibraryOf(b Builtin, u Universal) Level {
	if r, ok := builtinRoles[b]; ok {
		return r.queryLibrary
	}
	if u.QueryLibrary > Edit {
		return Edit
	}
	return u.QueryLibrary
}

// additionalOf is a group's organisation-level permissions: its built-in
// role's (the CRD refuses spec.additional there; offline input may still
// carry it), or its spec.additional.
func additionalOf(b Builtin, a Additional) Additional {
	if r, ok := builtinRoles[b]; ok {
		return r.additional
	}
	return a
}

// canonicalUser is a request's user email in canonical form, or invalid input.
func canonicalUser(user, what string) (string, error) {
	if strings.TrimSpace(user) == "" {
		return "", invalid(ReasonInvalidUser, "%s needs the user's email", what)
	}
	email, err := CanonicalEmail(strings.TrimSpace(user))
	if err != nil {
		return "", invalid(ReasonInvalidUser, "user: %v", err)
	}
	return email, nil
}

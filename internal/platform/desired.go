// Package platform decides what a Space's platform instances should hold and
// how to get them there. It is pure: Project turns a compiled access model
// and one environment into the Desired state of that environment's instance,
// and NewPlan turns Desired and what the instance was Observed to hold into
// the minimal, ordered list of API calls that makes them match. The Retool
// API client (internal/platform/retool) and the code that observes and
// applies (internal/platform/syncer) do the talking.
package platform

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/governor-dev/governor/internal/access"
)

// Retool's access levels and its built-in groups' names.
const (
	levelNone = "none"
	levelUse  = "use"
	levelEdit = "edit"
	levelOwn  = "own"
)

// builtinGroupNames are Retool's own default groups, one per built-in role.
var builtinGroupNames = map[access.Builtin]string{
	access.Admin:    "admin",
	access.Editor:   "editor",
	access.Viewer:   "viewer",
	access.AllUsers: "All Users",
}

// IsBuiltinGroupName reports whether name is one of Retool's default groups,
// which cannot be created or deleted through the API.
func IsBuiltinGroupName(name string) bool {
	for _, n := range builtinGroupNames {
		if n == name {
			return true
		}
	}
	return false
}

// ObjectType is the type of a grant's object in Retool's permissions API.
type ObjectType string

// The object types Governor grants on. A single workflow is not one of them
// (Retool's API grants none); a rule on one is projected as ObjectWorkflow
// so that the plan can say what the instance grants instead.
const (
	ObjectFolder   ObjectType = "folder"
	ObjectApp      ObjectType = "app"
	ObjectResource ObjectType = "resource"
	ObjectWorkflow ObjectType = "workflow"
)

// FolderType is Retool's folder_type for a kind of object.
func FolderType(k access.Kind) string { return strings.ToLower(k.String()) }

// Desired is what one environment's instance should hold of a Space.
type Desired struct {
	Space       string
	Environment string
	// Revision is the access model revision this state comes from.
	Revision string
	// Locked is version_control_locked: a read-only environment.
	Locked bool
	// SourceControl is the repository configuration, nil when the Space has
	// none (Governor then leaves the instance's configuration alone).
	SourceControl *SourceControl
	// SSO is the SSO configuration (ProjectSSO), nil when the Space
	// declares no identity provider.
	SSO    *DesiredSSO
	Groups []DesiredGroup
	// NotExpressible names what of the Space the platform cannot hold at all
	// (a group named like a default group, a source control the platform
	// has no provider for). Rule targets an instance cannot hold at their
	// level depend on what the instance holds: the plan reports those.
	NotExpressible []string
}

// DesiredGroup is one PermissionGroup as the instance should hold it.
type DesiredGroup struct {
	// Name is the PermissionGroup's name (metadata.name).
	Name string
	// PlatformName is the group's name in the instance: Retool's default
	// group for a built-in role, else the display name or Name.
	PlatformName string
	Builtin      access.Builtin
	// Settings are written for custom and AllUsers groups; nil for Viewer,
	// Editor and Admin, whose levels are Retool's own (members only).
	Settings *GroupSettings
	// Members by canonical email, sorted; none for AllUsers.
	Members []access.Member
	// Grants sorted by Key, one per rule target of the group: a level of
	// "none" is a rule (or environment override) that takes the level
	// away, held by granting nothing; a single workflow (ObjectWorkflow)
	// has no grant in the platform.
	Grants []Grant
}

// GroupSettings are a group's universal levels and the six access flags, as
// Retool spells them.
type GroupSettings struct {
	UniversalApp, UniversalWorkflow, UniversalResource, UniversalQueryLibrary     string
	UserList, AuditLog, UnpublishedRelease, UsageAnalytics, Theme, AccountDetails bool
}

// Grant is a group's level on an object or folder of the instance.
type Grant struct {
	Type ObjectType
	// Kind of the object, or of the folder's contents.
	Kind access.Kind
	// Name is the app or resource name, or the folder path ("a/b").
	Name  string
	Level string
	// Rule is the AccessRule that gives the level.
	Rule string
}

// Key identifies the grant's object independent of its level.
func (g Grant) Key() string { return string(g.Type) + "/" + FolderType(g.Kind) + "/" + g.Name }

func (g Grant) String() string {
	if g.Type == ObjectFolder {
		return fmt.Sprintf("%s folder %q", FolderType(g.Kind), g.Name)
	}
	return fmt.Sprintf("%s %q", g.Type, g.Name)
}

// SourceControl is the Space's repository as the instance should be
// configured with it.
type SourceControl struct {
	// Provider is Retool's provider name (GitHub, GitLab, Bitbucket, Azure
	// Repos, AWS CodeCommit).
	Provider string
	// Org and Repo come from the repository URL.
	Org, Repo string
	// Branch is the default branch (the environment's branch when read-only).
	Branch string
}

// Environment is the part of a Space's environment the projection needs.
type Environment struct {
	Name     string
	ReadOnly bool
	Branch   string
}

// SpaceSource is the part of a Space's settings the projection needs.
type SpaceSource struct {
	Provider, Repository, DefaultBranch string
}

// Project computes what env's instance should hold of the Space compiled
// into snap.
func Project(snap *access.Snapshot, env Environment, source *SpaceSource) (Desired, error) {
	states, err := snap.GroupStates(env.Name)
	if err != nil {
		return Desired{}, err
	}
	d := Desired{Space: snap.Space(), Environment: env.Name, Revision: snap.Revision(), Locked: env.ReadOnly}
	if source != nil && source.Repository != "" {
		sc, err := projectSourceControl(*source, env)
		if err != nil {
			d.NotExpressible = append(d.NotExpressible, "sourceControl: "+err.Error())
		} else {
			d.SourceControl = &sc
		}
	}
	d.Groups = make([]DesiredGroup, 0, len(states))
	for _, s := range states {
		g := DesiredGroup{Name: s.Name, Builtin: s.Builtin, PlatformName: builtinGroupNames[s.Builtin]}
		if g.PlatformName == "" {
			g.PlatformName = s.DisplayName
			if g.PlatformName == "" {
				g.PlatformName = s.Name
			}
			if IsBuiltinGroupName(g.PlatformName) {
				// It would be taken for Retool's own default group.
				d.NotExpressible = append(d.NotExpressible, fmt.Sprintf(
					"PermissionGroup %s: %q is the name of one of the platform's default groups; give it another spec.displayName", s.Name, g.PlatformName))
				continue
			}
		}
		if s.Builtin == access.Custom || s.Builtin == access.AllUsers {
			g.Settings = settingsOf(s)
		}
		if s.Builtin != access.AllUsers {
			g.Members = s.Members
		}
		for _, gr := range s.Grants {
			g.Grants = append(g.Grants, Grant{Type: objectType(gr), Kind: gr.Kind, Name: gr.Name, Level: levelName(gr.Level), Rule: gr.Rule})
		}
		d.Groups = append(d.Groups, g)
	}
	return d, nil
}

func objectType(g access.GrantState) ObjectType {
	switch {
	case g.Folder:
		return ObjectFolder
	case g.Kind == access.App:
		return ObjectApp
	case g.Kind == access.Workflow:
		return ObjectWorkflow
	default:
		return ObjectResource
	}
}

func settingsOf(s access.GroupState) *GroupSettings {
	a := s.Additional
	return &GroupSettings{
		UniversalApp: levelName(s.Universal.Apps), UniversalWorkflow: levelName(s.Universal.Workflows),
		UniversalResource: levelName(s.Universal.Resources), UniversalQueryLibrary: levelName(s.Universal.QueryLibrary),
		UserList: a.UserList, AuditLog: a.AuditLog, UnpublishedRelease: a.UnpublishedReleases,
		UsageAnalytics: a.UsageAnalytics, Theme: a.Themes, AccountDetails: a.AccountDetails,
	}
}

// levelRank orders Retool's level names: none < use < edit < own.
func levelRank(level string) int {
	switch level {
	case levelUse:
		return 1
	case levelEdit:
		return 2
	case levelOwn:
		return 3
	}
	return 0
}

func levelName(l access.Level) string {
	switch l {
	case access.Use:
		return levelUse
	case access.Edit:
		return levelEdit
	case access.Own:
		return levelOwn
	}
	return levelNone
}

func projectSourceControl(s SpaceSource, env Environment) (SourceControl, error) {
	provider, ok := RetoolProvider(s.Provider)
	if !ok {
		return SourceControl{}, fmt.Errorf("provider %q has no counterpart in the platform's source control (want GitHub, GitLab, Bitbucket, AzureRepos or AWSCodeCommit)", s.Provider)
	}
	org, repo, err := splitRepository(s.Repository)
	if err != nil {
		return SourceControl{}, err
	}
	branch := s.DefaultBranch
	if env.ReadOnly && env.Branch != "" {
		branch = env.Branch
	}
	if branch == "" {
		branch = "main"
	}
	return SourceControl{Provider: provider, Org: org, Repo: repo, Branch: branch}, nil
}

// splitRepository reads the owner and repository name from a clone URL
// (https://host/org/repo.git, ssh://git@host/org/repo.git, git@host:org/repo.git).
func splitRepository(raw string) (org, repo string, err error) {
	path := raw
	if rest, ok := strings.CutPrefix(raw, "git@"); ok {
		_, path, _ = strings.Cut(rest, ":")
	} else {
		u, perr := url.Parse(raw)
		if perr != nil {
			return "", "", fmt.Errorf("repository %q: %v", raw, perr)
		}
		path = u.Path
	}
	path = strings.TrimSuffix(strings.Trim(path, "/"), ".git")
	i := strings.LastIndex(path, "/")
	if i <= 0 || i == len(path)-1 {
		return "", "", fmt.Errorf("repository %q: want <owner>/<repository> in its path", raw)
	}
	return path[:i], path[i+1:], nil
}

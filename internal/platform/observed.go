package platform

import "github.com/governor-dev/governor/internal/platform/retool"

// Observed is what an instance was seen to hold of a Space.
type Observed struct {
	// SpaceID is the Space's id in the instance ("" when unknown).
	SpaceID string
	Groups  []ObservedGroup
	// Users maps canonical emails to user ids, for the users looked up.
	Users map[string]string
	// Inactive holds the canonical emails of users whose account is
	// deactivated (active: false): they are never added to a group.
	Inactive map[string]bool
	// Invited holds the emails with an open invitation.
	Invited map[string]bool
	// ExpiredInvites holds the emails without an account whose every
	// invitation expired unclaimed (Retool's invitations expire 7 days after
	// they are made); an email with an open invitation is in Invited only.
	ExpiredInvites map[string]bool
	Folders        []Folder
	// Apps and Resources map names to ids.
	Apps, Resources map[string]string
	// AppFolders and ResourceFolders map app and resource names to the id of
	// the folder they are in ("" or absent: the root, or unknown).
	AppFolders, ResourceFolders map[string]string
	// WorkflowFolders maps workflow names to the id of the folder they are
	// in. Read by syncer.ObserveAll only (a sync grants no workflow).
	WorkflowFolders map[string]string
	// UserGrants are the grants whose subject is a user, not a group; nil
	// when they were not read (the plan then says nothing of them).
	UserGrants []UserGrant
	// Locked is version_control_locked.
	Locked bool
	// SourceControl is the configured repository; nil when none.
	SourceControl *SourceControl
	// SSO is the Space's SSO configuration (secrets encrypted), nil when
	// it has none; SSORead says whether it was read (the plan then says
	// nothing of SSO).
	SSO     *retool.SSOConfig
	SSORead bool
}

// UserGrant is a grant to one user (Retool API 2.7+: subject type user).
type UserGrant struct {
	UserID, Email string
	Object        ObjectRef
	Level         string
}

// ObservedGroup is a group of the instance.
type ObservedGroup struct {
	ID       int64
	Name     string
	Settings GroupSettings
	Members  []ObservedMember
	// Grants are the group's direct grants, by object; nil when they were
	// not read (the plan then leaves the group's grants alone).
	Grants map[ObjectRef]string
	// Invites are the canonical emails of the group's open invitations
	// (unclaimed, unexpired). Read by syncer.ObserveAll only.
	Invites []string
	// OtherGrants are the group's grants on object types that Governor does
	// not manage (resource_configuration), by object. Read by
	// syncer.ObserveAll only.
	OtherGrants map[ObjectRef]string
}

// ObservedMember is a member of an instance's group.
type ObservedMember struct {
	UserID, Email string
	GroupAdmin    bool
}

// ObjectRef is an object or folder of the instance as the permissions API names it.
type ObjectRef struct {
	Type ObjectType
	ID   string
}

func (r ObjectRef) String() string { return string(r.Type) + "/" + r.ID }

// Folder is a folder of the instance.
type Folder struct {
	ID, Name, ParentID string
	// Type is Retool's folder_type (app, workflow, resource, file).
	Type   string
	System bool
}

package platform

// Observed is what an instance was seen to hold of a Space.
type Observed struct {
	// SpaceID is the Space's id in the instance ("" when unknown).
	SpaceID string
	Groups  []ObservedGroup
	// Users maps canonical emails to user ids, for the users looked up.
	Users map[string]string
	// Invited holds the emails with an open invitation.
	Invited map[string]bool
	Folders []Folder
	// Apps and Resources map names to ids.
	Apps, Resources map[string]string
	// Locked is version_control_locked.
	Locked bool
	// SourceControl is the configured repository; nil when none.
	SourceControl *SourceControl
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
	// Type is Retool's folder_type (app, workflow, resource, ...).
	Type   string
	System bool
}

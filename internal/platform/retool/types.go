package retool

// Access levels of the universal_*_access fields and of grants.
const (
	AccessNone = "none"
	AccessUse  = "use"
	AccessEdit = "edit"
	AccessOwn  = "own"
)

// Folder types (folder_type) and permission object types.
const (
	FolderTypeApp      = "app"
	FolderTypeWorkflow = "workflow"
	FolderTypeResource = "resource"

	ObjectFolder   = "folder"
	ObjectApp      = "app"
	ObjectResource = "resource"
)

// Group is a permission group (GET /groups).
type Group struct {
	ID                          int64         `json:"id"`
	LegacyID                    int64         `json:"legacy_id"`
	Name                        string        `json:"name"`
	Members                     []GroupMember `json:"members"`
	UniversalAppAccess          string        `json:"universal_app_access"`
	UniversalResourceAccess     string        `json:"universal_resource_access"`
	UniversalWorkflowAccess     string        `json:"universal_workflow_access"`
	UniversalQueryLibraryAccess string        `json:"universal_query_library_access"`
	UserInvites                 []UserInvite  `json:"user_invites"`
	UserListAccess              bool          `json:"user_list_access"`
	AuditLogAccess              bool          `json:"audit_log_access"`
	UnpublishedReleaseAccess    bool          `json:"unpublished_release_access"`
	UsageAnalyticsAccess        bool          `json:"usage_analytics_access"`
	ThemeAccess                 bool          `json:"theme_access"`
	AccountDetailsAccess        bool          `json:"account_details_access"`
	LandingPageAppID            *string       `json:"landing_page_app_id"`
	CreatedAt                   string        `json:"created_at"`
	UpdatedAt                   string        `json:"updated_at"`
}

// GroupMember is a member of a group.
type GroupMember struct {
	ID           string `json:"id"`
	Email        string `json:"email"`
	IsGroupAdmin bool   `json:"is_group_admin"`
}

// MemberInput names a user (user_<hex>) to put in a group.
type MemberInput struct {
	ID           string `json:"id"`
	IsGroupAdmin bool   `json:"is_group_admin"`
}

// GroupCreate is the body of POST /groups. Empty universal levels are left
// to Retool's default (none).
type GroupCreate struct {
	Name                        string        `json:"name"`
	Members                     []MemberInput `json:"members,omitempty"`
	UniversalAppAccess          string        `json:"universal_app_access,omitempty"`
	UniversalResourceAccess     string        `json:"universal_resource_access,omitempty"`
	UniversalWorkflowAccess     string        `json:"universal_workflow_access,omitempty"`
	UniversalQueryLibraryAccess string        `json:"universal_query_library_access,omitempty"`
	UserListAccess              bool          `json:"user_list_access"`
	AuditLogAccess              bool          `json:"audit_log_access"`
	UnpublishedReleaseAccess    bool          `json:"unpublished_release_access"`
	UsageAnalyticsAccess        bool          `json:"usage_analytics_access"`
	ThemeAccess                 bool          `json:"theme_access"`
	AccountDetailsAccess        bool          `json:"account_details_access"`
}

// GroupUpdate lists the fields UpdateGroup replaces; nil fields are left as
// they are.
type GroupUpdate struct {
	Name                        *string
	UniversalAppAccess          *string
	UniversalResourceAccess     *string
	UniversalWorkflowAccess     *string
	UniversalQueryLibraryAccess *string
	UserListAccess              *bool
	AuditLogAccess              *bool
	UnpublishedReleaseAccess    *bool
	UsageAnalyticsAccess        *bool
	ThemeAccess                 *bool
	AccountDetailsAccess        *bool
}

// User is a user of a Space (GET /users).
type User struct {
	ID                   string         `json:"id"`
	LegacyID             int64          `json:"legacy_id"`
	Email                string         `json:"email"`
	Active               bool           `json:"active"`
	CreatedAt            string         `json:"created_at"`
	LastActive           *string        `json:"last_active"`
	FirstName            *string        `json:"first_name"`
	LastName             *string        `json:"last_name"`
	Metadata             map[string]any `json:"metadata"`
	IsAdmin              bool           `json:"is_admin"`
	UserType             string         `json:"user_type"`
	TwoFactorAuthEnabled bool           `json:"two_factor_auth_enabled"`
}

// UserInvite is a pending (or claimed) invitation (GET /user_invites).
type UserInvite struct {
	ID           int64             `json:"id"`
	LegacyID     int64             `json:"legacy_id"`
	InvitedBy    string            `json:"invited_by"`
	InvitedEmail string            `json:"invited_email"`
	ExpiresAt    string            `json:"expires_at"`
	ClaimedBy    *string           `json:"claimed_by"`
	ClaimedAt    *string           `json:"claimed_at"`
	UserType     *string           `json:"user_type"`
	Metadata     map[string]any    `json:"metadata"`
	CreatedAt    string            `json:"created_at"`
	InviteLink   string            `json:"invite_link,omitempty"`
	Groups       []UserInviteGroup `json:"groups,omitempty"`
}

// UserInviteGroup is a group an invite places its user in.
type UserInviteGroup struct {
	ID       int64  `json:"id"`
	LegacyID int64  `json:"legacy_id"`
	Name     string `json:"name"`
}

// Folder is an app, workflow or resource folder (GET /folders). Each type
// has a system folder named "root" with no parent.
type Folder struct {
	ID             string  `json:"id"`
	LegacyID       string  `json:"legacy_id"`
	Name           string  `json:"name"`
	ParentFolderID *string `json:"parent_folder_id"`
	IsSystemFolder bool    `json:"is_system_folder"`
	FolderType     string  `json:"folder_type"`
	CreatedAt      string  `json:"created_at"`
	UpdatedAt      string  `json:"updated_at"`
}

// App is an app (GET /apps); ID is a uuid.
type App struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	Description *string `json:"description"`
	FolderID    string  `json:"folder_id"`
	Protected   bool    `json:"protected"`
	Synced      bool    `json:"synced"`
	Shortlink   *string `json:"shortlink"`
	IsModule    bool    `json:"is_module"`
	IsMobileApp bool    `json:"is_mobile_app"`
	CreatedAt   string  `json:"created_at"`
	UpdatedAt   string  `json:"updated_at"`
	// ReleaseVersion is the live release ("" when the app was never released).
	ReleaseVersion string `json:"release_version"`
}

// Workflow is a workflow (GET /workflows); ID is a uuid.
type Workflow struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	Description *string `json:"description"`
	Crontab     *string `json:"crontab"`
	Timezone    *string `json:"timezone"`
	IsEnabled   bool    `json:"is_enabled"`
	FolderID    string  `json:"folder_id"`
	Protected   bool    `json:"protected"`
	CreatedBy   *int64  `json:"created_by"`
	CreatedAt   string  `json:"created_at"`
	UpdatedAt   string  `json:"updated_at"`
}

// Resource is a resource (GET /resources); ID is a uuid.
type Resource struct {
	ID          string  `json:"id"`
	Type        string  `json:"type"`
	DisplayName string  `json:"display_name"`
	FolderID    *string `json:"folder_id"`
	Protected   bool    `json:"protected"`
	CreatedAt   string  `json:"created_at"`
	UpdatedAt   string  `json:"updated_at"`
}

// ObjectRef names an object of a grant: Type is ObjectFolder (ID app_<n>,
// workflow_<n>, resource_<n>), ObjectApp (uuid) or ObjectResource.
type ObjectRef struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// ObjectAccess is an object a group can access, with the level.
type ObjectAccess struct {
	Type        string `json:"type"`
	ID          string `json:"id"`
	AccessLevel string `json:"access_level"`
}

// Space is a child Space (GET /spaces); ID is org_<hex>.
type Space struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Domain    string `json:"domain"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
}

// SpaceCreate is the body of POST /spaces.
type SpaceCreate struct {
	Name            string
	Domain          string
	CopySSOSettings bool
}

// SourceControlSettings are a Space's source control settings;
// VersionControlLocked makes the Space read-only.
type SourceControlSettings struct {
	AutoBranchNamingEnabled          bool   `json:"auto_branch_naming_enabled"`
	CustomPullRequestTemplateEnabled bool   `json:"custom_pull_request_template_enabled"`
	CustomPullRequestTemplate        string `json:"custom_pull_request_template"`
	VersionControlLocked             bool   `json:"version_control_locked"`
	ForceUUIDMapping                 bool   `json:"force_uuid_mapping"`
	AutoCleanupBranchesEnabled       bool   `json:"auto_cleanup_branches_enabled"`
}

// SourceControlConfig is a Space's source control provider configuration.
// Config holds the provider's credentials as Retool names them (for GitHub
// {"type":"Personal","personal_access_token":...} or {"type":"App",...});
// Retool answers secrets as "---encrypted-on-server---".
type SourceControlConfig struct {
	Provider      string         `json:"provider"`
	Org           string         `json:"org"`
	Repo          string         `json:"repo"`
	DefaultBranch string         `json:"default_branch"`
	RepoVersion   string         `json:"repo_version,omitempty"`
	Config        map[string]any `json:"config"`
}

// Release is a release of an app.
type Release struct {
	ReleaseVersion     string `json:"release_version"`
	ReleaseDescription string `json:"release_description,omitempty"`
	CreatedAt          string `json:"created_at"`
}

// ReleaseArtifact is what creating a release pushed to source control.
type ReleaseArtifact struct {
	CommitSHA  string `json:"commit_sha"`
	URL        string `json:"url"`
	BranchName string `json:"branch_name"`
}

// EncryptedSecret is how Retool answers a source control secret.
const EncryptedSecret = "---encrypted-on-server---"

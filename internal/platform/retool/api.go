package retool

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"

	"github.com/governor-dev/governor/internal/access"
)

const (
	pathGroups       = "/groups"
	pathGroup        = "/groups/{groupId}"
	pathGroupMembers = "/groups/{groupId}/members"
	pathGroupMember  = "/groups/{groupId}/members/{userSid}"
	pathUsers        = "/users"
	pathUserInvites  = "/user_invites"
	pathFolders      = "/folders"
	pathFolder       = "/folders/{folderId}"
	pathApps         = "/apps"
	pathWorkflows    = "/workflows"
	pathResources    = "/resources"
	pathListObjects  = "/permissions/listObjects"
	pathGrant        = "/permissions/grant"
	pathRevoke       = "/permissions/revoke"
	pathSCSettings   = "/source_control/settings"
	pathSCConfig     = "/source_control/config"
	pathSpaces       = "/spaces"
	pathSpace        = "/spaces/{spaceId}"
	pathReleases     = "/source_control/releases/{elementUuid}"
)

// The element types of a release (the elementType query parameter).
const (
	ElementApp      = "PAGE"
	ElementWorkflow = "WORKFLOW"
)

var semver = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$`)

func id64(id int64) string { return strconv.FormatInt(id, 10) }

// ListGroups returns the Space's permission groups.
func (c *Client) ListGroups(ctx context.Context) ([]Group, error) {
	return list[Group](ctx, c, call{method: http.MethodGet, template: pathGroups, idempotent: true}, false)
}

// GetGroup returns a group.
func (c *Client) GetGroup(ctx context.Context, id int64) (Group, error) {
	var g Group
	_, err := c.do(ctx, call{method: http.MethodGet, template: pathGroup, args: []string{id64(id)}, idempotent: true}, &g)
	return g, err
}

// CreateGroup creates a group with its members.
func (c *Client) CreateGroup(ctx context.Context, in GroupCreate) (Group, error) {
	var g Group
	_, err := c.do(ctx, call{method: http.MethodPost, template: pathGroups, body: in}, &g)
	return g, err
}

type patchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value"`
}

type patchBody struct {
	Operations []patchOp `json:"operations"`
}

// operations returns the JSON Patch replace operations of the non-nil
// fields.
func (u GroupUpdate) operations() []patchOp {
	var ops []patchOp
	str := func(path string, v *string) {
		if v != nil {
			ops = append(ops, patchOp{Op: "replace", Path: path, Value: *v})
		}
	}
	flag := func(path string, v *bool) {
		if v != nil {
			ops = append(ops, patchOp{Op: "replace", Path: path, Value: *v})
		}
	}
	str("/name", u.Name)
	str("/universal_app_access", u.UniversalAppAccess)
	str("/universal_resource_access", u.UniversalResourceAccess)
	str("/universal_workflow_access", u.UniversalWorkflowAccess)
	str("/universal_query_library_access", u.UniversalQueryLibraryAccess)
	flag("/user_list_access", u.UserListAccess)
	flag("/audit_log_access", u.AuditLogAccess)
	flag("/unpublished_release_access", u.UnpublishedReleaseAccess)
	flag("/usage_analytics_access", u.UsageAnalyticsAccess)
	flag("/theme_access", u.ThemeAccess)
	flag("/account_details_access", u.AccountDetailsAccess)
	return ops
}

// UpdateGroup replaces the non-nil fields of u (PATCH, JSON Patch). With no
// field set it sends nothing and returns the group as it is.
func (c *Client) UpdateGroup(ctx context.Context, id int64, u GroupUpdate) (Group, error) {
	ops := u.operations()
	if len(ops) == 0 {
		return c.GetGroup(ctx, id)
	}
	var g Group
	_, err := c.do(ctx, call{method: http.MethodPatch, template: pathGroup, args: []string{id64(id)}, body: patchBody{Operations: ops}, idempotent: true}, &g)
	return g, err
}

// AddGroupMembers adds users to a group; for members already in it,
// is_group_admin is updated.
func (c *Client) AddGroupMembers(ctx context.Context, id int64, members []MemberInput) (Group, error) {
	var g Group
	body := struct {
		Members []MemberInput `json:"members"`
	}{Members: members}
	_, err := c.do(ctx, call{method: http.MethodPost, template: pathGroupMembers, args: []string{id64(id)}, body: body, idempotent: true}, &g)
	return g, err
}

// RemoveGroupMember removes a user from a group.
func (c *Client) RemoveGroupMember(ctx context.Context, id int64, userID string) error {
	_, err := c.do(ctx, call{method: http.MethodDelete, template: pathGroupMember, args: []string{id64(id), userID}, idempotent: true}, nil)
	return err
}

// DeleteGroup deletes a group.
func (c *Client) DeleteGroup(ctx context.Context, id int64) error {
	_, err := c.do(ctx, call{method: http.MethodDelete, template: pathGroup, args: []string{id64(id)}, idempotent: true}, nil)
	return err
}

// ListUsers returns every user of the Space (all pages).
func (c *Client) ListUsers(ctx context.Context) ([]User, error) {
	return list[User](ctx, c, call{method: http.MethodGet, template: pathUsers, idempotent: true}, true)
}

// FindUserByEmail returns the user with that email (compared in canonical
// form, access.EmailKey: no Unicode folding), or nil when the Space has none.
func (c *Client) FindUserByEmail(ctx context.Context, email string) (*User, error) {
	users, err := list[User](ctx, c, call{method: http.MethodGet, template: pathUsers, query: url.Values{"email": {email}}, idempotent: true}, true)
	if err != nil {
		return nil, err
	}
	for i := range users {
		if access.EmailKey(users[i].Email) == access.EmailKey(email) {
			return &users[i], nil
		}
	}
	return nil, nil
}

// CreateUserInvite invites email to the Space, into groupIDs once claimed.
func (c *Client) CreateUserInvite(ctx context.Context, email string, groupIDs []int64) (UserInvite, error) {
	body := struct {
		Email           string  `json:"email"`
		DefaultGroupIDs []int64 `json:"defaultGroupIds,omitempty"`
	}{Email: email, DefaultGroupIDs: groupIDs}
	var inv UserInvite
	_, err := c.do(ctx, call{method: http.MethodPost, template: pathUserInvites, body: body}, &inv)
	return inv, err
}

// ListUserInvites returns the Space's user invites.
func (c *Client) ListUserInvites(ctx context.Context) ([]UserInvite, error) {
	return list[UserInvite](ctx, c, call{method: http.MethodGet, template: pathUserInvites, idempotent: true}, false)
}

// ListFolders returns every folder of every type.
func (c *Client) ListFolders(ctx context.Context) ([]Folder, error) {
	return list[Folder](ctx, c, call{method: http.MethodGet, template: pathFolders, idempotent: true}, false)
}

// CreateFolder creates a folder of folderType (FolderTypeApp, ...) under
// parentID ("" for the type's root folder).
func (c *Client) CreateFolder(ctx context.Context, name, parentID, folderType string) (Folder, error) {
	body := struct {
		Name           string  `json:"name"`
		ParentFolderID *string `json:"parent_folder_id,omitempty"`
		FolderType     string  `json:"folder_type"`
	}{Name: name, FolderType: folderType}
	if parentID != "" {
		body.ParentFolderID = &parentID
	}
	var f Folder
	_, err := c.do(ctx, call{method: http.MethodPost, template: pathFolders, body: body}, &f)
	return f, err
}

// DeleteFolder deletes an (empty) folder.
func (c *Client) DeleteFolder(ctx context.Context, id string) error {
	_, err := c.do(ctx, call{method: http.MethodDelete, template: pathFolder, args: []string{id}, idempotent: true}, nil)
	return err
}

// ListApps returns the Space's apps.
func (c *Client) ListApps(ctx context.Context) ([]App, error) {
	return list[App](ctx, c, call{method: http.MethodGet, template: pathApps, idempotent: true}, false)
}

// ListWorkflows returns the Space's workflows.
func (c *Client) ListWorkflows(ctx context.Context) ([]Workflow, error) {
	return list[Workflow](ctx, c, call{method: http.MethodGet, template: pathWorkflows, idempotent: true}, false)
}

// ListResources returns the Space's resources (all pages).
func (c *Client) ListResources(ctx context.Context) ([]Resource, error) {
	return list[Resource](ctx, c, call{method: http.MethodGet, template: pathResources, idempotent: true}, true)
}

const subjectGroup = "group"

type subject struct {
	Type string `json:"type"`
	ID   int64  `json:"id"`
}

// ListObjects returns the objects of objectType (ObjectFolder, ObjectApp,
// ObjectResource) a group has been granted directly.
func (c *Client) ListObjects(ctx context.Context, groupID int64, objectType string) ([]ObjectAccess, error) {
	body := struct {
		Subject    subject `json:"subject"`
		ObjectType string  `json:"object_type"`
	}{Subject: subject{Type: subjectGroup, ID: groupID}, ObjectType: objectType}
	return list[ObjectAccess](ctx, c, call{method: http.MethodPost, template: pathListObjects, body: body, idempotent: true}, false)
}

// Grant gives a group level (use, edit, own) on an object, replacing the
// level it had.
func (c *Client) Grant(ctx context.Context, groupID int64, obj ObjectRef, level string) error {
	body := struct {
		Subject     subject   `json:"subject"`
		Object      ObjectRef `json:"object"`
		AccessLevel string    `json:"access_level"`
	}{Subject: subject{Type: subjectGroup, ID: groupID}, Object: obj, AccessLevel: level}
	_, err := c.do(ctx, call{method: http.MethodPost, template: pathGrant, body: body, idempotent: true}, nil)
	return err
}

// Revoke removes a group's grant on an object.
func (c *Client) Revoke(ctx context.Context, groupID int64, obj ObjectRef) error {
	body := struct {
		Subject subject   `json:"subject"`
		Object  ObjectRef `json:"object"`
	}{Subject: subject{Type: subjectGroup, ID: groupID}, Object: obj}
	_, err := c.do(ctx, call{method: http.MethodPost, template: pathRevoke, body: body, idempotent: true}, nil)
	return err
}

// GetSourceControlSettings returns the Space's source control settings.
func (c *Client) GetSourceControlSettings(ctx context.Context) (SourceControlSettings, error) {
	var s SourceControlSettings
	_, err := c.do(ctx, call{method: http.MethodGet, template: pathSCSettings, idempotent: true}, &s)
	return s, err
}

// UpdateSourceControlSettings writes the Space's source control settings
// (all fields).
func (c *Client) UpdateSourceControlSettings(ctx context.Context, s SourceControlSettings) (SourceControlSettings, error) {
	body := struct {
		Settings SourceControlSettings `json:"settings"`
	}{Settings: s}
	var out SourceControlSettings
	_, err := c.do(ctx, call{method: http.MethodPut, template: pathSCSettings, body: body, idempotent: true}, &out)
	return out, err
}

// GetSourceControlConfig returns the Space's source control configuration,
// or nil when it has none (Retool's 404).
func (c *Client) GetSourceControlConfig(ctx context.Context) (*SourceControlConfig, error) {
	var cfg SourceControlConfig
	_, err := c.do(ctx, call{method: http.MethodGet, template: pathSCConfig, idempotent: true}, &cfg)
	if IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &cfg, nil
}

// PutSourceControlConfig creates or replaces the Space's source control
// configuration (PUT: 201 created, 200 updated).
func (c *Client) PutSourceControlConfig(ctx context.Context, cfg SourceControlConfig) (SourceControlConfig, error) {
	body := struct {
		Config SourceControlConfig `json:"config"`
	}{Config: cfg}
	var out SourceControlConfig
	_, err := c.do(ctx, call{method: http.MethodPut, template: pathSCConfig, body: body, idempotent: true}, &out)
	return out, err
}

// ListSpaces returns the child Spaces of the client's (admin) Space.
func (c *Client) ListSpaces(ctx context.Context) ([]Space, error) {
	return list[Space](ctx, c, call{method: http.MethodGet, template: pathSpaces, idempotent: true}, false)
}

// CreateSpace creates a child Space. Retool answers the creation with an
// empty domain; the returned Space carries the requested one.
func (c *Client) CreateSpace(ctx context.Context, in SpaceCreate) (Space, error) {
	type options struct {
		CopySSOSettings bool `json:"copy_sso_settings"`
	}
	body := struct {
		Name    string  `json:"name"`
		Domain  string  `json:"domain"`
		Options options `json:"options"`
	}{Name: in.Name, Domain: in.Domain, Options: options{CopySSOSettings: in.CopySSOSettings}}
	var s Space
	_, err := c.do(ctx, call{method: http.MethodPost, template: pathSpaces, body: body}, &s)
	if err == nil && s.Domain == "" {
		s.Domain = in.Domain
	}
	return s, err
}

// DeleteSpace deletes a child Space.
func (c *Client) DeleteSpace(ctx context.Context, id string) error {
	_, err := c.do(ctx, call{method: http.MethodDelete, template: pathSpace, args: []string{id}, idempotent: true}, nil)
	return err
}

// ListReleases returns the releases of an app (elementType ElementApp) or
// a workflow (ElementWorkflow). Retool lists a release once the branch its
// creation pushed is merged into the Space's default branch.
func (c *Client) ListReleases(ctx context.Context, elementType, elementUUID string) ([]Release, error) {
	var rs []Release
	_, err := c.do(ctx, call{method: http.MethodGet, template: pathReleases, args: []string{elementUUID},
		query: url.Values{"elementType": {elementType}}, idempotent: true}, &rs)
	return rs, err
}

// ReleaseCreate is the body of POST /source_control/releases/{elementUuid}.
type ReleaseCreate struct {
	// Version is X.Y.Z (Retool refuses anything else).
	Version     string
	Description string
	// CommitMessage of the release's commit ("": Retool's default).
	CommitMessage string
}

// CreateRelease releases the current state of an app or workflow as
// in.Version: Retool pushes a branch with the release artifact to the
// Space's repository and answers the branch, its commit and the URL that
// opens its pull request. The release exists once that branch is merged.
func (c *Client) CreateRelease(ctx context.Context, elementType, elementUUID string, in ReleaseCreate) (ReleaseArtifact, error) {
	if !semver.MatchString(in.Version) {
		return ReleaseArtifact{}, fmt.Errorf("retool: release_version %q of %s %s: want X.Y.Z", in.Version, elementType, elementUUID)
	}
	body := struct {
		ReleaseVersion     string `json:"release_version"`
		ReleaseDescription string `json:"release_description,omitempty"`
		CommitMessage      string `json:"commit_message,omitempty"`
	}{ReleaseVersion: in.Version, ReleaseDescription: in.Description, CommitMessage: in.CommitMessage}
	var a ReleaseArtifact
	_, err := c.do(ctx, call{method: http.MethodPost, template: pathReleases, args: []string{elementUUID},
		query: url.Values{"elementType": {elementType}}, body: body}, &a)
	if err != nil {
		return a, fmt.Errorf("release %s of %s %s: %w", in.Version, elementType, elementUUID, err)
	}
	return a, nil
}

package syncer

import (
	"context"

	"github.com/governor-dev/governor/internal/platform/retool"
)

// Reader is what a pass reads of an instance's Space.
type Reader interface {
	ListGroups(ctx context.Context) ([]retool.Group, error)
	ListUsers(ctx context.Context) ([]retool.User, error)
	FindUserByEmail(ctx context.Context, email string) (*retool.User, error)
	ListUserInvites(ctx context.Context) ([]retool.UserInvite, error)
	ListFolders(ctx context.Context) ([]retool.Folder, error)
	ListApps(ctx context.Context) ([]retool.App, error)
	ListResources(ctx context.Context) ([]retool.Resource, error)
	ListObjects(ctx context.Context, groupID int64, objectType string) ([]retool.ObjectAccess, error)
	// ListObjectsOf lists a subject's direct grants: the pass reads users'.
	ListObjectsOf(ctx context.Context, sub retool.Subject, objectType string) ([]retool.ObjectAccess, error)
	GetSourceControlSettings(ctx context.Context) (retool.SourceControlSettings, error)
	GetSourceControlConfig(ctx context.Context) (*retool.SourceControlConfig, error)
	GetSSOConfig(ctx context.Context) (*retool.SSOConfig, error)
}

// Writer is what a pass changes in an instance's Space: one method per
// call of a plan.
type Writer interface {
	UpdateSourceControlSettings(ctx context.Context, s retool.SourceControlSettings) (retool.SourceControlSettings, error)
	PutSourceControlConfig(ctx context.Context, cfg retool.SourceControlConfig) (retool.SourceControlConfig, error)
	CreateFolder(ctx context.Context, name, parentID, folderType string) (retool.Folder, error)
	CreateGroup(ctx context.Context, in retool.GroupCreate) (retool.Group, error)
	UpdateGroup(ctx context.Context, id int64, u retool.GroupUpdate) (retool.Group, error)
	AddGroupMembers(ctx context.Context, id int64, members []retool.MemberInput) (retool.Group, error)
	RemoveGroupMember(ctx context.Context, id int64, userID string) error
	CreateUserInvite(ctx context.Context, email string, groupIDs []int64) (retool.UserInvite, error)
	Grant(ctx context.Context, groupID int64, obj retool.ObjectRef, level string) error
	Revoke(ctx context.Context, groupID int64, obj retool.ObjectRef) error
	// RevokeFrom revokes a subject's grant: the pass revokes users'.
	RevokeFrom(ctx context.Context, sub retool.Subject, obj retool.ObjectRef) error
	DeleteGroup(ctx context.Context, id int64) error
	SetSSOConfig(ctx context.Context, cfg retool.SSOConfig) (retool.SSOConfig, error)
	DeleteSSOConfig(ctx context.Context) error
}

// Instance is one Space of a Retool instance as a pass reaches it; the
// Retool API client implements it, and tests fake it.
type Instance interface {
	Reader
	Writer
}

var _ Instance = (*retool.Client)(nil)

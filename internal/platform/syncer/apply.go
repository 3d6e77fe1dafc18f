package syncer

import (
	"context"
	"fmt"
	"strings"

	"github.com/governor-dev/governor/internal/platform"
	"github.com/governor-dev/governor/internal/platform/retool"
)

// Credentials are the provider settings written with the source control
// configuration (Retool's names: personal_access_token, app_id, ...).
type Credentials map[string]any

// applier runs a plan's calls, one method per kind of call, and reports
// each effect the moment the instance confirms it.
type applier struct {
	c     Writer
	read  Reader
	rec   Recorder
	mem   *Memory
	creds Credentials
	// sso holds the SSO configuration's secrets.
	sso  *retool.SSOConfig
	tree *platform.FolderIndex
	// folders created this pass: type/path -> id.
	folders  map[string]string
	groupIDs map[string]int64
}

func (a *applier) groupID(op platform.Op) int64 {
	if op.GroupID != 0 {
		return op.GroupID
	}
	return a.groupIDs[op.Group]
}

// folderID resolves a folder the plan names by path (created this pass or
// listed before it).
func (a *applier) folderID(kindType, path string) string {
	if id := a.folders[kindType+"/"+path]; id != "" {
		return id
	}
	id, _ := a.tree.Lookup(kindType, path)
	return id
}

func (a *applier) apply(ctx context.Context, op platform.Op) error {
	switch op.Kind {
	case platform.OpSetLock:
		return a.setLock(ctx, op)
	case platform.OpSetSourceControl:
		return a.setSourceControl(ctx, op)
	case platform.OpCreateFolder:
		return a.createFolder(ctx, op)
	case platform.OpCreateGroup:
		return a.createGroup(ctx, op)
	case platform.OpUpdateGroup:
		return a.updateGroup(ctx, op)
	case platform.OpAddMembers:
		return a.addMembers(ctx, op)
	case platform.OpRemoveMember:
		return a.removeMember(ctx, op)
	case platform.OpInvite:
		return a.invite(ctx, op)
	case platform.OpGrant:
		return a.grant(ctx, op)
	case platform.OpRevoke:
		return a.revoke(ctx, op)
	case platform.OpRevokeUserGrant:
		return a.revokeUserGrant(ctx, op)
	case platform.OpDeleteGroup:
		return a.deleteGroup(ctx, op)
	case platform.OpSetSSO:
		return a.setSSO(ctx, op)
	case platform.OpDeleteSSO:
		if err := a.c.DeleteSSOConfig(ctx); err != nil {
			return err
		}
		a.rec.Record(Effect{Kind: SSODeleted})
		return nil
	}
	return fmt.Errorf("unknown call %q", op.Kind)
}

func (a *applier) setLock(ctx context.Context, op platform.Op) error {
	s, err := a.read.GetSourceControlSettings(ctx)
	if err != nil {
		return err
	}
	s.VersionControlLocked = *op.Locked
	_, err = a.c.UpdateSourceControlSettings(ctx, s)
	return err
}

func (a *applier) setSourceControl(ctx context.Context, op platform.Op) error {
	sc := op.SourceControl
	_, err := a.c.PutSourceControlConfig(ctx, retool.SourceControlConfig{Provider: sc.Provider, Org: sc.Org, Repo: sc.Repo, DefaultBranch: sc.Branch, Config: a.creds})
	return err
}

func (a *applier) createFolder(ctx context.Context, op platform.Op) error {
	typ := platform.FolderType(op.FolderKind)
	parent, name := "", op.FolderPath
	if i := strings.LastIndex(op.FolderPath, "/"); i >= 0 {
		parent, name = op.FolderPath[:i], op.FolderPath[i+1:]
	}
	parentID := a.tree.Root(typ)
	if parent != "" {
		parentID = a.folderID(typ, parent)
	}
	f, err := a.c.CreateFolder(ctx, name, parentID, typ)
	if err != nil {
		return err
	}
	a.folders[typ+"/"+op.FolderPath] = f.ID
	a.rec.Record(Effect{Kind: FolderCreated, Folder: typ + "/" + op.FolderPath, Object: platform.ObjectRef{Type: platform.ObjectFolder, ID: f.ID}})
	return nil
}

func (a *applier) createGroup(ctx context.Context, op platform.Op) error {
	s := op.Settings
	in := retool.GroupCreate{Name: op.GroupName,
		UniversalAppAccess: s.UniversalApp, UniversalWorkflowAccess: s.UniversalWorkflow,
		UniversalResourceAccess: s.UniversalResource, UniversalQueryLibraryAccess: s.UniversalQueryLibrary,
		UserListAccess: s.UserList, AuditLogAccess: s.AuditLog, UnpublishedReleaseAccess: s.UnpublishedRelease,
		UsageAnalyticsAccess: s.UsageAnalytics, ThemeAccess: s.Theme, AccountDetailsAccess: s.AccountDetails}
	for _, m := range op.Members {
		in.Members = append(in.Members, retool.MemberInput{ID: m.UserID, IsGroupAdmin: m.GroupAdmin})
	}
	// The answer may be lost (a timeout, the operator stopped): the next
	// pass then adopts a group of this name as Governor's.
	a.rec.Record(Effect{Kind: CreatePending, Group: op.Group, GroupName: op.GroupName})
	g, err := a.c.CreateGroup(ctx, in)
	if err != nil {
		return err
	}
	a.groupIDs[op.Group] = g.ID
	a.mem.set(g.ID, map[platform.ObjectRef]string{})
	a.rec.Record(Effect{Kind: GroupCreated, Group: op.Group, GroupName: op.GroupName, GroupID: g.ID})
	return nil
}

func (a *applier) updateGroup(ctx context.Context, op platform.Op) error {
	u := op.Update
	_, err := a.c.UpdateGroup(ctx, op.GroupID, retool.GroupUpdate{Name: u.Name,
		UniversalAppAccess: u.UniversalApp, UniversalWorkflowAccess: u.UniversalWorkflow,
		UniversalResourceAccess: u.UniversalResource, UniversalQueryLibraryAccess: u.UniversalQueryLibrary,
		UserListAccess: u.UserList, AuditLogAccess: u.AuditLog, UnpublishedReleaseAccess: u.UnpublishedRelease,
		UsageAnalyticsAccess: u.UsageAnalytics, ThemeAccess: u.Theme, AccountDetailsAccess: u.AccountDetails})
	return err
}

func (a *applier) addMembers(ctx context.Context, op platform.Op) error {
	in := make([]retool.MemberInput, len(op.Members))
	for i, m := range op.Members {
		in[i] = retool.MemberInput{ID: m.UserID, IsGroupAdmin: m.GroupAdmin}
	}
	_, err := a.c.AddGroupMembers(ctx, op.GroupID, in)
	return err
}

func (a *applier) removeMember(ctx context.Context, op platform.Op) error {
	return a.c.RemoveGroupMember(ctx, op.GroupID, op.Member.UserID)
}

func (a *applier) invite(ctx context.Context, op platform.Op) error {
	_, err := a.c.CreateUserInvite(ctx, op.Member.Email, []int64{a.groupID(op)})
	return err
}

func (a *applier) grant(ctx context.Context, op platform.Op) error {
	id := a.groupID(op)
	obj := op.Object
	if obj.ID == "" {
		obj.ID = a.folderID(platform.FolderType(op.FolderKind), op.FolderPath)
	}
	if err := a.c.Grant(ctx, id, retool.ObjectRef{Type: string(obj.Type), ID: obj.ID}, op.Level); err != nil {
		return err
	}
	a.mem.update(id, func(g map[platform.ObjectRef]string) { g[obj] = op.Level })
	a.rec.Record(Effect{Kind: GrantMade, Group: op.Group, GroupID: id, Object: obj, Rule: op.Rule})
	return nil
}

func (a *applier) revoke(ctx context.Context, op platform.Op) error {
	if err := a.c.Revoke(ctx, op.GroupID, retool.ObjectRef{Type: string(op.Object.Type), ID: op.Object.ID}); err != nil && !retool.IsNotFound(err) {
		return err
	}
	a.mem.update(op.GroupID, func(g map[platform.ObjectRef]string) { delete(g, op.Object) })
	a.rec.Record(Effect{Kind: GrantRevoked, Group: op.Group, GroupID: op.GroupID, Object: op.Object})
	return nil
}

// revokeUserGrant revokes a grant whose subject is a user (Authoritative
// mode: Governor grants to groups only).
func (a *applier) revokeUserGrant(ctx context.Context, op platform.Op) error {
	obj := retool.ObjectRef{Type: string(op.Object.Type), ID: op.Object.ID}
	if err := a.c.RevokeFrom(ctx, retool.UserSubject(op.Member.UserID), obj); err != nil && !retool.IsNotFound(err) {
		return err
	}
	a.mem.revokedFromUser(op.Member.UserID, op.Object)
	return nil
}

func (a *applier) deleteGroup(ctx context.Context, op platform.Op) error {
	if err := a.c.DeleteGroup(ctx, op.GroupID); err != nil && !retool.IsNotFound(err) {
		return err
	}
	a.mem.forget(op.GroupID)
	a.rec.Record(Effect{Kind: GroupDeleted, GroupName: op.GroupName, GroupID: op.GroupID})
	return nil
}

// setSSO writes the SSO configuration with its secrets and records their
// digest (never the secrets).
func (a *applier) setSSO(ctx context.Context, op platform.Op) error {
	cfg := op.SSO.Config
	if a.sso != nil {
		cfg = cfg.WithSecretsOf(*a.sso)
	}
	if _, err := a.c.SetSSOConfig(ctx, cfg); err != nil {
		return err
	}
	a.rec.Record(Effect{Kind: SSOWritten, SSODigest: op.SSO.SecretDigest})
	return nil
}

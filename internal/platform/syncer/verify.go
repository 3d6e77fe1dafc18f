package syncer

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/platform"
	"github.com/governor-dev/governor/internal/platform/retool"
)

// VerifyReader is what verifying reads of an instance's Space: its users,
// groups, folders and objects, then Retool's own account of who reaches
// each object (one accessList request per object).
type VerifyReader interface {
	ListUsers(ctx context.Context) ([]retool.User, error)
	ListGroups(ctx context.Context) ([]retool.Group, error)
	ListFolders(ctx context.Context) ([]retool.Folder, error)
	ListApps(ctx context.Context) ([]retool.App, error)
	ListWorkflows(ctx context.Context) ([]retool.Workflow, error)
	ListResources(ctx context.Context) ([]retool.Resource, error)
	AccessList(ctx context.Context, objectType, objectID string) (retool.AccessList, error)
}

var _ VerifyReader = (*retool.Client)(nil)

// VerifyInput is what one verification compares.
type VerifyInput struct {
	Model       *access.Snapshot
	Space       access.SpaceInput
	Environment string
	// Select picks the objects whose access lists are read (nil: every
	// object): `governor platform verify --object`, or the slice of a sync
	// pass.
	Select func(objects []platform.InstanceObject) []platform.InstanceObject
	// Progress, when set, is told how many access lists were read.
	Progress func(read, of int)
}

// Verification is what a verification read and found.
type Verification struct {
	platform.VerifyResult
	// Listed are every object of the instance that the model covers (the
	// selection was made from them); Outside counts the items in the
	// archive or in users' drafts, which no Space's model covers.
	Listed  []platform.InstanceObject
	Outside int
}

// Verify reads the instance's users, groups, folders and objects, then the
// access list of each selected object, and compares every active user's
// level with the model's (platform.Verify). The controller runs it a slice
// at a time after each pass; `governor platform verify` over everything.
func Verify(ctx context.Context, r VerifyReader, in VerifyInput) (Verification, error) {
	st, err := readInstance(ctx, r, in.Space)
	if err != nil {
		return Verification{}, err
	}
	objects := st.objects
	if in.Select != nil {
		objects = in.Select(objects)
	}
	for i := range objects {
		o := &objects[i]
		list, err := r.AccessList(ctx, string(o.Type), accessListID(*o))
		if err != nil {
			return Verification{}, step("reading the access list of "+o.String(), err)
		}
		for _, e := range list.User {
			if e.Subject.Type == retool.SubjectUser {
				o.Users = append(o.Users, platform.AccessEntry{UserID: e.Subject.ID, Level: e.AccessLevel, Source: accessSource(e.Sources, st.groupNames, st.folderNames)})
			}
		}
		if in.Progress != nil {
			in.Progress(i+1, len(objects))
		}
	}
	res, err := platform.Verify(platform.VerifyInput{Snapshot: in.Model, Environment: in.Environment, Users: st.users, Objects: objects, IdPGroups: st.idpGroups})
	if err != nil {
		return Verification{}, err
	}
	return Verification{VerifyResult: res, Listed: st.objects, Outside: st.outside}, nil
}

// instanceState is what verifying reads of an instance before the access lists.
type instanceState struct {
	users     []platform.InstanceUser
	idpGroups map[string][]string
	// objects are the team folders and the items in them or in a root;
	// outside counts the items elsewhere.
	objects []platform.InstanceObject
	outside int
	// groupNames and folderNames name group and folder ids in sources.
	groupNames, folderNames map[string]string
}

func readInstance(ctx context.Context, r VerifyReader, space access.SpaceInput) (*instanceState, error) {
	users, err := r.ListUsers(ctx)
	if err != nil {
		return nil, step("listing users", err)
	}
	groups, err := r.ListGroups(ctx)
	if err != nil {
		return nil, step("listing groups", err)
	}
	folders, err := r.ListFolders(ctx)
	if err != nil {
		return nil, step("listing folders", err)
	}
	apps, err := r.ListApps(ctx)
	if err != nil {
		return nil, step("listing apps", err)
	}
	workflows, err := r.ListWorkflows(ctx)
	if err != nil {
		return nil, step("listing workflows", err)
	}
	resources, err := r.ListResources(ctx)
	if err != nil {
		return nil, step("listing resources", err)
	}
	st := &instanceState{groupNames: make(map[string]string, len(groups)), folderNames: map[string]string{}}
	for _, u := range users {
		st.users = append(st.users, platform.InstanceUser{ID: u.ID, Email: u.Email, Active: u.Active})
	}
	observed := make([]platform.ObservedGroup, 0, len(groups))
	for _, g := range groups {
		st.groupNames[strconv.FormatInt(g.ID, 10)] = g.Name
		og := platform.ObservedGroup{ID: g.ID, Name: g.Name}
		for _, m := range g.Members {
			og.Members = append(og.Members, platform.ObservedMember{UserID: m.ID, Email: m.Email})
		}
		observed = append(observed, og)
	}
	st.idpGroups = platform.IdPGroupsFromInstance(space, observed)
	instFolders := make([]platform.Folder, 0, len(folders))
	for _, fo := range folders {
		parent := ""
		if fo.ParentFolderID != nil {
			parent = *fo.ParentFolderID
		}
		instFolders = append(instFolders, platform.Folder{ID: fo.ID, Name: fo.Name, ParentID: parent, Type: fo.FolderType, System: fo.IsSystemFolder})
	}
	ix := platform.NewFolderIndex(instFolders)
	for _, fo := range instFolders {
		if p, ok := ix.Path(fo.ID); ok {
			st.folderNames[fo.ID] = fo.Type + " folder " + strconv.Quote(p)
		}
	}
	items := make([]platform.InstanceItem, 0, len(apps)+len(workflows)+len(resources))
	for _, a := range apps {
		items = append(items, platform.InstanceItem{Type: platform.ObjectApp, ID: a.ID, Name: a.Name, FolderID: a.FolderID})
	}
	for _, w := range workflows {
		items = append(items, platform.InstanceItem{Type: platform.ObjectWorkflow, ID: w.ID, Name: w.Name, FolderID: w.FolderID})
	}
	for _, r := range resources {
		folder := ""
		if r.FolderID != nil {
			folder = *r.FolderID
		}
		items = append(items, platform.InstanceItem{Type: platform.ObjectResource, ID: r.ID, Name: r.DisplayName, FolderID: folder})
	}
	st.objects, st.outside = platform.VerifyObjects(instFolders, items)
	return st, nil
}

// accessListID is the object's id in GET /permissions/accessList: folders
// by their number (app_12: 12), as Retool's document asks.
func accessListID(o platform.InstanceObject) string {
	if o.Type == platform.ObjectFolder {
		if i := strings.LastIndexByte(o.ID, '_'); i >= 0 {
			return o.ID[i+1:]
		}
	}
	return o.ID
}

// accessSource names where the instance says a level comes from, with group
// names and folder paths for ids.
func accessSource(s *retool.AccessSources, groups, folders map[string]string) platform.AccessSource {
	if s == nil {
		return platform.AccessSource{}
	}
	out := platform.AccessSource{Direct: s.Direct, Universal: s.Universal}
	for _, g := range s.Groups {
		name := groups[g.ID]
		if name == "" {
			name = "#" + g.ID
		}
		out.Groups = append(out.Groups, name)
	}
	if s.Inherited != nil {
		out.Inherited = folders[s.Inherited.ID]
		if out.Inherited == "" {
			out.Inherited = fmt.Sprintf("%s %s", s.Inherited.Type, s.Inherited.ID)
		}
	}
	return out
}

// SSOReader reads an instance's SSO configuration.
type SSOReader interface {
	GetSSOConfig(ctx context.Context) (*retool.SSOConfig, error)
}

// VerifySSO compares the instance's SSO configuration with the one the
// model and provider declare for env (platform.SSODifferences); nothing
// when provider is nil.
func VerifySSO(ctx context.Context, r SSOReader, model *access.Snapshot, env string, provider *retool.SSOConfig) ([]string, error) {
	if provider == nil {
		return nil, nil
	}
	d, err := platform.Project(model, platform.Environment{Name: env}, nil)
	if err != nil {
		return nil, err
	}
	platform.ProjectSSO(model, &d, *provider)
	cfg, err := r.GetSSOConfig(ctx)
	if err != nil {
		return nil, step("reading the SSO configuration", err)
	}
	return platform.SSODifferences(d.SSO, cfg), nil
}

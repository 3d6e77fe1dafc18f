package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/platform"
	"github.com/governor-dev/governor/internal/platform/retool"
)

// differencesFound makes verify exit 1 when the instance and the model
// differ (the differences are printed on stdout already).
type differencesFound struct{ n int }

func (e *differencesFound) Error() string {
	return fmt.Sprintf("%d difference(s) between the instance and the model", e.n)
}
func (e *differencesFound) ExitCode() int { return 1 }

type verifyFlags struct {
	planFlags
	objects []string
}

func newVerifyCommand() *cobra.Command {
	var f verifyFlags
	cmd := &cobra.Command{
		Use:   "verify --space SPACE --env ENVIRONMENT [--object TYPE/NAME ...]",
		Short: "Compare every user's level in an environment's instance with the Space's access model",
		Long: `Read Retool's own account of who can access every app, folder, resource and
workflow of the environment's instance (its accessList, one request per object,
within the request budget) and compare each active user's level with the level
the Space's access model gives them there. Print each difference: the user, the
object, the instance's level and where the instance says it comes from, the
model's level and what decided it. Exit 1 when there is any difference.

Items in the archive or in a user's drafts are not part of the model and are
not compared. Users who are members through an IdP group are checked with the
IdP groups of the instance groups they are in.`,
		Example: `  governor platform verify --space payments --env production
  governor platform verify --space payments --env development --object app/payouts --object appfolder/finance`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := verify(cmd.Context(), f, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			res.Format(cmd.OutOrStdout())
			if len(res.Differences) > 0 {
				return &differencesFound{n: len(res.Differences)}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.space, "space", "", "the Space")
	fl.StringVar(&f.env, "env", "", "the environment whose instance is verified")
	fl.StringArrayVar(&f.objects, "object", nil, "verify only this object (app/NAME, workflow/NAME, resource/NAME, appfolder/PATH, workflowfolder/PATH, resourcefolder/PATH); repeatable")
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "path to the kubeconfig (default $KUBECONFIG or ~/.kube/config)")
	fl.StringVar(&f.context, "context", "", "kubeconfig context")
	fl.StringVar(&f.namespace, "namespace", "governor-system", "Governor's namespace, holding the instances' token Secrets")
	fl.IntVar(&f.requestsPerMinute, "platform-requests-per-minute", retool.DefaultRequestsPerMinute, "request budget of the instance (negative: unlimited)")
	_ = cmd.MarkFlagRequired("space")
	_ = cmd.MarkFlagRequired("env")
	return cmd
}

func verify(ctx context.Context, f verifyFlags, progress io.Writer) (platform.VerifyResult, error) {
	var only []access.Target
	for _, o := range f.objects {
		t, err := access.ParseTarget(o)
		if err != nil {
			return platform.VerifyResult{}, fmt.Errorf("--object: %w", err)
		}
		if _, ok := verifyObjectType(t); !ok {
			return platform.VerifyResult{}, fmt.Errorf("--object %s: want an app, workflow, resource or folder", o)
		}
		only = append(only, t)
	}
	pe, err := openEnvironment(ctx, f.planFlags)
	if err != nil {
		return platform.VerifyResult{}, err
	}
	st, err := readInstance(ctx, pe)
	if err != nil {
		return platform.VerifyResult{}, err
	}
	objects := st.objects
	if len(only) > 0 {
		objects = selectObjects(objects, only)
		if len(objects) < len(only) {
			return platform.VerifyResult{}, fmt.Errorf("--object: %d of the %d objects named are not in the %s instance", len(only)-len(objects), len(only), pe.env.Name)
		}
	}
	start := time.Now()
	for i := range objects {
		o := &objects[i]
		list, err := pe.rc.AccessList(ctx, accessListType(*o), accessListID(*o))
		if err != nil {
			return platform.VerifyResult{}, fmt.Errorf("reading the %s instance's access list of %s: %w", pe.env.Name, o, err)
		}
		for _, e := range list.User {
			if e.Subject.Type == retool.SubjectUser {
				o.Users = append(o.Users, platform.AccessEntry{UserID: e.Subject.ID, Level: e.AccessLevel, Source: accessSource(e.Sources, st.groupNames, st.folderNames)})
			}
		}
		if (i+1)%50 == 0 {
			fmt.Fprintf(progress, "read %d of %d access lists (%s)\n", i+1, len(objects), time.Since(start).Round(time.Second))
		}
	}
	res, err := platform.Verify(platform.VerifyInput{Snapshot: pe.snap, Environment: pe.env.Name, Users: st.users, Objects: objects, IdPGroups: st.idpGroups})
	if err != nil {
		return res, err
	}
	if st.outside > 0 && len(only) == 0 {
		res.Skipped = append(res.Skipped, fmt.Sprintf("%d item(s) in the archive or in users' drafts, which no Space's model covers", st.outside))
	}
	return res, nil
}

// instanceState is what verify reads of an instance before the access lists.
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

func readInstance(ctx context.Context, pe *platformEnv) (*instanceState, error) {
	rc := pe.rc
	reading := func(what string, err error) error {
		return fmt.Errorf("reading the %s instance's %s: %w", pe.env.Name, what, err)
	}
	users, err := rc.ListUsers(ctx)
	if err != nil {
		return nil, reading("users", err)
	}
	groups, err := rc.ListGroups(ctx)
	if err != nil {
		return nil, reading("groups", err)
	}
	folders, err := rc.ListFolders(ctx)
	if err != nil {
		return nil, reading("folders", err)
	}
	apps, err := rc.ListApps(ctx)
	if err != nil {
		return nil, reading("apps", err)
	}
	workflows, err := rc.ListWorkflows(ctx)
	if err != nil {
		return nil, reading("workflows", err)
	}
	resources, err := rc.ListResources(ctx)
	if err != nil {
		return nil, reading("resources", err)
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
	st.idpGroups = platform.IdPGroupsFromInstance(pe.loaded.Input, observed)
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

// verifyObjectType is the instance object type a check target names.
func verifyObjectType(t access.Target) (platform.ObjectType, bool) {
	switch t.Type {
	case access.TargetApp:
		return platform.ObjectApp, true
	case access.TargetWorkflow:
		return platform.ObjectWorkflow, true
	case access.TargetResource:
		return platform.ObjectResource, true
	case access.TargetAppFolder, access.TargetWorkflowFolder, access.TargetResourceFolder:
		return platform.ObjectFolder, true
	}
	return "", false
}

// selectObjects keeps the objects the targets name.
func selectObjects(objects []platform.InstanceObject, only []access.Target) []platform.InstanceObject {
	var out []platform.InstanceObject
	for _, o := range objects {
		for _, t := range only {
			typ, _ := verifyObjectType(t)
			if o.Type != typ || o.Name != t.Name {
				continue
			}
			if typ == platform.ObjectFolder && string(t.Type) != platform.FolderType(o.Kind)+"folder" {
				continue
			}
			out = append(out, o)
			break
		}
	}
	return out
}

// accessListType is the object's type in GET /permissions/accessList.
func accessListType(o platform.InstanceObject) string { return string(o.Type) }

// accessListID is the object's id there: folders by their number (app_12:
// 12), as Retool's document asks.
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
			out.Inherited = s.Inherited.Type + " " + s.Inherited.ID
		}
	}
	return out
}

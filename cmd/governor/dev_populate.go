package main

import (
	"context"
	"fmt"
	"io"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/governor-dev/governor/internal/platform/emulator"
	"github.com/governor-dev/governor/internal/platform/retool"
)

// The adoption walkthrough's Space (docs/adoption.md): a team whose
// instances were run by hand before Governor. `governor dev --populate`
// creates it in the development and production instances.
const (
	adoptionSpace       = "ops"
	adoptionDisplayName = "Operations"
)

// The hand-made groups of the adoption Space, and the levels they hold.
const (
	groupFinance = "Finance Team"
	groupSupport = "Support"
	groupOnCall  = "On-call"
	levelUse     = "use"
	levelEdit    = "edit"
	// folderFinance is the finance team's folder, of each type.
	folderFinance = "finance"
)

// adoptionEnvironments are the environments whose instances hold the
// adoption Space; production is read-only (locked), as the Space declares it.
var adoptionEnvironments = map[string]bool{"development": false, "production": true}

// populateAdoption creates the adoption Space in each of its environments'
// instances, once, with a hand-made state, and stores its tokens. An
// instance that holds the Space already (kept across runs) is left as it is.
func populateAdoption(ctx context.Context, c client.Client, instances []devInstance, out io.Writer) error {
	for _, inst := range instances {
		readOnly, ok := adoptionEnvironments[inst.env]
		if !ok {
			continue
		}
		domain := devDomain(adoptionSpace, inst.env)
		sp := inst.server.Space(domain)
		if sp == nil {
			admin, err := retool.New(retool.Options{URL: "http://" + inst.addr, Domain: devDomain("hub", inst.env), Token: inst.server.Space("").Token(), RequestsPerMinute: -1})
			if err != nil {
				return err
			}
			if sp, err = populateHandMade(ctx, admin, inst.server, "http://"+inst.addr, domain, readOnly); err != nil {
				return fmt.Errorf("populating the %s instance: %w", inst.env, err)
			}
			fmt.Fprintf(out, "Populated the %s instance's Space %s (%s) with a hand-made state to adopt (docs/adoption.md).\n", inst.env, adoptionSpace, domain)
		}
		if err := storeToken(ctx, c, "retool-"+inst.env+"-"+adoptionSpace, sp.Token()); err != nil {
			return err
		}
	}
	return nil
}

// populateHandMade creates the Space of domain in the instance and fills it
// as a team would by hand: users (one deactivated), a pending invitation,
// groups with levels, flags, members and a group admin, nested folders,
// apps, workflows and resources, group grants on folders and objects, and
// a grant to a single user. Production differs from development in one
// resource grant, and its Space is locked (it pulls from source control).
func populateHandMade(ctx context.Context, admin *retool.Client, srv *emulator.Server, url, domain string, production bool) (*emulator.Space, error) {
	if _, err := admin.CreateSpace(ctx, retool.SpaceCreate{Name: adoptionDisplayName, Domain: domain}); err != nil {
		return nil, err
	}
	sp := srv.Space(domain)
	c, err := retool.New(retool.Options{URL: url, Domain: domain, Token: sp.Token(), RequestsPerMinute: -1})
	if err != nil {
		return nil, err
	}
	users := map[string]string{}
	for _, u := range []string{"olivia", "paul", "quinn", "rosa", "sam", "tara"} {
		users[u] = sp.AddUser(u + "@example.com")
	}
	users["uma"] = sp.AddInactiveUser("uma@example.com") // left the company; still listed in Finance Team

	add := map[string]func(name, path string) (emulator.Object, error){
		retool.ObjectApp: sp.AddApp, retool.ObjectWorkflow: sp.AddWorkflow, retool.ObjectResource: sp.AddResource}
	for _, o := range []struct{ kind, name, path string }{
		{retool.ObjectApp, "payouts", folderFinance}, {retool.ObjectApp, "ledger", "finance/reports"}, {retool.ObjectApp, "ledger-2023", "finance/archive-2023"},
		{retool.ObjectApp, "refund-tool", "support"}, {retool.ObjectApp, "customer-lookup", "support"}, {retool.ObjectApp, "status-board", ""},
		{retool.ObjectWorkflow, "nightly-reconciliation", folderFinance}, {retool.ObjectWorkflow, "pager-rotation", ""},
		{retool.ObjectResource, "ledger-db", folderFinance}, {retool.ObjectResource, "orders-db", ""}, {retool.ObjectResource, "zendesk-api", ""},
	} {
		if _, err := add[o.kind](o.name, o.path); err != nil {
			return nil, err
		}
	}
	ids, err := populateIDs(ctx, c)
	if err != nil {
		return nil, err
	}

	// All Users: locked down by hand (Retool's default gives everyone edit).
	none, use := "none", levelUse
	accountDetails := true
	if _, err := c.UpdateGroup(ctx, ids.groups["All Users"], retool.GroupUpdate{UniversalAppAccess: &none, UniversalWorkflowAccess: &none,
		UniversalResourceAccess: &none, UniversalQueryLibraryAccess: &use, AccountDetailsAccess: &accountDetails}); err != nil {
		return nil, err
	}
	groups := []struct {
		create  retool.GroupCreate
		members []retool.MemberInput
		invite  string
	}{
		{create: retool.GroupCreate{Name: groupFinance, UniversalQueryLibraryAccess: levelUse, UserListAccess: true, UnpublishedReleaseAccess: true},
			members: []retool.MemberInput{{ID: users["paul"], IsGroupAdmin: true}, {ID: users["quinn"]}, {ID: users["uma"]}}},
		{create: retool.GroupCreate{Name: groupSupport, UserListAccess: true},
			members: []retool.MemberInput{{ID: users["rosa"], IsGroupAdmin: true}, {ID: users["sam"]}}, invite: "victor@example.com"},
		{create: retool.GroupCreate{Name: groupOnCall, UniversalWorkflowAccess: levelUse},
			members: []retool.MemberInput{{ID: users["sam"]}, {ID: users["tara"]}}},
	}
	for _, g := range groups {
		g.create.Members = g.members
		made, err := c.CreateGroup(ctx, g.create)
		if err != nil {
			return nil, err
		}
		ids.groups[g.create.Name] = made.ID
		if g.invite != "" {
			if _, err := c.CreateUserInvite(ctx, g.invite, []int64{made.ID}); err != nil {
				return nil, err
			}
		}
	}
	if _, err := c.AddGroupMembers(ctx, ids.groups["admin"], []retool.MemberInput{{ID: users["olivia"]}}); err != nil {
		return nil, err
	}
	if _, err := c.AddGroupMembers(ctx, ids.groups["viewer"], []retool.MemberInput{{ID: users["tara"]}}); err != nil {
		return nil, err
	}
	ordersLevel := levelEdit
	if production {
		ordersLevel = levelUse // support may only read orders in production
	}
	folder := func(typ, path string) retool.ObjectRef {
		return retool.ObjectRef{Type: retool.ObjectFolder, ID: ids.folders[typ+"/"+path]}
	}
	object := func(typ, name string) retool.ObjectRef {
		return retool.ObjectRef{Type: typ, ID: ids.objects[typ+"/"+name]}
	}
	grants := []struct {
		group string
		obj   retool.ObjectRef
		level string
	}{
		{groupFinance, folder(retool.ObjectApp, folderFinance), levelEdit},
		{groupFinance, folder(retool.ObjectApp, "finance/reports"), levelEdit},
		// finance/archive-2023: nobody granted it; Finance's folder grant does not reach it.
		{groupFinance, folder(retool.ObjectWorkflow, folderFinance), levelEdit},
		{groupFinance, object(retool.ObjectResource, "ledger-db"), "own"},
		{groupSupport, folder(retool.ObjectApp, "support"), levelUse},
		{groupSupport, object(retool.ObjectApp, "refund-tool"), levelEdit},
		{groupSupport, object(retool.ObjectResource, "zendesk-api"), levelUse},
		{groupSupport, object(retool.ObjectResource, "orders-db"), ordersLevel},
		{groupOnCall, object(retool.ObjectApp, "status-board"), levelUse},
		{groupOnCall, object(retool.ObjectResource, "orders-db"), levelUse},
	}
	for _, g := range grants {
		if err := c.Grant(ctx, ids.groups[g.group], g.obj, g.level); err != nil {
			return nil, fmt.Errorf("granting %s %s on %s: %w", g.group, g.level, g.obj.ID, err)
		}
	}
	// Quinn (Finance) was given the customer lookup by hand, to her alone.
	if err := c.GrantTo(ctx, retool.UserSubject(users["quinn"]), object(retool.ObjectApp, "customer-lookup"), levelUse); err != nil {
		return nil, err
	}
	if production {
		settings, err := c.GetSourceControlSettings(ctx)
		if err != nil {
			return nil, err
		}
		settings.VersionControlLocked = true
		if _, err := c.UpdateSourceControlSettings(ctx, settings); err != nil {
			return nil, err
		}
	}
	return sp, nil
}

// populateIDs are the ids of a Space's groups (by name), team folders (by
// type/path) and objects (by type/name).
type populatedIDs struct {
	groups  map[string]int64
	folders map[string]string
	objects map[string]string
}

func populateIDs(ctx context.Context, c *retool.Client) (populatedIDs, error) {
	ids := populatedIDs{groups: map[string]int64{}, folders: map[string]string{}, objects: map[string]string{}}
	groups, err := c.ListGroups(ctx)
	if err != nil {
		return ids, err
	}
	for _, g := range groups {
		ids.groups[g.Name] = g.ID
	}
	folders, err := c.ListFolders(ctx)
	if err != nil {
		return ids, err
	}
	byID := map[string]retool.Folder{}
	for _, f := range folders {
		byID[f.ID] = f
	}
	for _, f := range folders {
		if f.IsSystemFolder {
			continue
		}
		path := f.Name
		for p := f.ParentFolderID; p != nil && !byID[*p].IsSystemFolder; p = byID[*p].ParentFolderID {
			path = byID[*p].Name + "/" + path
		}
		ids.folders[f.FolderType+"/"+path] = f.ID
	}
	apps, err := c.ListApps(ctx)
	if err != nil {
		return ids, err
	}
	for _, a := range apps {
		ids.objects[retool.ObjectApp+"/"+a.Name] = a.ID
	}
	resources, err := c.ListResources(ctx)
	if err != nil {
		return ids, err
	}
	for _, r := range resources {
		ids.objects[retool.ObjectResource+"/"+r.DisplayName] = r.ID
	}
	return ids, nil
}

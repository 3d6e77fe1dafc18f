package syncer

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/platform"
	"github.com/governor-dev/governor/internal/platform/retool"
)

// AllReader is what reading a whole instance Space takes: a pass's reads,
// and the grants of users (Retool API 2.7+).
type AllReader interface {
	Reader
	ListWorkflows(ctx context.Context) ([]retool.Workflow, error)
}

var _ AllReader = (*retool.Client)(nil)

// otherGrantTypes are the object types of grants Governor does not manage
// but reads, to say what it leaves out.
var otherGrantTypes = []string{"resource_configuration"}

// ObserveAll reads everything an instance's Space holds of access, whatever
// a model declares: every group with its settings, members, open
// invitations and grants (those on resource configurations apart), every
// user and whether the account is active, the folders, apps and resources,
// and every grant to an active user. It costs a request per listing page,
// four per group and two per active user. `governor platform import` reads
// an instance with it.
func ObserveAll(ctx context.Context, c AllReader, opts ObserveOptions) (platform.Observed, error) {
	progress := opts.Progress
	if progress == nil {
		progress = func(string) {}
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	o := platform.Observed{Users: map[string]string{}, Inactive: map[string]bool{}, Invited: map[string]bool{},
		ExpiredInvites: map[string]bool{}, Apps: map[string]string{}, Resources: map[string]string{},
		AppFolders: map[string]string{}, ResourceFolders: map[string]string{}, WorkflowFolders: map[string]string{}, UserGrants: []platform.UserGrant{}}
	users, open, err := observeAccounts(ctx, c, &o, now(), progress)
	if err != nil {
		return o, err
	}
	if err := observeAllGroups(ctx, c, &o, open, progress); err != nil {
		return o, err
	}
	if err := observeAllObjects(ctx, c, &o, progress); err != nil {
		return o, err
	}
	if err := observeAllGrants(ctx, c, &o, progress); err != nil {
		return o, err
	}
	active := 0
	for _, u := range users {
		if u.Active {
			active++
		}
	}
	progress(fmt.Sprintf("reading the grants of %d active user(s)", active))
	for _, u := range users {
		if !u.Active {
			continue // a deactivated account reaches nothing, whatever it was granted
		}
		objs, err := userGrantsOf(ctx, c, u.ID, u.Email)
		if err != nil {
			return o, err
		}
		for _, obj := range objs {
			o.UserGrants = append(o.UserGrants, platform.UserGrant{UserID: u.ID, Email: access.EmailKey(u.Email),
				Object: platform.ObjectRef{Type: platform.ObjectType(obj.Type), ID: obj.ID}, Level: obj.AccessLevel})
		}
	}
	return o, nil
}

// observeAccounts reads every user (and whether the account is active) and
// the invitations: open ones (returned by id) and those that expired
// unclaimed.
func observeAccounts(ctx context.Context, c AllReader, o *platform.Observed, now time.Time, progress func(string)) ([]retool.User, map[int64]bool, error) {
	progress("listing users")
	users, err := c.ListUsers(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("listing users: %w", err)
	}
	for _, u := range users {
		email := access.EmailKey(u.Email)
		o.Users[email] = u.ID
		if !u.Active {
			o.Inactive[email] = true
		}
	}
	progress("listing user invites")
	invites, err := c.ListUserInvites(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("listing user invites: %w", err)
	}
	open := map[int64]bool{}
	for _, inv := range invites {
		if inv.ClaimedAt != nil {
			continue
		}
		email := access.EmailKey(inv.InvitedEmail)
		if expires, err := time.Parse(time.RFC3339, inv.ExpiresAt); err == nil && !expires.After(now) {
			o.ExpiredInvites[email] = true
			continue
		}
		o.Invited[email] = true
		open[inv.ID] = true
	}
	for email := range o.Invited {
		delete(o.ExpiredInvites, email)
	}
	return users, open, nil
}

// observeAllGroups reads every group with its settings, members and open
// invitations.
func observeAllGroups(ctx context.Context, c AllReader, o *platform.Observed, open map[int64]bool, progress func(string)) error {
	progress("listing groups")
	groups, err := c.ListGroups(ctx)
	if err != nil {
		return fmt.Errorf("listing groups: %w", err)
	}
	for _, g := range groups {
		og := platform.ObservedGroup{ID: g.ID, Name: g.Name, Settings: settingsOf(g)}
		for _, m := range g.Members {
			email := access.EmailKey(m.Email)
			og.Members = append(og.Members, platform.ObservedMember{UserID: m.ID, Email: email, GroupAdmin: m.IsGroupAdmin})
			if _, known := o.Users[email]; !known {
				o.Users[email] = m.ID
			}
		}
		for _, inv := range g.UserInvites {
			if open[inv.ID] {
				og.Invites = append(og.Invites, access.EmailKey(inv.InvitedEmail))
			}
		}
		sort.Strings(og.Invites)
		o.Groups = append(o.Groups, og)
	}
	return nil
}

// observeAllObjects reads the folders, apps, workflows and resources, and
// whether the Space is locked.
func observeAllObjects(ctx context.Context, c AllReader, o *platform.Observed, progress func(string)) error {
	progress("listing folders")
	folders, err := c.ListFolders(ctx)
	if err != nil {
		return fmt.Errorf("listing folders: %w", err)
	}
	for _, f := range folders {
		parent := ""
		if f.ParentFolderID != nil {
			parent = *f.ParentFolderID
		}
		o.Folders = append(o.Folders, platform.Folder{ID: f.ID, Name: f.Name, ParentID: parent, Type: f.FolderType, System: f.IsSystemFolder})
	}
	progress("listing apps")
	apps, err := c.ListApps(ctx)
	if err != nil {
		return fmt.Errorf("listing apps: %w", err)
	}
	for _, a := range apps {
		o.Apps[a.Name] = a.ID
		o.AppFolders[a.Name] = a.FolderID
	}
	progress("listing workflows")
	workflows, err := c.ListWorkflows(ctx)
	if err != nil {
		return fmt.Errorf("listing workflows: %w", err)
	}
	for _, w := range workflows {
		o.WorkflowFolders[w.Name] = w.FolderID
	}
	progress("listing resources")
	resources, err := c.ListResources(ctx)
	if err != nil {
		return fmt.Errorf("listing resources: %w", err)
	}
	for _, r := range resources {
		o.Resources[r.DisplayName] = r.ID
		if r.FolderID != nil {
			o.ResourceFolders[r.DisplayName] = *r.FolderID
		}
	}
	settings, err := c.GetSourceControlSettings(ctx)
	if err != nil {
		return fmt.Errorf("reading the source control settings: %w", err)
	}
	o.Locked = settings.VersionControlLocked
	return nil
}

// observeAllGrants reads every group's grants: on folders, apps and
// resources, and apart, on resource configurations.
func observeAllGrants(ctx context.Context, c AllReader, o *platform.Observed, progress func(string)) error {
	progress(fmt.Sprintf("reading the grants of %d group(s)", len(o.Groups)))
	for i := range o.Groups {
		g := &o.Groups[i]
		g.Grants = map[platform.ObjectRef]string{}
		for _, t := range grantTypes {
			objs, err := c.ListObjects(ctx, g.ID, string(t))
			if err != nil {
				return fmt.Errorf("reading the grants of group %q: %w", g.Name, err)
			}
			for _, obj := range objs {
				g.Grants[platform.ObjectRef{Type: platform.ObjectType(obj.Type), ID: obj.ID}] = obj.AccessLevel
			}
		}
		for _, t := range otherGrantTypes {
			objs, err := c.ListObjects(ctx, g.ID, t)
			if err != nil {
				if retool.IsNotFound(err) || isBadRequest(err) {
					continue // an instance that does not know the type holds none
				}
				return fmt.Errorf("reading the %s grants of group %q: %w", t, g.Name, err)
			}
			for _, obj := range objs {
				if g.OtherGrants == nil {
					g.OtherGrants = map[platform.ObjectRef]string{}
				}
				g.OtherGrants[platform.ObjectRef{Type: platform.ObjectType(obj.Type), ID: obj.ID}] = obj.AccessLevel
			}
		}
	}
	return nil
}

// isBadRequest reports whether err is Retool's 400 (an older instance
// refusing an object type it does not know).
func isBadRequest(err error) bool {
	var ae *retool.APIError
	return errors.As(err, &ae) && ae.Status == http.StatusBadRequest
}

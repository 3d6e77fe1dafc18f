package syncer

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/platform"
	"github.com/governor-dev/governor/internal/platform/retool"
)

// grantTypes are the object types a group's grants are read for.
var grantTypes = []platform.ObjectType{platform.ObjectFolder, platform.ObjectApp, platform.ObjectResource}

// findUsersOneByOne is how many unknown members are looked up by email one
// at a time; more than that and every user is listed instead.
const findUsersOneByOne = 20

// ObserveOptions bound what a pass reads.
type ObserveOptions struct {
	// GrantReads is how many groups' grants are read from the instance this
	// pass (each costs one request per object type); the others are taken
	// from Memory. Groups Memory knows nothing of are read first; the rest
	// in turn, so that every group is verified within a few passes.
	// Negative: read every group.
	GrantReads int
	// UserGrantReads is how many users' direct grants are read this pass
	// (two requests each: the folders and the apps a user can be granted);
	// the others are taken from Memory. Users Memory knows nothing of are
	// read first, the rest in turn. Negative: every user; zero: none (the
	// grants Memory knows are still reported).
	UserGrantReads int
	// Progress, when set, is told each listing as it starts.
	Progress func(step string)
	// Now is the clock invitations expire by (default time.Now).
	Now func() time.Time
	// ReadSSO reads the SSO configuration even when d declares none (to
	// remove one in Authoritative mode, or one Governor wrote).
	ReadSSO bool
}

// Observe reads what the instance holds of the Space, as much as d needs.
func Observe(ctx context.Context, c Reader, d platform.Desired, mem *Memory, opts ObserveOptions) (platform.Observed, error) {
	var o platform.Observed
	progress := opts.Progress
	if progress == nil {
		progress = func(string) {}
	}
	progress("listing groups")
	groups, err := c.ListGroups(ctx)
	if err != nil {
		return o, fmt.Errorf("listing groups: %w", err)
	}
	o.Users = map[string]string{}
	for _, g := range groups {
		og := platform.ObservedGroup{ID: g.ID, Name: g.Name, Settings: settingsOf(g)}
		for _, m := range g.Members {
			email := access.EmailKey(m.Email)
			og.Members = append(og.Members, platform.ObservedMember{UserID: m.ID, Email: email, GroupAdmin: m.IsGroupAdmin})
			o.Users[email] = m.ID
		}
		o.Groups = append(o.Groups, og)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := observeUsers(ctx, c, d, &o, opts.Now()); err != nil {
		return o, err
	}
	var folders, apps, resources bool
	for _, g := range d.Groups {
		for _, gr := range g.Grants {
			switch gr.Type {
			case platform.ObjectFolder:
				folders = true
			case platform.ObjectApp:
				apps = true
			case platform.ObjectResource:
				resources = true
			}
		}
	}
	if folders {
		progress("listing folders")
		fs, err := c.ListFolders(ctx)
		if err != nil {
			return o, fmt.Errorf("listing folders: %w", err)
		}
		for _, f := range fs {
			parent := ""
			if f.ParentFolderID != nil {
				parent = *f.ParentFolderID
			}
			o.Folders = append(o.Folders, platform.Folder{ID: f.ID, Name: f.Name, ParentID: parent, Type: f.FolderType, System: f.IsSystemFolder})
		}
	}
	if apps {
		progress("listing apps")
		as, err := c.ListApps(ctx)
		if err != nil {
			return o, fmt.Errorf("listing apps: %w", err)
		}
		o.Apps = make(map[string]string, len(as))
		o.AppFolders = make(map[string]string, len(as))
		for _, a := range as {
			o.Apps[a.Name] = a.ID
			o.AppFolders[a.Name] = a.FolderID
		}
	}
	if resources {
		progress("listing resources")
		rs, err := c.ListResources(ctx)
		if err != nil {
			return o, fmt.Errorf("listing resources: %w", err)
		}
		o.Resources = make(map[string]string, len(rs))
		o.ResourceFolders = make(map[string]string, len(rs))
		for _, r := range rs {
			o.Resources[r.DisplayName] = r.ID
			if r.FolderID != nil {
				o.ResourceFolders[r.DisplayName] = *r.FolderID
			}
		}
	}
	if err := observeConfiguration(ctx, c, d, &o, opts.ReadSSO || d.SSO != nil, progress); err != nil {
		return o, err
	}
	progress("reading grants")
	if err := observeGrants(ctx, c, d, &o, mem, opts); err != nil {
		return o, err
	}
	return o, observeUserGrants(ctx, c, &o, mem, opts.UserGrantReads)
}

// observeConfiguration reads the instance's settings: the lock, the source
// control configuration when d declares one, and the SSO configuration when
// readSSO.
func observeConfiguration(ctx context.Context, c Reader, d platform.Desired, o *platform.Observed, readSSO bool, progress func(string)) error {
	settings, err := c.GetSourceControlSettings(ctx)
	if err != nil {
		return fmt.Errorf("reading the source control settings: %w", err)
	}
	o.Locked = settings.VersionControlLocked
	if d.SourceControl != nil {
		cfg, err := c.GetSourceControlConfig(ctx)
		if err != nil {
			return fmt.Errorf("reading the source control configuration: %w", err)
		}
		if cfg != nil {
			o.SourceControl = &platform.SourceControl{Provider: cfg.Provider, Org: cfg.Org, Repo: cfg.Repo, Branch: cfg.DefaultBranch}
		}
	}
	if readSSO {
		progress("reading the SSO configuration")
		cfg, err := c.GetSSOConfig(ctx)
		if err != nil {
			return fmt.Errorf("reading the SSO configuration: %w", err)
		}
		o.SSO, o.SSORead = cfg, true
	}
	return nil
}

// userGrantTypes are the objects a user can be granted (Retool API 2.7+).
var userGrantTypes = []platform.ObjectType{platform.ObjectFolder, platform.ObjectApp}

// userGrantsOf reads the direct grants of one user (email names it in an
// error), on every type of object a user can be granted.
func userGrantsOf(ctx context.Context, c Reader, id, email string) ([]retool.ObjectAccess, error) {
	var out []retool.ObjectAccess
	for _, t := range userGrantTypes {
		objs, err := c.ListObjectsOf(ctx, retool.UserSubject(id), string(t))
		if err != nil {
			return nil, fmt.Errorf("reading the grants of user %s: %w", email, err)
		}
		out = append(out, objs...)
	}
	return out, nil
}

// observeUserGrants fills o.UserGrants with the direct grants of the
// instance's users (those the groups' listing named: All Users holds every
// user), reading up to n users' (negative: all) and taking the others' from
// memory. It stays nil while no user's grants are known.
func observeUserGrants(ctx context.Context, c Reader, o *platform.Observed, mem *Memory, n int) error {
	emails := make(map[string]string, len(o.Users))
	for email, id := range o.Users {
		emails[id] = email
	}
	ids := slices.Sorted(maps.Keys(emails))
	var fresh, known []string
	for _, id := range ids {
		if _, ok := mem.userKnown(id); ok {
			known = append(known, id)
		} else {
			fresh = append(fresh, id)
		}
	}
	if n < 0 {
		n = len(ids)
	}
	read := func(id string) error {
		objs, err := userGrantsOf(ctx, c, id, emails[id])
		if err != nil {
			return err
		}
		grants := make(map[platform.ObjectRef]string, len(objs))
		for _, obj := range objs {
			grants[platform.ObjectRef{Type: platform.ObjectType(obj.Type), ID: obj.ID}] = obj.AccessLevel
		}
		mem.setUser(id, grants)
		return nil
	}
	for _, id := range fresh {
		if n == 0 {
			break
		}
		if err := read(id); err != nil {
			return err
		}
		n--
	}
	if n > 0 && len(known) > 0 {
		mem.mu.Lock()
		start := mem.userCursor % len(known)
		mem.mu.Unlock()
		k := min(n, len(known))
		for i := 0; i < k; i++ {
			if err := read(known[(start+i)%len(known)]); err != nil {
				return err
			}
		}
		mem.mu.Lock()
		mem.userCursor = start + k
		mem.mu.Unlock()
	}
	for _, id := range ids {
		grants, ok := mem.userKnown(id)
		if !ok {
			continue
		}
		if o.UserGrants == nil {
			o.UserGrants = []platform.UserGrant{}
		}
		for ref, level := range grants {
			o.UserGrants = append(o.UserGrants, platform.UserGrant{UserID: id, Email: emails[id], Object: ref, Level: level})
		}
	}
	return nil
}

// observeUsers finds the accounts of declared members that no group lists
// and whether they are active, and the invitations of those without one
// (open, or every one expired unclaimed).
func observeUsers(ctx context.Context, c Reader, d platform.Desired, o *platform.Observed, now time.Time) error {
	declaredIn := map[string]map[string]bool{} // email -> platform names of its declared groups
	var unknown []string
	for _, g := range d.Groups {
		for _, m := range g.Members {
			if declaredIn[m.Email] == nil {
				declaredIn[m.Email] = map[string]bool{}
				if _, ok := o.Users[m.Email]; !ok {
					unknown = append(unknown, m.Email)
				}
			}
			declaredIn[m.Email][g.PlatformName] = true
		}
	}
	if len(declaredIn) == 0 {
		return nil
	}
	// A member listed by some group but missing from a declared one is
	// about to be added: whether the account is active is only in the
	// users' listing (group listings do not say).
	toAdd := false
	for _, g := range o.Groups {
		for _, m := range g.Members {
			delete(declaredIn[m.Email], g.Name)
		}
	}
	for email, groups := range declaredIn {
		if _, known := o.Users[email]; known && len(groups) > 0 {
			toAdd = true
			break
		}
	}
	o.Inactive = map[string]bool{}
	if len(unknown) <= findUsersOneByOne && !toAdd {
		for _, email := range unknown {
			u, err := c.FindUserByEmail(ctx, email)
			if err != nil {
				return fmt.Errorf("looking up user %s: %w", email, err)
			}
			if u != nil {
				o.Users[email] = u.ID
				if !u.Active {
					o.Inactive[email] = true
				}
			}
		}
	} else {
		users, err := c.ListUsers(ctx)
		if err != nil {
			return fmt.Errorf("listing users: %w", err)
		}
		for _, u := range users {
			email := access.EmailKey(u.Email)
			o.Users[email] = u.ID
			if !u.Active {
				o.Inactive[email] = true
			}
		}
	}
	accountless := slices.ContainsFunc(unknown, func(email string) bool { _, ok := o.Users[email]; return !ok })
	if !accountless {
		return nil
	}
	// Some members have no account: their invitations say whether they are
	// invited already, or were and let it expire (after 7 days).
	invites, err := c.ListUserInvites(ctx)
	if err != nil {
		return fmt.Errorf("listing user invites: %w", err)
	}
	o.Invited, o.ExpiredInvites = map[string]bool{}, map[string]bool{}
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
	}
	for email := range o.Invited {
		delete(o.ExpiredInvites, email) // an open invitation beside an expired one: invited
	}
	return nil
}

// observeGrants fills the grants of the groups that declared groups match:
// read from the instance within the budget, else from memory.
func observeGrants(ctx context.Context, c Reader, d platform.Desired, o *platform.Observed, mem *Memory, opts ObserveOptions) error {
	declared := map[string]bool{}
	for _, g := range d.Groups {
		declared[g.PlatformName] = true
	}
	var fresh, known []int
	for i, g := range o.Groups {
		if !declared[g.Name] {
			continue
		}
		if grants, ok := mem.known(g.ID); ok {
			o.Groups[i].Grants = grants
			known = append(known, i)
		} else {
			fresh = append(fresh, i)
		}
	}
	budget := opts.GrantReads
	if budget < 0 {
		budget = len(fresh) + len(known)
	}
	read := func(i int) error {
		g := &o.Groups[i]
		grants := map[platform.ObjectRef]string{}
		for _, t := range grantTypes {
			objs, err := c.ListObjects(ctx, g.ID, string(t))
			if err != nil {
				return fmt.Errorf("reading the grants of group %q: %w", g.Name, err)
			}
			for _, obj := range objs {
				grants[platform.ObjectRef{Type: platform.ObjectType(obj.Type), ID: obj.ID}] = obj.AccessLevel
			}
		}
		g.Grants = grants
		mem.set(g.ID, grants)
		return nil
	}
	for _, i := range fresh {
		if budget == 0 {
			break
		}
		if err := read(i); err != nil {
			return err
		}
		budget--
	}
	if budget == 0 || len(known) == 0 {
		return nil
	}
	mem.mu.Lock()
	start := mem.cursor % len(known)
	mem.mu.Unlock()
	n := min(budget, len(known))
	for k := 0; k < n; k++ {
		if err := read(known[(start+k)%len(known)]); err != nil {
			return err
		}
	}
	mem.mu.Lock()
	mem.cursor = start + n
	mem.mu.Unlock()
	return nil
}

func settingsOf(g retool.Group) platform.GroupSettings {
	return platform.GroupSettings{
		UniversalApp: g.UniversalAppAccess, UniversalWorkflow: g.UniversalWorkflowAccess,
		UniversalResource: g.UniversalResourceAccess, UniversalQueryLibrary: g.UniversalQueryLibraryAccess,
		UserList: g.UserListAccess, AuditLog: g.AuditLogAccess, UnpublishedRelease: g.UnpublishedReleaseAccess,
		UsageAnalytics: g.UsageAnalyticsAccess, Theme: g.ThemeAccess, AccountDetails: g.AccountDetailsAccess,
	}
}

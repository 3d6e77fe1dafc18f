package platform

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/governor-dev/governor/internal/access"
)

// InstanceUser is a user of an instance.
type InstanceUser struct {
	ID, Email string
	// Active is false for a deactivated account: it cannot sign in, and
	// Verify does not compare it.
	Active bool
}

// InstanceObject is an app, workflow, resource or folder of an instance,
// with Retool's own account of who can access it (its accessList).
type InstanceObject struct {
	// Type is ObjectApp, ObjectWorkflow, ObjectResource or ObjectFolder.
	Type ObjectType
	// Kind is the kind of the object, or of the folder's contents.
	Kind access.Kind
	ID   string
	// Name is the object's name, or the folder's path ("a/b").
	Name string
	// Folder is the path of the folder the object is in ("" for the root).
	Folder string
	// Users are the accessList's user entries: every user with a level on
	// the object; a user not listed has none.
	Users []AccessEntry
}

func (o InstanceObject) String() string {
	if o.Type == ObjectFolder {
		return fmt.Sprintf("%s folder %q", FolderType(o.Kind), o.Name)
	}
	if o.Folder != "" {
		return fmt.Sprintf("%s %q in folder %q", o.Type, o.Name, o.Folder)
	}
	return fmt.Sprintf("%s %q", o.Type, o.Name)
}

// target is the object as a check names it.
func (o InstanceObject) target() access.Target {
	if o.Type == ObjectFolder {
		return access.Target{Type: access.TargetType(FolderType(o.Kind) + "folder"), Name: o.Name}
	}
	return access.Target{Type: access.TargetType(o.Type), Name: o.Name}
}

// AccessEntry is one user's effective level on an object, as the
// instance's accessList answers it.
type AccessEntry struct {
	UserID string
	// Level is own, edit, use or none.
	Level  string
	Source AccessSource
}

// AccessSource is where the instance says a level comes from.
type AccessSource struct {
	// Direct: a grant to the user on the object itself.
	Direct bool
	// Universal: a universal level of the object's type.
	Universal bool
	// Groups are the groups (by name) that give the level.
	Groups []string
	// Inherited names the folder the object inherits the level from.
	Inherited string
}

func (s AccessSource) String() string {
	var parts []string
	if s.Direct {
		parts = append(parts, "a grant to the user")
	}
	if s.Universal {
		parts = append(parts, "a universal level")
	}
	if len(s.Groups) > 0 {
		parts = append(parts, "group "+strings.Join(s.Groups, ", "))
	}
	if s.Inherited != "" {
		parts = append(parts, "inherited from "+s.Inherited)
	}
	if len(parts) == 0 {
		return "no access"
	}
	return strings.Join(parts, "; ")
}

// VerifyInput is what Verify compares: the model of a Space as one
// environment sees it, and what that environment's instance says of its
// users' access.
type VerifyInput struct {
	Snapshot    *access.Snapshot
	Environment string
	Users       []InstanceUser
	Objects     []InstanceObject
	// IdPGroups are the IdP groups each user (canonical email) is checked
	// with: a user who is a member through an IdP group mapping is in the
	// instance's group through Retool's own SSO mapping, which the
	// instance does not otherwise tell.
	IdPGroups map[string][]string
}

// Difference is a user whose level on an object in the instance differs
// from the model's.
type Difference struct {
	// User is the user's email (the user id when the instance's user list
	// does not name it).
	User   string
	Object string
	// InstanceLevel and InstanceSource are the instance's level and where
	// it says it comes from.
	InstanceLevel, InstanceSource string
	// ModelLevel is the model's level and Decided what decided it (group
	// and rule, or why the user has none).
	ModelLevel, Decided string
}

// VerifyResult is what Verify found.
type VerifyResult struct {
	Space, Environment, Revision string
	// Objects and Users count what was compared (every active user on
	// every object).
	Objects, Users int
	Differences    []Difference
	// SSO names what of the instance's SSO configuration differs from the
	// model's (SSODifferences), secrets aside.
	SSO []string
	// Skipped names users not compared, and why.
	Skipped []string
}

// Verify compares every active user's level on every object of the
// instance with the model's (access.Snapshot.Check), and lists each
// difference. A user the instance lists on an object but whose account is
// not in in.Users is compared under their user id (the model gives them
// nothing).
func Verify(in VerifyInput) (VerifyResult, error) {
	res := VerifyResult{Environment: in.Environment, Objects: len(in.Objects)}
	if in.Snapshot == nil {
		return res, errors.New("verify: no access model")
	}
	res.Space, res.Revision = in.Snapshot.Space(), in.Snapshot.Revision()
	type user struct{ id, email string }
	var users []user
	known := map[string]bool{}
	for _, u := range in.Users {
		known[u.ID] = true
		if !u.Active {
			continue
		}
		email := access.EmailKey(u.Email)
		if _, err := access.CanonicalEmail(email); err != nil {
			res.Skipped = append(res.Skipped, fmt.Sprintf("user %s (%s): %v", u.Email, u.ID, err))
			continue
		}
		users = append(users, user{id: u.ID, email: email})
	}
	for _, o := range in.Objects {
		for _, e := range o.Users {
			if !known[e.UserID] {
				known[e.UserID] = true
				users = append(users, user{id: e.UserID, email: e.UserID})
			}
		}
	}
	sort.Slice(users, func(i, j int) bool { return users[i].email < users[j].email })
	res.Users = len(users)
	objects := append([]InstanceObject(nil), in.Objects...)
	sort.SliceStable(objects, func(i, j int) bool {
		a, b := objects[i], objects[j]
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Name < b.Name
	})
	modelOf := func(u user, o InstanceObject) (string, string, error) {
		if u.email == u.id {
			return levelNone, "the user's account is not in the instance's user list", nil
		}
		d, err := in.Snapshot.Check(access.Request{User: u.email, Groups: in.IdPGroups[u.email], Action: "use",
			Target: o.target(), Folder: o.Folder, Environment: in.Environment})
		if err != nil {
			return "", "", fmt.Errorf("%s, %s: %w", u.email, o, err)
		}
		switch {
		case d.Reason == access.ReasonNotAMember:
			return levelNone, "not a member of the Space", nil
		case d.Group == "" || d.Source == nil:
			return levelName(d.Level), "no group gives a level", nil
		}
		return levelName(d.Level), "group " + d.Group + ": " + d.Source.String(), nil
	}
	for _, o := range objects {
		byUser := make(map[string]AccessEntry, len(o.Users))
		for _, e := range o.Users {
			if have, ok := byUser[e.UserID]; !ok || levelRank(e.Level) > levelRank(have.Level) {
				byUser[e.UserID] = e
			}
		}
		for _, u := range users {
			inst, src := levelNone, "no access"
			if e, ok := byUser[u.id]; ok {
				inst, src = e.Level, e.Source.String()
			}
			model, decided, err := modelOf(u, o)
			if err != nil {
				return res, err
			}
			if levelRank(model) != levelRank(inst) {
				res.Differences = append(res.Differences, Difference{User: u.email, Object: o.String(),
					InstanceLevel: inst, InstanceSource: src, ModelLevel: model, Decided: decided})
			}
		}
	}
	return res, nil
}

// Format writes the result for a person to read.
func (r VerifyResult) Format(w io.Writer) {
	fmt.Fprintf(w, "Space %s, environment %s, revision %s: %d object(s), %d user(s)\n",
		r.Space, r.Environment, access.ShortRevision(r.Revision), r.Objects, r.Users)
	if len(r.Differences) == 0 {
		fmt.Fprintln(w, "\nNo difference: every user's level in the instance is the model's.")
	} else {
		fmt.Fprintf(w, "\n%d difference(s):\n", len(r.Differences))
		for _, d := range r.Differences {
			fmt.Fprintf(w, "  - %s on %s: instance %s (%s), model %s (%s)\n",
				d.User, d.Object, d.InstanceLevel, d.InstanceSource, d.ModelLevel, d.Decided)
		}
	}
	if len(r.SSO) > 0 {
		fmt.Fprintf(w, "\nSSO configuration, %d difference(s) (secrets are not compared: the instance answers them encrypted):\n", len(r.SSO))
		for _, s := range r.SSO {
			fmt.Fprintf(w, "  - %s\n", s)
		}
	}
	if len(r.Skipped) > 0 {
		fmt.Fprintf(w, "\nNot compared (%d):\n", len(r.Skipped))
		for _, s := range r.Skipped {
			fmt.Fprintf(w, "  - %s\n", s)
		}
	}
}

// InstanceItem is an app, workflow or resource of an instance.
type InstanceItem struct {
	// Type is ObjectApp, ObjectWorkflow or ObjectResource.
	Type     ObjectType
	ID, Name string
	// FolderID is the folder it is in ("" for its type's root).
	FolderID string
}

// VerifyObjects lists what Verify compares: every team folder (a folder
// under its type's root) and every item in a root or a team folder, without
// access lists yet. Items elsewhere (the archive, a user's drafts) are not
// part of any Space's model: they are counted in outside.
func VerifyObjects(folders []Folder, items []InstanceItem) (objects []InstanceObject, outside int) {
	ix := NewFolderIndex(folders)
	for _, k := range []access.Kind{access.App, access.Workflow, access.Resource} {
		typ := FolderType(k)
		for _, path := range ix.Paths(typ) {
			id, _ := ix.Lookup(typ, path)
			objects = append(objects, InstanceObject{Type: ObjectFolder, Kind: k, ID: id, Name: path})
		}
	}
	for _, it := range items {
		kind := access.Resource
		switch it.Type {
		case ObjectApp:
			kind = access.App
		case ObjectWorkflow:
			kind = access.Workflow
		}
		folder := ""
		if it.FolderID != "" && it.FolderID != ix.Root(FolderType(kind)) {
			p, ok := ix.Path(it.FolderID)
			if !ok {
				outside++
				continue
			}
			folder = p
		}
		objects = append(objects, InstanceObject{Type: it.Type, Kind: kind, ID: it.ID, Name: it.Name, Folder: folder})
	}
	return objects, outside
}

// IdPGroupsFromInstance infers the IdP groups to check each user with: a
// user in an instance group that stands for a PermissionGroup with
// idpGroups (or an sso.roleMappings entry), who is not listed in it, is
// there through Retool's SSO mapping of one of those IdP groups.
func IdPGroupsFromInstance(in access.SpaceInput, groups []ObservedGroup) map[string][]string {
	mapped := map[string][]string{}
	for _, m := range in.SSO.RoleMappings {
		mapped[m.Group] = append(mapped[m.Group], m.IdPGroup)
	}
	byName := map[string]*ObservedGroup{}
	for i := range groups {
		byName[groups[i].Name] = &groups[i]
	}
	out := map[string][]string{}
	for _, g := range in.Groups {
		idp := append(append([]string(nil), g.IdPGroups...), mapped[g.Name]...)
		if len(idp) == 0 {
			continue
		}
		name := builtinGroupNames[g.Builtin]
		if name == "" {
			name = g.DisplayName
			if name == "" {
				name = g.Name
			}
		}
		og := byName[name]
		if og == nil {
			continue
		}
		listed := map[string]bool{}
		for _, m := range g.Members {
			listed[access.EmailKey(m.Email)] = true
		}
		for _, m := range og.Members {
			if email := access.EmailKey(m.Email); !listed[email] {
				out[email] = append(out[email], idp[0])
			}
		}
	}
	return out
}

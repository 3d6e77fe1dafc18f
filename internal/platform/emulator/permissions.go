package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Permissions (/permissions): grants to groups and users, and Retool's
// account of who can reach an object (accessList).
//
// A subject's level on an object is the highest of: its direct grant on the
// object, the universal level of the object's type (groups), the grant on
// the folder holding the object (Retool's "also grants access for all the
// objects directly under the folder"; with FolderGrantsNested, the grant on
// the nearest granted ancestor folder), and, for a user, the levels of the
// groups the user is in.

type subjectIn struct {
	Type string          `json:"type"`
	ID   json.RawMessage `json:"id"`
}

type objectIn struct {
	Type  string `json:"type"`
	ID    string `json:"id"`
	AppID string `json:"appId,omitempty"`
}

type accessOut struct {
	Type        string `json:"type"`
	ID          string `json:"id"`
	AccessLevel string `json:"access_level"`
}

// kindScreen is a screen of an app (grants only).
const kindScreen = "screen"

var uuidRe = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// Folder grant behaviours (Options.FolderGrants).
const (
	// FolderGrantsDirect: a folder grant reaches the objects directly in
	// the folder, not its sub-folders (Retool's documented behaviour).
	FolderGrantsDirect = "direct"
	// FolderGrantsNested: a folder grant reaches everything beneath the
	// folder, for instances that pass grants further down.
	FolderGrantsNested = "nested"
)

// subjectOf resolves a grant's subject: a group (a number) or a user
// (user_<hex>).
func subjectOf(sp *space, sub *subjectIn) (subjectKey, int, any) {
	if sub == nil {
		st, b := fail(http.StatusBadRequest, "subject is required")
		return subjectKey{}, st, b
	}
	switch sub.Type {
	case subjectGroup:
		var id int64
		if json.Unmarshal(sub.ID, &id) != nil {
			st, b := fail(http.StatusBadRequest, "subject.id must be a group's number, got %s", string(sub.ID))
			return subjectKey{}, st, b
		}
		if sp.groups[id] == nil {
			st, b := fail(http.StatusNotFound, "Group %d not found", id)
			return subjectKey{}, st, b
		}
		return groupSubject(id), 0, nil
	case subjectUser:
		var id string
		if json.Unmarshal(sub.ID, &id) != nil || !userIDRe.MatchString(id) {
			st, b := fail(http.StatusBadRequest, "subject.id must be a user's id user_<hex>, got %s", string(sub.ID))
			return subjectKey{}, st, b
		}
		if sp.userByID(id) == nil {
			st, b := fail(http.StatusNotFound, "User %s not found", id)
			return subjectKey{}, st, b
		}
		return userSubject(id), 0, nil
	}
	st, b := fail(http.StatusBadRequest, "subject.type must be group or user, got %q", sub.Type)
	return subjectKey{}, st, b
}

// objectsOf lists a subject's direct grants on objects of typ; with
// inherited, also the objects of typ that a folder grant reaches.
func (s *Server) objectsOf(sp *space, sub subjectKey, typ string, inherited bool) []accessOut {
	levels := map[string]string{}
	for k, lvl := range sp.grants[sub] {
		if k.typ == typ {
			levels[k.id] = lvl
		}
	}
	if inherited {
		for _, k := range sp.objects(typ) {
			if lvl, _ := s.folderLevel(sp, sub, k); rank(lvl) > rank(levels[k.id]) {
				levels[k.id] = lvl
			}
		}
	}
	out := make([]accessOut, 0, len(levels))
	for id, lvl := range levels {
		out = append(out, accessOut{Type: typ, ID: id, AccessLevel: lvl})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (s *Server) listObjects(sp *space, _ *http.Request, body []byte) (int, any) {
	var in struct {
		Subject                *subjectIn `json:"subject"`
		ObjectType             string     `json:"object_type"`
		IncludeInheritedAccess bool       `json:"include_inherited_access"`
	}
	if err := decode(body, &in, true); err != nil {
		return badBody(err)
	}
	if err := enumErr("object_type", in.ObjectType, []string{kindFolder, kindApp, kindResource, "resource_configuration"}); err != nil {
		return badBody(err)
	}
	sub, st, b := subjectOf(sp, in.Subject)
	if st != 0 {
		return st, b
	}
	return all(s.objectsOf(sp, sub, in.ObjectType, in.IncludeInheritedAccess))
}

func (s *Server) objectOf(sp *space, obj *objectIn) (objectKey, int, any) {
	if obj == nil {
		st, b := fail(http.StatusBadRequest, "object is required")
		return objectKey{}, st, b
	}
	switch obj.Type {
	case kindFolder, kindApp, kindResource:
	case kindScreen:
		// A screen of an app: the emulator holds no screens, any uuid of an
		// existing app's screen is taken.
		a := sp.app(obj.AppID)
		if a == nil || !uuidRe.MatchString(obj.ID) {
			st, b := fail(http.StatusNotFound, "The screen %s of app %s does not exist", obj.ID, obj.AppID)
			return objectKey{}, st, b
		}
		return objectKey{kindScreen, strings.ToLower(obj.ID)}, 0, nil
	case "resource_configuration":
		st, b := fail(http.StatusBadRequest, "object.type %q is not supported by the emulator", obj.Type)
		return objectKey{}, st, b
	default:
		st, b := fail(http.StatusBadRequest, "object.type must be one of folder, app, screen, resource, resource_configuration, got %q", obj.Type)
		return objectKey{}, st, b
	}
	if obj.Type == kindFolder && !folderIDRe.MatchString(obj.ID) {
		st, b := fail(http.StatusBadRequest, "object.id of a folder must look like app_<n>, got %q", obj.ID)
		return objectKey{}, st, b
	}
	k := objectKey{obj.Type, obj.ID}
	switch obj.Type {
	case kindApp:
		if a := sp.app(obj.ID); a != nil {
			k.id = a.ID
		}
	case kindResource:
		if r := sp.resource(obj.ID); r != nil {
			k.id = r.ID
		}
	}
	if !sp.objectExists(k) {
		st, b := fail(http.StatusNotFound, "The %s %s does not exist", obj.Type, obj.ID)
		return objectKey{}, st, b
	}
	return k, 0, nil
}

// grantTarget decodes and resolves the subject and object of a grant or a
// revocation. A user can be granted folders and apps (API 2.7).
func (s *Server) grantTarget(sp *space, sub *subjectIn, obj *objectIn) (subjectKey, objectKey, int, any) {
	sk, st, b := subjectOf(sp, sub)
	if st != 0 {
		return sk, objectKey{}, st, b
	}
	k, st, b := s.objectOf(sp, obj)
	if st != 0 {
		return sk, k, st, b
	}
	if sk.typ == subjectUser && k.typ != kindFolder && k.typ != kindApp {
		st, b := fail(http.StatusBadRequest, "A user can be granted access to folders and apps only, not to a %s", k.typ)
		return sk, k, st, b
	}
	return sk, k, 0, nil
}

func (s *Server) grant(sp *space, _ *http.Request, body []byte) (int, any) {
	var in struct {
		Subject     *subjectIn `json:"subject"`
		Object      *objectIn  `json:"object"`
		AccessLevel string     `json:"access_level"`
	}
	if err := decode(body, &in, true); err != nil {
		return badBody(err)
	}
	if err := enumErr("access_level", in.AccessLevel, grantLevel); err != nil {
		return badBody(err)
	}
	sub, k, st, b := s.grantTarget(sp, in.Subject, in.Object)
	if st != 0 {
		return st, b
	}
	if sp.grants[sub] == nil {
		sp.grants[sub] = map[objectKey]string{}
	}
	sp.grants[sub][k] = in.AccessLevel
	return all(s.objectsOf(sp, sub, k.typ, false))
}

func (s *Server) revoke(sp *space, _ *http.Request, body []byte) (int, any) {
	var in struct {
		Subject *subjectIn `json:"subject"`
		Object  *objectIn  `json:"object"`
	}
	if err := decode(body, &in, true); err != nil {
		return badBody(err)
	}
	sub, k, st, b := s.grantTarget(sp, in.Subject, in.Object)
	if st != 0 {
		return st, b
	}
	delete(sp.grants[sub], k)
	return all(s.objectsOf(sp, sub, k.typ, false))
}

// ---- effective access

func rank(level string) int { return slices.Index(levels, level) }

// higher returns the higher of two levels ("" counts as none).
func higher(a, b string) string {
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// objects lists the keys of every object of typ (folder, app, resource,
// workflow).
func (sp *space) objects(typ string) []objectKey {
	var out []objectKey
	switch typ {
	case kindFolder:
		for id := range sp.folders {
			out = append(out, objectKey{kindFolder, id})
		}
	case kindApp:
		for _, a := range sp.apps {
			out = append(out, objectKey{kindApp, a.ID})
		}
	case kindResource:
		for _, r := range sp.resources {
			out = append(out, objectKey{kindResource, r.ID})
		}
	case kindWorkflow:
		for _, w := range sp.workflows {
			out = append(out, objectKey{kindWorkflow, w.ID})
		}
	}
	return out
}

// container is the folder holding an object ("" for none).
func (sp *space) container(k objectKey) string {
	switch k.typ {
	case kindFolder:
		if f := sp.folders[k.id]; f != nil && f.ParentFolderID != nil {
			return *f.ParentFolderID
		}
	case kindApp:
		if a := sp.app(k.id); a != nil {
			return a.FolderID
		}
	case kindResource:
		if r := sp.resource(k.id); r != nil && r.FolderID != nil {
			return *r.FolderID
		}
	case kindWorkflow:
		if w := sp.workflow(k.id); w != nil {
			return w.FolderID
		}
	}
	return ""
}

// folderLevel is the level a subject has on an object through a folder
// grant, and that folder: the grant on the folder directly holding an app,
// workflow or resource (never a sub-folder); with nested folder grants, the
// nearest granted ancestor of any object.
func (s *Server) folderLevel(sp *space, sub subjectKey, k objectKey) (string, string) {
	nested := s.folderGrants == FolderGrantsNested
	if k.typ == kindFolder && !nested {
		return "", ""
	}
	parent := sp.container(k)
	for depth := 0; parent != "" && depth < 64; depth++ {
		if lvl := sp.grants[sub][objectKey{kindFolder, parent}]; lvl != "" {
			return lvl, parent
		}
		if !nested {
			break
		}
		f := sp.folders[parent]
		if f == nil || f.ParentFolderID == nil {
			break
		}
		parent = *f.ParentFolderID
	}
	return "", ""
}

// universalLevel is a group's universal level for an object's type.
func (sp *space) universalLevel(g *group, k objectKey) string {
	typ := k.typ
	if typ == kindFolder {
		if f := sp.folders[k.id]; f != nil {
			typ = f.FolderType
		}
	}
	switch typ {
	case kindApp:
		return g.UniversalAppAccess
	case kindResource:
		return g.UniversalResourceAccess
	case kindWorkflow:
		return g.UniversalWorkflowAccess
	}
	return levelNone
}

// access is a subject's level on an object and where it comes from.
type access struct {
	level     string
	direct    bool
	universal bool
	groups    []int64
	inherited string // folder id
}

// groupAccess is a group's level on an object.
func (s *Server) groupAccess(sp *space, g *group, k objectKey) access {
	sub := groupSubject(g.ID)
	direct := sp.grants[sub][k]
	universal := sp.universalLevel(g, k)
	inherited, folderID := s.folderLevel(sp, sub, k)
	a := access{level: higher(higher(direct, universal), inherited)}
	if a.level == "" || a.level == levelNone {
		return access{level: levelNone}
	}
	a.direct, a.universal = direct == a.level, universal == a.level
	if inherited == a.level {
		a.inherited = folderID
	}
	return a
}

// userAccess is a user's level on an object: the user's own grants and
// those of the user's groups.
func (s *Server) userAccess(sp *space, u *user, k objectKey, byGroup map[int64]access) access {
	sub := userSubject(u.ID)
	direct := sp.grants[sub][k]
	inherited, folderID := s.folderLevel(sp, sub, k)
	level := higher(direct, inherited)
	for gid, ga := range byGroup {
		if isMember(sp.groups[gid], u.ID) {
			level = higher(level, ga.level)
		}
	}
	var via []int64
	for _, gid := range sortedGroupIDs(sp) {
		if rank(level) > rank(levelNone) && byGroup[gid].level == level && isMember(sp.groups[gid], u.ID) {
			via = append(via, gid)
		}
	}
	if level == "" || level == levelNone {
		return access{level: levelNone}
	}
	a := access{level: level, direct: direct == level, groups: via}
	if inherited == level {
		a.inherited = folderID
	}
	return a
}

func sortedGroupIDs(sp *space) []int64 {
	ids := make([]int64, 0, len(sp.groups))
	for id := range sp.groups {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func isMember(g *group, userID string) bool {
	for _, m := range g.Members {
		if m.ID == userID {
			return true
		}
	}
	return false
}

type accessSubject struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

type accessSources struct {
	Direct    bool            `json:"direct"`
	Universal bool            `json:"universal"`
	Groups    []accessSubject `json:"groups"`
	Inherited *accessSubject  `json:"inherited,omitempty"`
}

type accessEntry struct {
	Subject     accessSubject `json:"subject"`
	Sources     accessSources `json:"sources"`
	AccessLevel string        `json:"accessLevel"`
}

type accessListOut struct {
	Group      []accessEntry `json:"group"`
	User       []accessEntry `json:"user"`
	UserInvite []accessEntry `json:"userInvite"`
}

func (a access) sources() accessSources {
	out := accessSources{Direct: a.direct, Universal: a.universal, Groups: []accessSubject{}}
	for _, id := range a.groups {
		out.Groups = append(out.Groups, accessSubject{ID: strconv.FormatInt(id, 10), Type: subjectGroup})
	}
	if a.inherited != "" {
		out.Inherited = &accessSubject{ID: a.inherited, Type: kindFolder}
	}
	return out
}

// accessObject resolves the object of an access list: apps by uuid,
// folders by id (app_12) or number (12), resources and workflows by id.
func (sp *space) accessObject(typ, id string) (objectKey, error) {
	switch typ {
	case kindApp:
		if a := sp.app(id); a != nil {
			return objectKey{kindApp, a.ID}, nil
		}
	case kindFolder:
		if sp.folders[id] != nil {
			return objectKey{kindFolder, id}, nil
		}
		if _, err := strconv.ParseInt(id, 10, 64); err == nil {
			for _, prefix := range []string{kindApp, kindWorkflow, kindFile, kindResource} {
				if f := sp.folders[prefix+"_"+id]; f != nil {
					return objectKey{kindFolder, f.ID}, nil
				}
			}
		}
	case kindResource:
		if r := sp.resource(id); r != nil {
			return objectKey{kindResource, r.ID}, nil
		}
	case kindWorkflow:
		if w := sp.workflow(id); w != nil {
			return objectKey{kindWorkflow, w.ID}, nil
		}
	case "agent":
		return objectKey{}, fmt.Errorf("the emulator holds no agents")
	default:
		return objectKey{}, fmt.Errorf("objectType must be one of app, folder, resource, workflow, agent, got %q", typ)
	}
	return objectKey{}, fmt.Errorf("the %s %s does not exist", typ, id)
}

func (s *Server) accessList(sp *space, r *http.Request, _ []byte) (int, any) {
	k, err := sp.accessObject(r.PathValue("objectType"), r.PathValue("objectId"))
	if err != nil {
		msg := err.Error()
		return fail(http.StatusNotFound, "%s", strings.ToUpper(msg[:1])+msg[1:])
	}
	out := accessListOut{Group: []accessEntry{}, User: []accessEntry{}, UserInvite: []accessEntry{}}
	byGroup := map[int64]access{}
	for _, gid := range sortedGroupIDs(sp) {
		a := s.groupAccess(sp, sp.groups[gid], k)
		byGroup[gid] = a
		if a.level != levelNone {
			out.Group = append(out.Group, accessEntry{Subject: accessSubject{ID: strconv.FormatInt(gid, 10), Type: subjectGroup},
				Sources: a.sources(), AccessLevel: a.level})
		}
	}
	for _, u := range sp.users {
		if !u.Active {
			continue
		}
		if a := s.userAccess(sp, u, k, byGroup); a.level != levelNone {
			out.User = append(out.User, accessEntry{Subject: accessSubject{ID: u.ID, Type: subjectUser}, Sources: a.sources(), AccessLevel: a.level})
		}
	}
	return ok(out)
}

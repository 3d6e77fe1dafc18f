package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// The instance's state on disk (Options.StateDir): one JSON document,
// replaced atomically after every change. Request statistics and the rate
// limit's window are not kept.

// stateFileName is the state's file in Options.StateDir.
const stateFileName = "instance.json"

// stateVersion is the format of the state file.
const stateVersion = 1

type stateDoc struct {
	Version     int          `json:"version"`
	AdminDomain string       `json:"adminDomain"`
	IDs         stateIDs     `json:"ids"`
	Spaces      []spaceState `json:"spaces"`
	Tokens      []tokenState `json:"tokens"`
}

type stateIDs struct {
	Group          int64 `json:"group"`
	User           int64 `json:"user"`
	Invite         int64 `json:"invite"`
	Folder         int64 `json:"folder"`
	ResourceFolder int64 `json:"resourceFolder"`
}

type tokenState struct {
	Token  string   `json:"token"`
	Domain string   `json:"domain"`
	Scopes []string `json:"scopes"` // null: every scope
}

type inviteState struct {
	Invite   inviteOut `json:"invite"`
	GroupIDs []int64   `json:"groupIds"`
}

type grantState struct {
	SubjectType string `json:"subjectType"`
	SubjectID   string `json:"subjectId"`
	ObjectType  string `json:"objectType"`
	ObjectID    string `json:"objectId"`
	Level       string `json:"level"`
}

type spaceState struct {
	ID            string               `json:"id"`
	Name          string               `json:"name"`
	Domain        string               `json:"domain"`
	Parent        string               `json:"parent,omitempty"` // the parent Space's domain
	Created       time.Time            `json:"created"`
	Updated       time.Time            `json:"updated"`
	CopySSO       bool                 `json:"copySSO,omitempty"`
	Groups        []group              `json:"groups"`
	DefaultGroups map[string]int64     `json:"defaultGroups"`
	Users         []user               `json:"users"`
	Invites       []inviteState        `json:"invites"`
	Folders       []folder             `json:"folders"`
	Roots         map[string]string    `json:"roots"`
	PersonalRoot  string               `json:"personalRoot"`
	Apps          []app                `json:"apps"`
	Workflows     []workflow           `json:"workflows"`
	Resources     []resource           `json:"resources"`
	Grants        []grantState         `json:"grants"`
	Settings      scSettings           `json:"settings"`
	Config        *scConfig            `json:"config,omitempty"`
	SSO           map[string]any       `json:"sso,omitempty"`
	Releases      map[string][]release `json:"releases,omitempty"`
}

func (sp *space) state() spaceState {
	st := spaceState{ID: sp.id, Name: sp.name, Domain: sp.domain, Created: sp.created, Updated: sp.updated, CopySSO: sp.copySSO,
		DefaultGroups: sp.defaultGroups, Roots: sp.roots, PersonalRoot: sp.personalRoot,
		Settings: sp.settings, Config: sp.config, SSO: sp.sso, Releases: sp.releases}
	if sp.parent != nil {
		st.Parent = sp.parent.domain
	}
	for _, id := range sortedGroupIDs(sp) {
		st.Groups = append(st.Groups, *sp.groups[id])
	}
	for _, u := range sp.users {
		st.Users = append(st.Users, *u)
	}
	for _, inv := range sp.invites {
		st.Invites = append(st.Invites, inviteState{Invite: inv.inviteOut, GroupIDs: inv.groupIDs})
	}
	for _, id := range sortedKeys(sp.folders) {
		st.Folders = append(st.Folders, *sp.folders[id])
	}
	for _, a := range sp.apps {
		st.Apps = append(st.Apps, *a)
	}
	for _, w := range sp.workflows {
		st.Workflows = append(st.Workflows, *w)
	}
	for _, r := range sp.resources {
		st.Resources = append(st.Resources, *r)
	}
	for sub, objs := range sp.grants {
		for obj, lvl := range objs {
			st.Grants = append(st.Grants, grantState{SubjectType: sub.typ, SubjectID: sub.id, ObjectType: obj.typ, ObjectID: obj.id, Level: lvl})
		}
	}
	sort.Slice(st.Grants, func(i, j int) bool {
		a, b := st.Grants[i], st.Grants[j]
		return a.SubjectType+a.SubjectID+"/"+a.ObjectType+a.ObjectID < b.SubjectType+b.SubjectID+"/"+b.ObjectType+b.ObjectID
	})
	return st
}

func restoreSpace(st spaceState) *space {
	sp := &space{id: st.ID, name: st.Name, domain: st.Domain, created: st.Created, updated: st.Updated, copySSO: st.CopySSO,
		groups: map[int64]*group{}, defaultGroups: st.DefaultGroups, userIDs: map[string]*user{}, userEmails: map[string]*user{},
		folders: map[string]*folder{}, roots: st.Roots, personalRoot: st.PersonalRoot,
		grants: map[subjectKey]map[objectKey]string{}, settings: st.Settings, config: st.Config, sso: st.SSO, releases: st.Releases}
	if sp.defaultGroups == nil {
		sp.defaultGroups = map[string]int64{}
	}
	if sp.roots == nil {
		sp.roots = map[string]string{}
	}
	if sp.releases == nil {
		sp.releases = map[string][]release{}
	}
	for i := range st.Groups {
		g := st.Groups[i]
		sp.groups[g.ID] = &g
	}
	for i := range st.Users {
		u := st.Users[i]
		sp.users = append(sp.users, &u)
		sp.userIDs[u.ID], sp.userEmails[strings.ToLower(u.Email)] = &u, &u
	}
	for _, inv := range st.Invites {
		sp.invites = append(sp.invites, &invite{inviteOut: inv.Invite, groupIDs: inv.GroupIDs})
	}
	for i := range st.Folders {
		f := st.Folders[i]
		sp.folders[f.ID] = &f
	}
	for i := range st.Apps {
		a := st.Apps[i]
		sp.apps = append(sp.apps, &a)
	}
	for i := range st.Workflows {
		w := st.Workflows[i]
		sp.workflows = append(sp.workflows, &w)
	}
	for i := range st.Resources {
		r := st.Resources[i]
		sp.resources = append(sp.resources, &r)
	}
	for _, g := range st.Grants {
		sub := subjectKey{g.SubjectType, g.SubjectID}
		if sp.grants[sub] == nil {
			sp.grants[sub] = map[objectKey]string{}
		}
		sp.grants[sub][objectKey{g.ObjectType, g.ObjectID}] = g.Level
	}
	return sp
}

// saveLocked writes the instance's state to the state directory (when
// there is one). The caller holds s.mu (or is Open).
func (s *Server) saveLocked() error {
	if s.stateDir == "" {
		return nil
	}
	doc := stateDoc{Version: stateVersion, AdminDomain: s.admin.domain,
		IDs: stateIDs{Group: s.ids.group, User: s.ids.user, Invite: s.ids.invite, Folder: s.ids.folder, ResourceFolder: s.ids.resourceFolder}}
	for _, d := range sortedKeys(s.spaces) {
		doc.Spaces = append(doc.Spaces, s.spaces[d].state())
	}
	for _, d := range sortedKeys(s.spaces) {
		for _, t := range s.spaces[d].tokens {
			ts := tokenState{Token: t, Domain: d}
			if tok := s.tokens[t]; tok != nil && tok.scopes != nil {
				ts.Scopes = sortedKeys(tok.scopes)
			}
			doc.Tokens = append(doc.Tokens, ts)
		}
	}
	b, err := json.MarshalIndent(doc, "", " ")
	if err != nil {
		return fmt.Errorf("emulator: encode state: %w", err)
	}
	if err := os.MkdirAll(s.stateDir, 0o700); err != nil {
		return fmt.Errorf("emulator: state dir: %w", err)
	}
	tmp, err := os.CreateTemp(s.stateDir, stateFileName+".*")
	if err != nil {
		return fmt.Errorf("emulator: save state: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // gone once renamed
	if _, err := tmp.Write(b); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("emulator: save state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("emulator: save state: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(s.stateDir, stateFileName)); err != nil {
		return fmt.Errorf("emulator: save state: %w", err)
	}
	return nil
}

// load restores the state saved in the state directory; false when there
// is none.
func (s *Server) load(adminDomain string) (bool, error) {
	if s.stateDir == "" {
		return false, nil
	}
	path := filepath.Join(s.stateDir, stateFileName)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("emulator: state: %w", err)
	}
	var doc stateDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		return false, fmt.Errorf("emulator: state %s: %w", path, err)
	}
	if doc.Version != stateVersion {
		return false, fmt.Errorf("emulator: state %s: version %d, want %d", path, doc.Version, stateVersion)
	}
	if doc.AdminDomain != adminDomain {
		return false, fmt.Errorf("emulator: state %s holds the instance of %s, not %s", path, doc.AdminDomain, adminDomain)
	}
	s.ids = counters{group: doc.IDs.Group, user: doc.IDs.User, invite: doc.IDs.Invite, folder: doc.IDs.Folder, resourceFolder: doc.IDs.ResourceFolder}
	for _, st := range doc.Spaces {
		s.spaces[st.Domain] = restoreSpace(st)
	}
	for _, st := range doc.Spaces {
		if st.Parent != "" {
			s.spaces[st.Domain].parent = s.spaces[st.Parent]
		}
	}
	s.admin = s.spaces[adminDomain]
	if s.admin == nil {
		return false, fmt.Errorf("emulator: state %s has no admin Space %s", path, adminDomain)
	}
	for _, t := range doc.Tokens {
		sp := s.spaces[t.Domain]
		if sp == nil {
			return false, fmt.Errorf("emulator: state %s: a token of %s, which is no Space", path, t.Domain)
		}
		tok := &token{space: sp}
		if t.Scopes != nil {
			tok.scopes = map[string]bool{}
			for _, sc := range t.Scopes {
				tok.scopes[sc] = true
			}
		}
		s.tokens[t.Token] = tok
		sp.tokens = append(sp.tokens, t.Token)
	}
	return true, nil
}

// Save writes the instance's state to Options.StateDir now (every change
// is saved as it happens: Save reports whether the state on disk is
// current).
func (s *Server) Save() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.saveErr = s.saveLocked()
	return s.saveErr
}

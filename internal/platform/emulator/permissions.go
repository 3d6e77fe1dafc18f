package emulator

import (
	"encoding/json"
	"net/http"
	"sort"
)

// Permissions (/permissions).

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

// subjectGroup resolves a subject: the emulator grants to groups.
func subjectGroup(sp *space, sub *subjectIn) (*group, int, any) {
	if sub == nil {
		st, b := fail(http.StatusBadRequest, "subject is required")
		return nil, st, b
	}
	if sub.Type != "group" {
		st, b := fail(http.StatusBadRequest, "subject.type %q is not supported by the emulator (only group)", sub.Type)
		return nil, st, b
	}
	var id int64
	if json.Unmarshal(sub.ID, &id) != nil {
		st, b := fail(http.StatusBadRequest, "subject.id must be a group's number, got %s", string(sub.ID))
		return nil, st, b
	}
	g := sp.groups[id]
	if g == nil {
		st, b := fail(http.StatusNotFound, "Group %d not found", id)
		return nil, st, b
	}
	return g, 0, nil
}

func (sp *space) objectsOf(groupID int64, typ string) []accessOut {
	out := []accessOut{}
	for k, lvl := range sp.grants[groupID] {
		if k.typ == typ {
			out = append(out, accessOut{Type: k.typ, ID: k.id, AccessLevel: lvl})
		}
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
	g, st, b := subjectGroup(sp, in.Subject)
	if g == nil {
		return st, b
	}
	return all(sp.objectsOf(g.ID, in.ObjectType))
}

func (s *Server) objectOf(sp *space, obj *objectIn) (objectKey, int, any) {
	if obj == nil {
		st, b := fail(http.StatusBadRequest, "object is required")
		return objectKey{}, st, b
	}
	switch obj.Type {
	case kindFolder, kindApp, kindResource:
	case "screen", "resource_configuration":
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
	if obj.Type == kindApp {
		if a := sp.app(obj.ID); a != nil {
			k.id = a.ID
		}
	}
	if !sp.objectExists(k) {
		st, b := fail(http.StatusNotFound, "The %s %s does not exist", obj.Type, obj.ID)
		return objectKey{}, st, b
	}
	return k, 0, nil
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
	g, st, b := subjectGroup(sp, in.Subject)
	if g == nil {
		return st, b
	}
	k, st, b := s.objectOf(sp, in.Object)
	if st != 0 {
		return st, b
	}
	if sp.grants[g.ID] == nil {
		sp.grants[g.ID] = map[objectKey]string{}
	}
	sp.grants[g.ID][k] = in.AccessLevel
	return all(sp.objectsOf(g.ID, k.typ))
}

func (s *Server) revoke(sp *space, _ *http.Request, body []byte) (int, any) {
	var in struct {
		Subject *subjectIn `json:"subject"`
		Object  *objectIn  `json:"object"`
	}
	if err := decode(body, &in, true); err != nil {
		return badBody(err)
	}
	g, st, b := subjectGroup(sp, in.Subject)
	if g == nil {
		return st, b
	}
	k, st, b := s.objectOf(sp, in.Object)
	if st != 0 {
		return st, b
	}
	delete(sp.grants[g.ID], k)
	return all(sp.objectsOf(g.ID, k.typ))
}

package retool

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

const pathAccessList = "/permissions/accessList/{objectType}/{objectId}"

// Object types of an access list (GET /permissions/accessList/{objectType}/...)
// beyond ObjectFolder, ObjectApp and ObjectResource.
const (
	ObjectWorkflow = "workflow"
	ObjectAgent    = "agent"
)

// Subject types of an access list entry.
const (
	SubjectGroup      = "group"
	SubjectUser       = "user"
	SubjectUserInvite = "userInvite"
)

// AccessList is who can access an object and why (Retool's answer to GET
// /permissions/accessList/{objectType}/{objectId}): one entry per group and
// per user with any access.
type AccessList struct {
	Group      []AccessListEntry `json:"group,omitempty"`
	User       []AccessListEntry `json:"user,omitempty"`
	UserInvite []AccessListEntry `json:"userInvite,omitempty"`
}

// AccessListEntry is a subject's effective level on the object (own, edit,
// use or none) and where it comes from.
type AccessListEntry struct {
	Subject     Subject        `json:"subject"`
	Sources     *AccessSources `json:"sources,omitempty"`
	AccessLevel string         `json:"accessLevel"`
}

// Subject is a group, user or user invite of an access list. ID is a
// string in every case (a group's id as its decimal digits, a user's
// user_<hex>).
type Subject struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// AccessSources says where a level comes from: a grant on the object itself
// (Direct), the group's universal level of the object's type (Universal),
// the groups that pass it to a user (Groups), the folder the object inherits
// it from (Inherited).
type AccessSources struct {
	Direct    bool       `json:"direct,omitempty"`
	Universal bool       `json:"universal,omitempty"`
	Groups    []Subject  `json:"groups,omitempty"`
	Inherited *ObjectRef `json:"inherited,omitempty"`
}

// AccessList returns Retool's own account of who can access an object of
// objectType (ObjectApp, ObjectFolder, ObjectResource, ObjectWorkflow) and
// why. objectID is the app's uuid (or numeric id), the folder's numeric id,
// the resource's or workflow's id.
func (c *Client) AccessList(ctx context.Context, objectType, objectID string) (AccessList, error) {
	var l AccessList
	_, err := c.do(ctx, call{method: http.MethodGet, template: pathAccessList,
		args: []string{url.PathEscape(objectType), url.PathEscape(objectID)}, idempotent: true}, &l)
	return l, err
}

// GroupSubject is the subject of a group's grants.
func GroupSubject(id int64) Subject { return Subject{ID: id64(id), Type: SubjectGroup} }

// UserSubject is the subject of a user's grants (id user_<hex>).
func UserSubject(id string) Subject { return Subject{ID: id, Type: SubjectUser} }

// wire is the subject as grant, revoke and listObjects take it: a group's
// id is a number, a user's a string.
func (s Subject) wire() (any, error) {
	switch s.Type {
	case SubjectGroup:
		id, err := strconv.ParseInt(s.ID, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("retool: group subject id %q is not a number", s.ID)
		}
		return subject{Type: SubjectGroup, ID: id}, nil
	case SubjectUser:
		return struct {
			Type string `json:"type"`
			ID   string `json:"id"`
		}{Type: SubjectUser, ID: s.ID}, nil
	}
	return nil, fmt.Errorf("retool: subject type %q: want group or user", s.Type)
}

// ListObjectsOf returns the objects of objectType a group or a user (since
// API 2.7) has been granted directly.
func (c *Client) ListObjectsOf(ctx context.Context, sub Subject, objectType string) ([]ObjectAccess, error) {
	w, err := sub.wire()
	if err != nil {
		return nil, err
	}
	body := struct {
		Subject    any    `json:"subject"`
		ObjectType string `json:"object_type"`
	}{Subject: w, ObjectType: objectType}
	return list[ObjectAccess](ctx, c, call{method: http.MethodPost, template: pathListObjects, body: body, idempotent: true}, false)
}

// GrantTo gives a group or a user level (use, edit, own) on an object; a
// user can be granted folders and apps only.
func (c *Client) GrantTo(ctx context.Context, sub Subject, obj ObjectRef, level string) error {
	w, err := sub.wire()
	if err != nil {
		return err
	}
	body := struct {
		Subject     any       `json:"subject"`
		Object      ObjectRef `json:"object"`
		AccessLevel string    `json:"access_level"`
	}{Subject: w, Object: obj, AccessLevel: level}
	_, err = c.do(ctx, call{method: http.MethodPost, template: pathGrant, body: body, idempotent: true}, nil)
	return err
}

// RevokeFrom removes a group's or a user's grant on an object.
func (c *Client) RevokeFrom(ctx context.Context, sub Subject, obj ObjectRef) error {
	w, err := sub.wire()
	if err != nil {
		return err
	}
	body := struct {
		Subject any       `json:"subject"`
		Object  ObjectRef `json:"object"`
	}{Subject: w, Object: obj}
	_, err = c.do(ctx, call{method: http.MethodPost, template: pathRevoke, body: body, idempotent: true}, nil)
	return err
}

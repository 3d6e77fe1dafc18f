package retool

import (
	"context"
	"net/http"
	"net/url"
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

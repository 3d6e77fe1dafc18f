package emulator

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

var (
	folderIDRe = regexp.MustCompile(`^(app|workflow|resource|agent|library)_([0-9]\d*)$`)
	userIDRe   = regexp.MustCompile(`^user_[a-z0-9]+$`)
	levels     = []string{levelNone, levelUse, levelEdit, levelOwn}
	grantLevel = []string{levelUse, levelEdit, levelOwn}
	qlLevels   = []string{levelNone, levelUse, levelEdit}
)

func (s *Server) routes() {
	s.api("GET /groups", "Groups > Read", s.listGroups)
	s.api("POST /groups", "Groups > Write", s.createGroup)
	s.api("GET /groups/{groupId}", "Groups > Read", s.getGroup)
	s.api("PATCH /groups/{groupId}", "Groups > Write", s.patchGroup)
	s.api("DELETE /groups/{groupId}", "Groups > Write", s.deleteGroup)
	s.api("POST /groups/{groupId}/members", "Groups > Write", s.addMembers)
	s.api("DELETE /groups/{groupId}/members/{userSid}", "Groups > Write", s.removeMember)
	s.api("GET /users", "Users > Read", s.listUsers)
	s.api("GET /user_invites", "Users > Read", s.listInvites)
	s.api("POST /user_invites", "Users > Write", s.createInvite)
	s.api("GET /folders", "Folders > Read", s.listFolders)
	s.api("POST /folders", "Folders > Write", s.createFolder)
	s.api("GET /folders/{folderId}", "Folders > Read", s.getFolder)
	s.api("PATCH /folders/{folderId}", "Folders > Write", s.patchFolder)
	s.api("DELETE /folders/{folderId}", "Folders > Write", s.deleteFolder)
	s.api("GET /apps", "Apps > Read", s.listApps)
	s.api("GET /workflows", "Workflows > Read", s.listWorkflows)
	s.api("GET /resources", "Resources > Read", s.listResources)
	s.api("POST /permissions/listObjects", "Permissions > Read", s.listObjects)
	s.api("POST /permissions/grant", "Permissions > Write", s.grant)
	s.api("POST /permissions/revoke", "Permissions > Write", s.revoke)
	s.api("GET /permissions/accessList/{objectType}/{objectId}", "Permissions > Read", s.accessList)
	s.api("GET /source_control/settings", "Source Control > Read", s.getSettings)
	s.api("PUT /source_control/settings", "Source Control > Write", s.putSettings)
	s.api("GET /source_control/config", "Source Control > Read", s.getConfig)
	s.api("POST /source_control/config", "Source Control > Write", s.postConfig)
	s.api("PUT /source_control/config", "Source Control > Write", s.putConfig)
	s.api("DELETE /source_control/config", "Source Control > Write", s.deleteConfig)
	s.api("GET /spaces", "Spaces > Read", s.listSpaces)
	s.api("POST /spaces", "Spaces > Write", s.createSpace)
	s.api("GET /spaces/{spaceId}", "Spaces > Read", s.getSpace)
	s.api("PUT /spaces/{spaceId}", "Spaces > Write", s.putSpace)
	s.api("DELETE /spaces/{spaceId}", "Spaces > Write", s.deleteSpace)
	s.releaseRoutes()
	s.ssoRoutes()
	s.mux.HandleFunc(apiPrefix+"/", func(w http.ResponseWriter, r *http.Request) { s.serveAPI(w, r, "", nil) })
	s.adminRoutes()
}

type one struct {
	Success bool `json:"success"`
	Data    any  `json:"data"`
}

type many struct {
	Success    bool    `json:"success"`
	Data       any     `json:"data"`
	TotalCount int     `json:"total_count"`
	NextToken  *string `json:"next_token"`
	HasMore    bool    `json:"has_more"`
}

func ok(data any) (int, any) { return http.StatusOK, one{Success: true, Data: data} }

func all[T any](items []T) (int, any) {
	if items == nil {
		items = []T{}
	}
	return http.StatusOK, many{Success: true, Data: items, TotalCount: len(items)}
}

type cursor struct {
	Offset int `json:"offset"`
}

// paged answers a list that takes limit and next_token: without limit,
// every item.
func paged[T any](r *http.Request, items []T) (int, any) {
	q := r.URL.Query()
	if items == nil {
		items = []T{}
	}
	if q.Get("limit") == "" {
		if q.Get("next_token") != "" {
			return fail(http.StatusBadRequest, "next_token is only valid with limit")
		}
		return all(items)
	}
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit < 1 || limit > 100 {
		return fail(http.StatusBadRequest, "limit must be an integer from 1 to 100, got %q", q.Get("limit"))
	}
	offset := 0
	if t := q.Get("next_token"); t != "" {
		raw, err := base64.RawURLEncoding.DecodeString(t)
		var c cursor
		if err != nil || json.Unmarshal(raw, &c) != nil || c.Offset < 0 || c.Offset > len(items) {
			return fail(http.StatusBadRequest, "next_token %q is not valid", t)
		}
		offset = c.Offset
	}
	end := min(offset+limit, len(items))
	out := many{Success: true, Data: items[offset:end], TotalCount: len(items)}
	if end < len(items) {
		b, _ := json.Marshal(cursor{Offset: end})
		tok := base64.RawURLEncoding.EncodeToString(b)
		out.NextToken, out.HasMore = &tok, true
	}
	return http.StatusOK, out
}

// decode reads a JSON body into v; strict refuses unknown fields (where
// Retool's schema has additionalProperties: false).
func decode(body []byte, v any, strict bool) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return fmt.Errorf("the request body is empty")
	}
	d := json.NewDecoder(bytes.NewReader(body))
	if strict {
		d.DisallowUnknownFields()
	}
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("invalid body: %v", err)
	}
	return nil
}

func badBody(err error) (int, any) { return fail(http.StatusBadRequest, "%v", err) }

func enumErr(field, v string, allowed []string) error {
	if slices.Contains(allowed, v) {
		return nil
	}
	return fmt.Errorf("%s must be one of %s, got %q", field, strings.Join(allowed, ", "), v)
}

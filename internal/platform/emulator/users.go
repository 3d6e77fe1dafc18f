package emulator

import (
	"net/http"
	"slices"
	"strings"
)

// Users and user invites (/users, /user_invites).

func (s *Server) listUsers(sp *space, r *http.Request, _ []byte) (int, any) {
	q := r.URL.Query()
	out := []user{}
	for _, u := range sp.users {
		if e := q.Get("email"); e != "" && !strings.EqualFold(u.Email, e) {
			continue
		}
		if f := q.Get("first_name"); f != "" && (u.FirstName == nil || *u.FirstName != f) {
			continue
		}
		if l := q.Get("last_name"); l != "" && (u.LastName == nil || *u.LastName != l) {
			continue
		}
		out = append(out, sp.userView(u))
	}
	return paged(r, out)
}

func (s *Server) listInvites(sp *space, _ *http.Request, _ []byte) (int, any) {
	out := make([]inviteOut, 0, len(sp.invites))
	for _, inv := range sp.invites {
		out = append(out, sp.inviteView(inv))
	}
	return all(out)
}

func (s *Server) createInvite(sp *space, _ *http.Request, body []byte) (int, any) {
	var in struct {
		Email           string         `json:"email"`
		DefaultGroupIDs []int64        `json:"defaultGroupIds"`
		Metadata        map[string]any `json:"metadata"`
	}
	if err := decode(body, &in, true); err != nil {
		return badBody(err)
	}
	if at := strings.IndexByte(in.Email, '@'); at < 1 || at == len(in.Email)-1 {
		return fail(http.StatusBadRequest, "email must be an email address, got %q", in.Email)
	}
	if sp.userByEmail(in.Email) != nil {
		return fail(http.StatusBadRequest, "A user with email %s already exists", in.Email)
	}
	for _, id := range in.DefaultGroupIDs {
		if sp.groups[id] == nil {
			return fail(http.StatusBadRequest, "defaultGroupIds: group %d does not exist", id)
		}
	}
	if in.Metadata == nil {
		in.Metadata = map[string]any{}
	}
	s.ids.invite++
	now := s.now()
	typ := "default"
	inv := &invite{inviteOut: inviteOut{ID: s.ids.invite, LegacyID: s.ids.invite, InvitedBy: "api", InvitedEmail: in.Email,
		ExpiresAt: stamp(now.Add(inviteTTL)), UserType: &typ, Metadata: in.Metadata, CreatedAt: stamp(now),
		InviteLink: "https://" + sp.domain + "/user/invite/" + randomHex(12)}, groupIDs: slices.Clone(in.DefaultGroupIDs)}
	sp.invites = append(sp.invites, inv)
	return ok(sp.inviteView(inv))
}

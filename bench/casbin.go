// Package bench compares Governor's access engine with Casbin, the library a
// Go team would otherwise pick, on the same generated Space. It is its own
// module so that the product does not depend on Casbin.
//
// The Casbin encoding is RBAC with domains (the domain is the Space):
//
//	g(user, group, space)                      one per listed membership, plus AllUsers
//	g("idp:NAME", group, space)                one per IdP group a group maps, plus AllUsers
//	p(group, space, "app:NAME", level)         an object rule
//	p(group, space, "app:PATH/*", level)       a folder rule, matched against the object's folder
//	p(group, space, "app:*", level)            a universal or built-in level
//
// A rule of level L is written once per level up to L, so a request asks for
// the level its action needs. Casbin has no notion of "the most specific rule
// wins inside one group" (an object rule narrowing a folder rule), nor of
// per-environment levels or read-only environments: this encoding answers the
// permissive superset of Governor's model and does less work than Governor
// does. The comparison is therefore conservative in Casbin's favour.
package bench

import (
	"fmt"
	"strings"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"

	"github.com/governor-dev/governor/internal/access"
)

// casbinModel: the cheap comparisons first, so Casbin's matcher can stop early.
const casbinModel = `
[request_definition]
r = sub, dom, obj, folder, act

[policy_definition]
p = sub, dom, obj, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.dom == p.dom && r.act == p.act && (r.obj == p.obj || keyMatch(r.folder, p.obj)) && g(r.sub, p.sub, r.dom)
`

// CasbinRequest is a check in the encoding's terms.
type CasbinRequest struct {
	User, Space, Object, Folder, Level string
}

// NewCasbin loads a Space into a Casbin enforcer.
func NewCasbin(in access.SpaceInput) (*casbin.Enforcer, error) {
	m, err := model.NewModelFromString(casbinModel)
	if err != nil {
		return nil, err
	}
	e, err := casbin.NewEnforcer(m)
	if err != nil {
		return nil, err
	}
	var policies, links [][]string
	grant := func(group, obj string, lvl access.Level) {
		for l := access.Use; l <= lvl; l++ {
			policies = append(policies, []string{group, in.Name, obj, l.String()})
		}
	}
	allUsers := ""
	for _, g := range in.Groups {
		if g.Builtin == access.AllUsers {
			allUsers = g.Name
		}
	}
	known := map[string]bool{}
	for _, g := range in.Groups {
		known[g.Name] = true
		for _, k := range []access.Kind{access.App, access.Workflow, access.Resource} {
			grant(g.Name, kindKey(k)+":*", universal(g, k))
		}
		for _, mem := range g.Members {
			email := strings.ToLower(mem.Email)
			links = append(links, []string{email, g.Name, in.Name})
			if allUsers != "" {
				links = append(links, []string{email, allUsers, in.Name})
			}
		}
	}
	// IdP groups: a user who signs in with one is the subject "idp:NAME",
	// linked to the groups it maps to (and to AllUsers).
	idp := func(name, group string) {
		links = append(links, []string{"idp:" + name, group, in.Name})
		if allUsers != "" {
			links = append(links, []string{"idp:" + name, allUsers, in.Name})
		}
	}
	for _, g := range in.Groups {
		for _, name := range g.IdPGroups {
			idp(name, g.Name)
		}
	}
	for _, m := range in.SSO.RoleMappings {
		idp(m.IdPGroup, m.Group)
	}
	for _, r := range in.Rules {
		if !known[r.Group] {
			continue
		}
		for _, t := range r.Targets {
			if t.Folder {
				grant(r.Group, kindKey(t.Kind)+":"+t.Name+"/*", r.Level)
			} else {
				grant(r.Group, kindKey(t.Kind)+":"+t.Name, r.Level)
			}
		}
	}
	if _, err := e.AddPoliciesEx(policies); err != nil {
		return nil, err
	}
	if _, err := e.AddGroupingPoliciesEx(links); err != nil {
		return nil, err
	}
	return e, nil
}

// universal is a group's level on every object of a kind, as the access
// model's built-in groups table gives it.
func universal(g access.Group, k access.Kind) access.Level {
	switch g.Builtin {
	case access.Viewer:
		return access.Use
	case access.Editor:
		if k == access.Resource {
			return access.Own
		}
		return access.Edit
	case access.Admin:
		return access.Own
	}
	switch k {
	case access.App:
		return g.Universal.Apps
	case access.Workflow:
		return g.Universal.Workflows
	}
	return g.Universal.Resources
}

func kindKey(k access.Kind) string { return strings.ToLower(k.String()) }

// requiredLevel is what an object or folder action needs (the access model's action table).
var requiredLevel = map[string]access.Level{
	"use": access.Use, "run": access.Use,
	"edit": access.Edit, "release": access.Edit, "write": access.Edit, "create": access.Edit,
	"rename": access.Own, "move": access.Own, "export": access.Own, "delete": access.Own,
	"share": access.Own, "configure": access.Own, "manage": access.Own,
}

// ToCasbin translates a Governor request on an object or a folder.
func ToCasbin(space string, req access.Request) (CasbinRequest, error) {
	lvl, ok := requiredLevel[req.Action]
	if !ok {
		return CasbinRequest{}, fmt.Errorf("action %q has no level in the Casbin encoding", req.Action)
	}
	out := CasbinRequest{User: strings.ToLower(req.User), Space: space, Level: lvl.String()}
	if len(req.Groups) > 0 {
		// accesstest signs in by IdP group only users no group lists; Casbin
		// takes one subject, the IdP group.
		out.User = "idp:" + req.Groups[0]
	}
	switch req.Target.Type {
	case access.TargetApp, access.TargetWorkflow, access.TargetResource:
		kind := string(req.Target.Type)
		out.Object = kind + ":" + req.Target.Name
		out.Folder = kind + ":" + req.Folder + "/"
	case access.TargetAppFolder, access.TargetWorkflowFolder, access.TargetResourceFolder:
		kind := strings.TrimSuffix(string(req.Target.Type), "folder")
		out.Object = string(req.Target.Type) + ":" + req.Target.Name // names no policy: folders go by path
		out.Folder = kind + ":" + req.Target.Name + "/"
	default:
		return CasbinRequest{}, fmt.Errorf("target %s has no Casbin encoding", req.Target)
	}
	return out, nil
}

// Enforce asks Casbin.
func (r CasbinRequest) Enforce(e *casbin.Enforcer) (bool, error) {
	return e.Enforce(r.User, r.Space, r.Object, r.Folder, r.Level)
}

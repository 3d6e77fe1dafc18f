package bench

import (
	"context"
	_ "embed" // the Rego policy
	"fmt"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"github.com/governor-dev/governor/internal/access"
)

// The OPA encoding: governor.rego holds the access model for objects and
// folders (the action table, the built-in levels, "the most specific rule wins
// inside one group", environments); the Space is data in an in-memory store,
// laid out by opaData; a check is the query data.governor.allow, prepared once.
//
//go:embed governor.rego
var regoPolicy string

// OPA is a Space loaded into OPA: the policy prepared once against the Space
// as data.
type OPA struct {
	query rego.PreparedEvalQuery
}

// NewOPA loads a Space into an in-memory store and prepares the policy.
func NewOPA(ctx context.Context, in access.SpaceInput) (*OPA, error) {
	store := inmem.NewFromObjectWithOpts(map[string]any{"space": opaData(in)},
		inmem.OptRoundTripOnWrite(false), inmem.OptReturnASTValuesOnRead(true))
	q, err := rego.New(
		rego.Query("data.governor.allow"),
		rego.Module("governor.rego", regoPolicy),
		rego.Store(store),
	).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("preparing governor.rego: %w", err)
	}
	return &OPA{query: q}, nil
}

// OPAInput is a Governor request as the policy's input, converted once.
func OPAInput(req access.Request) (ast.Value, error) {
	groups := make([]any, len(req.Groups))
	for i, g := range req.Groups {
		groups[i] = g
	}
	in := map[string]any{
		"user": req.User, "groups": groups, "action": req.Action,
		"target": map[string]any{"type": string(req.Target.Type), "name": req.Target.Name},
		"folder": req.Folder,
	}
	if req.Environment != "" {
		in["environment"] = req.Environment
	}
	return ast.InterfaceToValue(in)
}

// Allowed evaluates the policy on a prepared input.
func (o *OPA) Allowed(ctx context.Context, input ast.Value) (bool, error) {
	rs, err := o.query.Eval(ctx, rego.EvalParsedInput(input))
	if err != nil {
		return false, err
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return false, fmt.Errorf("data.governor.allow gave %d results", len(rs))
	}
	allowed, ok := rs[0].Expressions[0].Value.(bool)
	if !ok {
		return false, fmt.Errorf("data.governor.allow is %v, not a boolean", rs[0].Expressions[0].Value)
	}
	return allowed, nil
}

// opaData lays the Space out as the documents the policy looks up:
//
//	groups[NAME]                      {builtin, universal: {app, workflow, resource}, unpublished_releases}
//	members[EMAIL]                    the groups that list the user (not AllUsers)
//	idp[IDPGROUP]                     the groups an IdP group maps to (spec.idpGroups and role mappings)
//	object_rules[KIND][NAME][GROUP]   [{level, environments: {ENV: level}}], one per rule
//	folder_rules[KIND][GROUP][PATH]   [level], one per rule
//	environments[ENV]                 {read_only}
//	all_users, jit                    the AllUsers group, JIT provisioning
//
// Nothing is decided here: rules stay one entry each, the policy picks.
func opaData(in access.SpaceInput) map[string]any {
	groups := map[string]any{}
	members := map[string]any{}
	idp := map[string]any{}
	add := func(m map[string]any, key, group string) {
		list, _ := m[key].([]any)
		for _, g := range list {
			if g == group {
				return
			}
		}
		m[key] = append(list, group)
	}
	data := map[string]any{}
	for _, g := range in.Groups {
		groups[g.Name] = map[string]any{
			"builtin": string(g.Builtin),
			"universal": map[string]any{
				"app": int(g.Universal.Apps), "workflow": int(g.Universal.Workflows), "resource": int(g.Universal.Resources),
			},
			"unpublished_releases": g.Additional.UnpublishedReleases,
		}
		if g.Builtin == access.AllUsers {
			data["all_users"] = g.Name // its membership is every member's
			continue
		}
		for _, m := range g.Members {
			add(members, strings.ToLower(strings.TrimSpace(m.Email)), g.Name)
		}
		for _, name := range g.IdPGroups {
			add(idp, name, g.Name)
		}
	}
	for _, m := range in.SSO.RoleMappings {
		if _, ok := groups[m.Group]; ok {
			add(idp, m.IdPGroup, m.Group)
		}
	}
	objectRules, folderRules := map[string]any{}, map[string]any{}
	for _, r := range in.Rules {
		if _, ok := groups[r.Group]; !ok {
			continue
		}
		for _, t := range r.Targets {
			kind := kindKey(t.Kind)
			if t.Folder {
				appendAt(folderRules, int(r.Level), kind, r.Group, strings.Trim(t.Name, "/"))
				continue
			}
			rule := map[string]any{"level": int(r.Level)}
			if len(t.Environments) > 0 {
				envs := map[string]any{}
				for _, e := range t.Environments {
					envs[e.Name] = int(e.Level)
				}
				rule["environments"] = envs
			}
			appendAt(objectRules, rule, kind, t.Name, r.Group)
		}
	}
	envs := map[string]any{}
	for _, e := range in.Environments {
		envs[e.Name] = map[string]any{"read_only": e.ReadOnly}
	}
	domains := map[string]any{}
	for _, d := range in.SSO.AllowedDomains {
		domains[strings.ToLower(strings.TrimPrefix(d, "@"))] = true
	}
	data["groups"], data["members"], data["idp"] = groups, members, idp
	data["object_rules"], data["folder_rules"], data["environments"] = objectRules, folderRules, envs
	data["jit"] = map[string]any{"enabled": in.SSO.JIT, "domains": domains}
	return data
}

// appendAt appends v to the list at m[k0][k1][k2], making the maps on the way.
func appendAt(m map[string]any, v any, k0, k1, k2 string) {
	for _, k := range []string{k0, k1} {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	list, _ := m[k2].([]any)
	m[k2] = append(list, v)
}

package bench

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	v1 "github.com/authzed/authzed-go/proto/authzed/api/v1"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/governor-dev/governor/internal/access"
)

var kinds = []access.Kind{access.App, access.Workflow, access.Resource}

var ruleRelation = map[access.Level]string{access.Use: "use_rule", access.Edit: "edit_rule", access.Own: "own_rule"}

// relationships collects relationships once each (SpiceDB refuses a
// relationship written twice).
type relationships struct {
	out  []*v1.Relationship
	seen map[string]struct{}
	err  error
}

// add writes resource#relation@subject[caveat:context]; subject is
// "type:id" or "type:id#relation".
func (r *relationships) add(resType, resID, relation, subject, caveat string, context map[string]any) {
	key := resType + ":" + resID + "#" + relation + "@" + subject
	if _, dup := r.seen[key]; dup || r.err != nil {
		return
	}
	r.seen[key] = struct{}{}
	subj, subRel, _ := strings.Cut(subject, "#")
	subType, subID, _ := strings.Cut(subj, ":")
	rel := &v1.Relationship{
		Resource: &v1.ObjectReference{ObjectType: resType, ObjectId: resID},
		Relation: relation,
		Subject:  &v1.SubjectReference{Object: &v1.ObjectReference{ObjectType: subType, ObjectId: subID}, OptionalRelation: subRel},
	}
	if caveat != "" {
		ctx, err := structpb.NewStruct(context)
		if err != nil {
			r.err = fmt.Errorf("%s: %w", key, err)
			return
		}
		rel.OptionalCaveat = &v1.ContextualizedCaveat{CaveatName: caveat, Context: ctx}
	}
	r.out = append(r.out, rel)
}

// objectRule is one group's rules on one object name, merged as Governor
// reads them: the highest level, and in each environment that some rule
// overrides, the highest of each rule's override there (else its level).
// SpiceDB holds one relationship per group, relation and name, so the merge
// happens here.
type objectRule struct {
	level    access.Level
	rules    []access.RuleTarget
	levelsOf []access.Level
}

func (o *objectRule) environments() map[string]any {
	envs := map[string]any{}
	for _, t := range o.rules {
		for _, e := range t.Environments {
			if _, done := envs[e.Name]; done {
				continue
			}
			best := access.None
			for i, other := range o.rules {
				lvl := o.levelsOf[i]
				for _, oe := range other.Environments {
					if oe.Name == e.Name {
						lvl = oe.Level
					}
				}
				best = max(best, lvl)
			}
			envs[e.Name] = int(best)
		}
	}
	return envs
}

type targetKey struct {
	kind  access.Kind
	group string
	name  string // object name or folder path
}

// spiceRelationships writes a Space, and the objects of the checks in their
// folders, as relationships of governor.zed.
//
//nolint:gocyclo // one pass per part of the Space, in the schema's order
func spiceRelationships(in access.SpaceInput, objects []access.Request) ([]*v1.Relationship, error) {
	r := &relationships{seen: map[string]struct{}{}}
	const space = "space"
	known := map[string]*access.Group{}
	for i, g := range in.Groups {
		known[g.Name] = &in.Groups[i]
	}

	// Membership: listed members; IdP groups (the group's own and the role
	// mappings) through the signs_in caveat; AllUsers includes every other
	// group, and admits every mapped IdP group and JIT.
	idpMaps := map[string][]string{}
	for _, g := range in.Groups {
		idpMaps[g.Name] = append(idpMaps[g.Name], g.IdPGroups...)
	}
	for _, m := range in.SSO.RoleMappings {
		if known[m.Group] != nil {
			idpMaps[m.Group] = append(idpMaps[m.Group], m.IdPGroup)
		}
	}
	allUsers := ""
	var allIdP []string
	for _, g := range in.Groups {
		allIdP = append(allIdP, idpMaps[g.Name]...)
		if g.Builtin == access.AllUsers {
			allUsers = g.Name // its listed members are not read, as in Governor
		} else {
			for _, m := range g.Members {
				r.add("group", spiceID(g.Name), "listed", "user:"+spiceID(strings.ToLower(strings.TrimSpace(m.Email))), "", nil)
			}
		}
		if idps := idpMaps[g.Name]; len(idps) > 0 && g.Builtin != access.AllUsers {
			r.add("group", spiceID(g.Name), "signed_in", "user:*", "signs_in", signsIn(idps, false, nil))
		}
	}
	if allUsers != "" {
		for _, g := range in.Groups {
			if g.Builtin != access.AllUsers {
				r.add("group", spiceID(allUsers), "includes", "group:"+spiceID(g.Name), "", nil)
			}
		}
		domains := make([]string, 0, len(in.SSO.AllowedDomains))
		for _, d := range in.SSO.AllowedDomains {
			domains = append(domains, strings.ToLower(strings.TrimPrefix(d, "@")))
		}
		if len(allIdP) > 0 || in.SSO.JIT {
			r.add("group", spiceID(allUsers), "signed_in", "user:*", "signs_in", signsIn(allIdP, in.SSO.JIT, domains))
		}
	}

	// The Space: read-only environments, additional permissions, folder creators.
	var readOnly []string
	for _, e := range in.Environments {
		if e.ReadOnly {
			readOnly = append(readOnly, e.Name)
		}
	}
	r.add(space, spiceID(in.Name), "writable", "user:*", "writable", map[string]any{"read_only": anySlice(readOnly)})
	for _, g := range in.Groups {
		subject := "group:" + spiceID(g.Name) + "#member"
		fixed := g.Builtin == access.Viewer || g.Builtin == access.Editor
		if g.Builtin == access.Admin || (!fixed && g.Additional.UnpublishedReleases) {
			r.add(space, spiceID(in.Name), "unpublished", subject, "", nil)
		}
		for _, k := range kinds {
			if g.Builtin == access.Admin || universal(g, k) >= access.Edit {
				r.add(space, spiceID(in.Name), kindKey(k)+"_folder_creator", subject, "", nil)
			}
		}
	}

	// Rules, gathered per group and target.
	folderRules := map[targetKey]access.Level{}
	objectRules := map[targetKey]*objectRule{}
	folders := map[access.Kind]map[string]struct{}{}
	addFolder := func(k access.Kind, path string) {
		if folders[k] == nil {
			folders[k] = map[string]struct{}{}
		}
		folders[k][path] = struct{}{}
	}
	for _, rule := range in.Rules {
		if known[rule.Group] == nil {
			continue
		}
		for _, t := range rule.Targets {
			if t.Folder {
				key := targetKey{t.Kind, rule.Group, strings.Trim(t.Name, "/")}
				folderRules[key] = max(folderRules[key], rule.Level)
				addFolder(t.Kind, key.name)
				continue
			}
			key := targetKey{t.Kind, rule.Group, t.Name}
			o := objectRules[key]
			if o == nil {
				o = &objectRule{}
				objectRules[key] = o
			}
			o.level = max(o.level, rule.Level)
			o.rules, o.levelsOf = append(o.rules, t), append(o.levelsOf, rule.Level)
		}
	}
	// What each group's rules name, by kind: the shadows of its broader rules.
	ruledFolders := map[targetKey][]string{} // keyed by kind and group
	ruledNames := map[targetKey][]any{}
	for key := range folderRules {
		k := targetKey{kind: key.kind, group: key.group}
		ruledFolders[k] = append(ruledFolders[k], key.name)
	}
	for key := range objectRules {
		k := targetKey{kind: key.kind, group: key.group}
		ruledNames[k] = append(ruledNames[k], key.name)
	}
	shadowed := func(k access.Kind, group, inside string) (string, map[string]any) {
		var inner []any
		for _, f := range ruledFolders[targetKey{kind: k, group: group}] {
			if inside == "" || strings.HasPrefix(f, inside+"/") {
				inner = append(inner, f)
			}
		}
		names := ruledNames[targetKey{kind: k, group: group}]
		if len(inner) == 0 && len(names) == 0 {
			return "", nil
		}
		slices.SortFunc(inner, func(a, b any) int { return strings.Compare(a.(string), b.(string)) })
		slices.SortFunc(names, func(a, b any) int { return strings.Compare(a.(string), b.(string)) })
		return "unshadowed", map[string]any{"folders": nonNil(inner), "names": nonNil(names)}
	}

	// Universal levels on each type's root folder, shadowed by the group's
	// rules of that type (Admin's by nothing).
	for _, g := range in.Groups {
		subject := "group:" + spiceID(g.Name) + "#member"
		for _, k := range kinds {
			lvl := universal(g, k)
			if lvl == access.None {
				continue
			}
			caveat, ctx := shadowed(k, g.Name, "")
			if g.Builtin == access.Admin {
				caveat, ctx = "", nil
			}
			r.add(kindKey(k)+"folder", rootFolder, ruleRelation[lvl], subject, caveat, ctx)
		}
	}
	for key, lvl := range folderRules {
		caveat, ctx := shadowed(key.kind, key.group, key.name)
		r.add(kindKey(key.kind)+"folder", folderID(key.name), ruleRelation[lvl], "group:"+spiceID(key.group)+"#member", caveat, ctx)
	}
	for key, o := range objectRules {
		res, subject := kindKey(key.kind)+"name", "group:"+spiceID(key.group)+"#member"
		envs := o.environments()
		if len(envs) == 0 {
			r.add(res, spiceID(key.name), ruleRelation[o.level], subject, "", nil)
			continue
		}
		top := o.level
		for _, l := range envs {
			top = max(top, access.Level(l.(int)))
		}
		for l := access.Use; l <= top; l++ {
			r.add(res, spiceID(key.name), ruleRelation[l], subject, "at_least",
				map[string]any{"level": int(o.level), "environments": envs, "need": int(l)})
		}
	}

	// The objects the checks ask about, in their folders.
	for _, req := range objects {
		kind, isFolder := spiceKind(req.Target.Type)
		k, err := access.ParseKind(kind)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", req.Target, err)
		}
		if isFolder {
			addFolder(k, strings.Trim(req.Target.Name, "/"))
			continue
		}
		dir := strings.Trim(req.Folder, "/")
		addFolder(k, dir)
		id := placedID(dir, req.Target.Name)
		r.add(kind, id, "name", kind+"name:"+spiceID(req.Target.Name), "", nil)
		r.add(kind, id, "folder", kind+"folder:"+folderID(dir), "", nil)
		if k != access.Resource {
			r.add(kind, id, "space", space+":"+spiceID(in.Name), "", nil)
		}
	}
	// The folder trees: each folder's parent up to the root.
	for _, k := range kinds {
		typ := kindKey(k) + "folder"
		r.add(typ, rootFolder, "space", space+":"+spiceID(in.Name), "", nil)
		for _, path := range slices.Sorted(maps.Keys(folders[k])) {
			for p := path; p != ""; {
				parent, _, _ := cutLast(p, "/")
				r.add(typ, folderID(p), "parent", typ+":"+folderID(parent), "", nil)
				r.add(typ, folderID(p), "space", space+":"+spiceID(in.Name), "", nil)
				p = parent
			}
		}
	}
	return r.out, r.err
}

// signsIn is the signs_in caveat's context: the IdP groups mapped to the
// group, and JIT provisioning with its domains (AllUsers only).
func signsIn(idps []string, jit bool, domains []string) map[string]any {
	return map[string]any{"maps": anySlice(idps), "jit": jit, "domains": anySlice(domains)}
}

// cutLast splits s around its last sep: "a/b/c" gives "a/b", "c".
func cutLast(s, sep string) (string, string, bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return "", s, false
	}
	return s[:i], s[i+len(sep):], true
}

func nonNil(s []any) []any {
	if s == nil {
		return []any{}
	}
	return s
}

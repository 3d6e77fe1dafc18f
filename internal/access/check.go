package access

import (
	"fmt"
	"strings"
)

// Request asks whether a user may do an action on a target.
type Request struct {
	// User is the user's email (compared case-insensitively).
	User string `json:"user"`
	// Groups are the IdP groups the identity provider sent for the user.
	Groups []string `json:"groups,omitempty"`
	Action string   `json:"action"`
	Target Target   `json:"target"`
	// Folder is the folder path the object lives in ("" is the root).
	Folder string `json:"folder,omitempty"`
	// Environment is the environment the action happens in; "" checks
	// without overrides and without read-only restrictions.
	Environment string `json:"environment,omitempty"`
}

// Decision reasons.
const (
	ReasonGranted             = "Granted"
	ReasonNotAMember          = "NotAMember"
	ReasonInsufficientLevel   = "InsufficientLevel"
	ReasonReadOnlyEnvironment = "ReadOnlyEnvironment"
	ReasonNotPermitted        = "NotPermitted"
)

// SourceKind says what in a group decided its level.
type SourceKind string

// The sources of a group's level or permission.
const (
	SourceObjectRule SourceKind = "ObjectRule"
	SourceFolderRule SourceKind = "FolderRule"
	SourceUniversal  SourceKind = "Universal"
	SourceBuiltin    SourceKind = "Builtin"
	SourceAdditional SourceKind = "Additional"
	SourceGroupAdmin SourceKind = "GroupAdmin"
	SourceNone       SourceKind = "None"
)

// Source is what in a group gave its level: an AccessRule on the object or a
// folder, the group's universal level, or its built-in role.
type Source struct {
	Kind SourceKind `json:"kind"`
	// Rule is the AccessRule's name (object and folder rules).
	Rule string `json:"rule,omitempty"`
	// Folder is the folder path of a folder rule.
	Folder string `json:"folder,omitempty"`
	// Builtin is the group's built-in role, when it decided.
	Builtin Builtin `json:"builtin,omitempty"`
	// Environment is set when a per-environment override decided.
	Environment string `json:"environment,omitempty"`
	// Flag is the additional permission that decided (userList, auditLog, ...).
	Flag string `json:"flag,omitempty"`
}

func (s Source) String() string {
	switch s.Kind {
	case SourceObjectRule:
		if s.Environment != "" {
			return "object rule " + s.Rule + " (override for " + s.Environment + ")"
		}
		return "object rule " + s.Rule
	case SourceFolderRule:
		return "folder rule " + s.Rule + " on " + s.Folder
	case SourceUniversal:
		return "universal level"
	case SourceBuiltin:
		return "built-in role " + string(s.Builtin)
	case SourceAdditional:
		return "additional permission " + s.Flag
	case SourceGroupAdmin:
		return "group admin"
	}
	return "nothing"
}

// Contribution is one of the user's groups' part in a decision.
type Contribution struct {
	Group  string `json:"group"`
	Level  Level  `json:"level"`
	Source Source `json:"source"`
}

// Decision is a check's answer, with everything that explains it.
type Decision struct {
	Allowed     bool   `json:"allowed"`
	Space       string `json:"space"`
	Revision    string `json:"revision"`
	User        string `json:"user"`
	Action      string `json:"action"`
	Target      Target `json:"target"`
	Folder      string `json:"folder,omitempty"`
	Environment string `json:"environment,omitempty"`
	// Level is the user's level on the target; Required what the action needs.
	Level    Level `json:"level"`
	Required Level `json:"required"`
	// Reason is Granted, or why not: NotAMember, InsufficientLevel,
	// ReadOnlyEnvironment, NotPermitted.
	Reason  string `json:"reason"`
	Message string `json:"message"`
	// Group and Source are the deciding group and what in it decided.
	Group  string  `json:"group,omitempty"`
	Source *Source `json:"source,omitempty"`
	// Membership is how the user is in the Space: Listed, IdPGroup or JIT.
	Membership string `json:"membership,omitempty"`
	// Groups are the user's groups in the Space.
	Groups []string `json:"groups"`
	// Contributions are every group's level on the target.
	Contributions []Contribution `json:"contributions,omitempty"`
}

// Membership ways.
const (
	MemberListed = "Listed"
	MemberIdP    = "IdPGroup"
	MemberJIT    = "JIT"
)

// environment resolves a request's environment: -1 for none.
func (s *Snapshot) environment(name string) (int, error) {
	if name == "" {
		return -1, nil
	}
	idx, ok := s.envIndex[name]
	if !ok {
		return 0, invalid(ReasonUnknownEnvironment, "unknown environment %q in Space %s (declared: %s)", name, s.space, strings.Join(envNames(s.envs), ", "))
	}
	return idx, nil
}

// membership returns the user's groups and how they are a member ("" when not).
func (s *Snapshot) membership(email string, idpGroups []string) ([]int32, string) {
	email = normalizeEmail(email)
	listed := s.byEmail[email]
	groups := make([]int32, 0, len(listed)+len(idpGroups)+1)
	groups = append(groups, listed...)
	how := ""
	if len(listed) > 0 {
		how = MemberListed
	}
	for _, idp := range idpGroups {
		for _, g := range s.byIdP[idp] {
			groups = appendUnique(groups, g)
			if how == "" {
				how = MemberIdP
			}
		}
	}
	if how == "" && s.jit {
		if _, domain, ok := strings.Cut(email, "@"); ok && domain != "" {
			if _, allowed := s.jitDomains[domain]; allowed || len(s.jitDomains) == 0 {
				how = MemberJIT
			}
		}
	}
	if how != "" && s.allUsers >= 0 {
		groups = appendUnique(groups, s.allUsers)
	}
	return groups, how
}

// groupLevel is group g's level on an object (folder=false: the object name
// living in folder path dir) or a folder (folder=true: the folder path name),
// and what decided it. Checking many groups, prepare one probe and call
// levelAt instead.
func (s *Snapshot) groupLevel(g int32, kind Kind, folder bool, name, dir string, env int) (Level, Source) {
	var p probe
	s.newProbe(&p, kind, folder, name, dir)
	return s.levelAt(g, &p, env)
}

// levelAt is group g's level on the probed object or folder: the object
// rule, else the nearest folder rule, else the universal level.
func (s *Snapshot) levelAt(g int32, p *probe, env int) (Level, Source) {
	grp := &s.groups[g]
	if p.object && grp.objectKinds&(1<<p.kind) != 0 {
		if tr := grp.find(p.objHash, p.kind, false, p.name); tr != nil {
			lvl, rule := tr.levelIn(env)
			src := Source{Kind: SourceObjectRule, Rule: rule}
			if env >= 0 && tr.byEnv != nil {
				if e, ok := tr.byEnv[env]; ok && e.override {
					src.Environment = s.envs[env].Name
				}
			}
			return lvl, src
		}
	}
	if depths := grp.folderDepths[p.kind]; depths != 0 {
		for i := range p.dirs {
			if depths&(1<<min(p.depth-i, 63)) == 0 {
				continue
			}
			dir := p.dir(i)
			if tr := grp.find(p.dirHash(i), p.kind, true, dir); tr != nil {
				return tr.level, Source{Kind: SourceFolderRule, Rule: tr.rule, Folder: dir}
			}
		}
	}
	if grp.builtin != Custom && grp.builtin != AllUsers {
		return grp.universal[p.kind], Source{Kind: SourceBuiltin, Builtin: grp.builtin}
	}
	return grp.universal[p.kind], Source{Kind: SourceUniversal}
}

// Check decides a request. Invalid input (unknown action, target or
// environment) is an *InvalidInputError, not a denial.
func (s *Snapshot) Check(req Request) (Decision, error) {
	act, err := lookupAction(req.Target, req.Action)
	if err != nil {
		return Decision{}, err
	}
	env, err := s.environment(req.Environment)
	if err != nil {
		return Decision{}, err
	}
	kind, isFolder, isObject := req.Target.objectKind()
	dir := normalizePath(req.Folder)
	target := req.Target
	if isFolder {
		target.Name = normalizePath(target.Name)
	}
	if target.Type == TargetGroup {
		if _, ok := s.groupIndex[target.Name]; !ok {
			return Decision{}, invalid(ReasonUnknownTarget, "group %q does not exist in Space %s", target.Name, s.space)
		}
	}
	d := Decision{
		Space: s.space, Revision: s.revision, User: normalizeEmail(req.User), Action: strings.ToLower(req.Action),
		Target: target, Folder: dir, Environment: req.Environment, Required: act.need,
	}
	if d.User == "" {
		return Decision{}, invalid(ReasonInvalidUser, "a check needs the user's email")
	}
	groups, how := s.membership(d.User, req.Groups)
	d.Membership = how
	d.Groups = make([]string, len(groups))
	for i, g := range groups {
		d.Groups[i] = s.groups[g].name
	}
	if how == "" {
		return d.deny(ReasonNotAMember, "%s is not a member of Space %s: no group lists them or their IdP groups, and JIT provisioning does not admit them", d.User, s.space), nil
	}
	if act.mutating && env >= 0 && s.envs[env].ReadOnly {
		return d.deny(ReasonReadOnlyEnvironment, "environment %s is read-only: changes reach it only through source control", s.envs[env].Name), nil
	}
	if admin := s.adminGroup(groups); admin >= 0 {
		d.Level = Own
		if act.queryLibrary {
			d.Level = s.groups[admin].queryLib // the query library stops at Edit
		}
		d.Group = s.groups[admin].name
		d.Source = &Source{Kind: SourceBuiltin, Builtin: Admin}
		return d.allow("%s is in %s (Admin): every action is allowed", d.User, d.Group), nil
	}

	switch {
	case isObject:
		return s.decideObject(d, act, groups, kind, isFolder, env), nil
	case act.queryLibrary:
		for _, g := range groups {
			lvl := s.groups[g].queryLib
			d.Contributions = append(d.Contributions, Contribution{Group: s.groups[g].name, Level: lvl, Source: s.universalSource(g)})
			if lvl > d.Level || d.Group == "" {
				d.Level, d.Group = lvl, s.groups[g].name
				src := s.universalSource(g)
				d.Source = &src
			}
		}
		return d.byLevel(), nil
	case act.adminOnly:
		return d.deny(ReasonNotPermitted, "%s needs the Admin group", d.Action), nil
	case act.groupAdmin:
		grp := &s.groups[s.groupIndex[target.Name]]
		if _, ok := grp.admins[d.User]; ok {
			d.Group, d.Source = grp.name, &Source{Kind: SourceGroupAdmin}
			return d.allow("%s is a group admin of %s", d.User, grp.name), nil
		}
		return d.deny(ReasonNotPermitted, "%s needs the Admin group or being a group admin of %s", d.Action, target.Name), nil
	case act.flag != nil:
		flag := flagName(d.Action)
		if g, ok := s.withFlag(groups, act.flag); ok {
			d.Group, d.Source = s.groups[g].name, &Source{Kind: SourceAdditional, Flag: flag}
			return d.allow("%s has additional permission %s", d.Group, flag), nil
		}
		return d.deny(ReasonNotPermitted, "%s needs the Admin group or additional permission %s on one of the user's groups", d.Action, flag), nil
	}
	return d.deny(ReasonNotPermitted, "%s is not allowed", d.Action), nil
}

// decideObject decides an action on an object or folder: the highest level
// over the user's groups, each group's own most specific rule deciding.
func (s *Snapshot) decideObject(d Decision, act action, groups []int32, kind Kind, isFolder bool, env int) Decision {
	d.Contributions = make([]Contribution, 0, len(groups))
	best := -1
	var p probe
	s.newProbe(&p, kind, isFolder, d.Target.Name, d.Folder)
	for _, g := range groups {
		lvl, src := s.levelAt(g, &p, env)
		d.Contributions = append(d.Contributions, Contribution{Group: s.groups[g].name, Level: lvl, Source: src})
		if best < 0 || lvl > d.Contributions[best].Level {
			best = len(d.Contributions) - 1
		}
	}
	if best >= 0 {
		c := &d.Contributions[best]
		d.Level, d.Group, d.Source = c.Level, c.Group, &c.Source
	}
	switch {
	case act.createFolder:
		return s.decideCreateFolder(d, groups, kind)
	case act.viewUnpublish && d.Level < Edit && d.Level >= Use:
		if g, ok := s.withFlag(groups, act.flag); ok {
			d.Group, d.Source = s.groups[g].name, &Source{Kind: SourceAdditional, Flag: "unpublishedReleases"}
			return d.allow("Use on %s plus unpublishedReleases of %s", d.Target, d.Group)
		}
	}
	return d.byLevel()
}

func (s *Snapshot) universalSource(g int32) Source {
	if b := s.groups[g].builtin; b != Custom && b != AllUsers {
		return Source{Kind: SourceBuiltin, Builtin: b}
	}
	return Source{Kind: SourceUniversal}
}

// decideCreateFolder: Admin, or a universal level of at least Edit for the type.
func (s *Snapshot) decideCreateFolder(d Decision, groups []int32, kind Kind) Decision {
	d.Level, d.Group, d.Source = None, "", nil
	for _, g := range groups {
		if lvl := s.groups[g].universal[kind]; lvl > d.Level {
			src := s.universalSource(g)
			d.Level, d.Group, d.Source = lvl, s.groups[g].name, &src
		}
	}
	if d.Level >= Edit {
		return d.allow("%s has universal %s on %ss", d.Group, d.Level, strings.ToLower(kind.String()))
	}
	return d.deny(ReasonInsufficientLevel, "creating folders needs the Admin group or a universal level of at least Edit on %ss (have %s)", strings.ToLower(kind.String()), d.Level)
}

func (s *Snapshot) adminGroup(groups []int32) int32 {
	for _, g := range groups {
		if s.groups[g].builtin == Admin {
			return g
		}
	}
	return -1
}

func (s *Snapshot) withFlag(groups []int32, flag func(Additional) bool) (int32, bool) {
	for _, g := range groups {
		if flag(s.groups[g].additional) {
			return g, true
		}
	}
	return -1, false
}

// byLevel decides by comparing levels. It is on every check's path, so its
// messages are concatenated rather than formatted.
func (d Decision) byLevel() Decision {
	if d.Group == "" || d.Source == nil {
		if d.Level >= d.Required {
			return d.allow("%s on %s", d.Level, d.Target)
		}
		return d.deny(ReasonInsufficientLevel, "needs %s on %s; no group of the user gives any level", d.Required, d.Target)
	}
	from := d.Source.String() + " of group " + d.Group
	if d.Level >= d.Required {
		d.Allowed, d.Reason = true, ReasonGranted
		d.Message = d.Level.String() + " on " + d.Target.String() + " from " + from
		return d
	}
	d.Allowed, d.Reason = false, ReasonInsufficientLevel
	d.Message = "needs " + d.Required.String() + " on " + d.Target.String() + ", has " + d.Level.String() + " (from " + from + ")"
	return d
}

func (d Decision) allow(format string, args ...any) Decision {
	d.Allowed, d.Reason, d.Message = true, ReasonGranted, fmt.Sprintf(format, args...)
	return d
}

func (d Decision) deny(reason, format string, args ...any) Decision {
	d.Allowed, d.Reason, d.Message = false, reason, fmt.Sprintf(format, args...)
	return d
}

var flagNames = map[string]string{
	"view-users": "userList", "view-audit-log": "auditLog", "view-usage-analytics": "usageAnalytics",
	"manage-themes": "themes", "view-account-details": "accountDetails",
}

func flagName(action string) string { return flagNames[action] }

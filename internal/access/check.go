package access

import (
	"fmt"
	"strings"
	"time"
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
	// Expires is when the access that allows the action ends: the user's
	// membership in the deciding group or the deciding rule, whichever ends
	// first (absent when neither has an expiry, and on denials).
	Expires time.Time `json:"expires,omitzero"`
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
	listed := s.byEmail[email] // canonical: the callers made it so
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
	if how == "" && s.jitAdmits(email) {
		how = MemberJIT
	}
	if how != "" && s.allUsers >= 0 {
		groups = appendUnique(groups, s.allUsers)
	}
	return groups, how
}

// jitAdmits reports whether just-in-time provisioning admits the email.
func (s *Snapshot) jitAdmits(email string) bool {
	if !s.jit {
		return false
	}
	_, domain, ok := strings.Cut(email, "@")
	if !ok || domain == "" {
		return false
	}
	_, allowed := s.jitDomains[domain]
	return allowed || len(s.jitDomains) == 0
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
	var q question
	if err := s.prepare(&q, req); err != nil {
		return Decision{}, err
	}
	user, err := canonicalUser(req.User, "a check")
	if err != nil {
		return Decision{}, err
	}
	d := Decision{
		Space: s.space, Revision: s.revision, User: user, Action: q.req.action,
		Target: q.target, Folder: q.folder, Environment: req.Environment, Required: q.req.need,
	}
	groups, how := s.membership(d.User, req.Groups)
	d.Membership = how
	d.Groups = make([]string, len(groups))
	for i, g := range groups {
		d.Groups[i] = s.groups[g].name
	}
	st := standing{member: how != "", readOnly: q.readOnly()}
	admin := s.adminGroup(groups)
	st.admin = admin >= 0
	if q.req.groupAdmin {
		_, st.groupAdmin = s.groups[q.group].admins[d.User]
	}
	// The level over the user's groups (the first group with the highest
	// level decides), and the first group with the requirement's flag.
	flagGroup := int32(-1)
	if st.member && !st.admin {
		if q.req.scale != scaleNone {
			d.Contributions = make([]Contribution, 0, len(groups))
		}
		best := -1
		for _, g := range groups {
			st.flags |= s.groups[g].flags
			if flagGroup < 0 && s.groups[g].flags&q.req.flag != 0 {
				flagGroup = g
			}
			if q.req.scale == scaleNone {
				continue
			}
			lvl, src := s.scaleLevel(q.req, g, &q.probe, q.env)
			d.Contributions = append(d.Contributions, Contribution{Group: s.groups[g].name, Level: lvl, Source: src})
			if best < 0 || lvl > d.Contributions[best].Level {
				best = len(d.Contributions) - 1
			}
		}
		if best >= 0 {
			c := &d.Contributions[best]
			st.level, d.Level, d.Group, d.Source = c.Level, c.Level, c.Group, &c.Source
		}
	}
	if st.admin {
		switch q.req.scale {
		case scaleQueryLibrary:
			d.Level = s.groups[admin].queryLib // the query library stops at Edit
		case scaleNone:
		default:
			d.Level = Own
		}
	}
	allowed, by := decide(q.req, &st)
	d = s.explain(d, &q, allowed, by, admin, flagGroup)
	if d.Allowed && d.Source != nil && s.expiry.input != nil {
		d.Expires = s.accessEnds(d.User, req.Groups, s.groupIndex[d.Group], *d.Source)
	}
	return d, nil
}

// question is a request resolved against a snapshot.
type question struct {
	req    *requirement
	target Target
	folder string
	env    int   // -1: none
	group  int32 // the target group (TargetGroup)
	probe  probe // the object or folder (scaleObject, scaleUniversal)
	s      *Snapshot
}

func (q *question) readOnly() bool { return q.env >= 0 && q.s.envs[q.env].ReadOnly }

// prepare resolves a request's action, target and environment into q.
func (s *Snapshot) prepare(q *question, req Request) error {
	r, err := lookupAction(req.Target, req.Action)
	if err != nil {
		return err
	}
	env, err := s.environment(req.Environment)
	if err != nil {
		return err
	}
	if err := CheckFolderPath(req.Folder); err != nil {
		return invalid(ReasonInvalidFolder, "folder: %v", err)
	}
	q.req, q.target, q.folder, q.env, q.group, q.s = r, req.Target, req.Folder, env, -1, s
	kind, isFolder, isObject := req.Target.objectKind()
	if q.target.Type == TargetGroup {
		g, ok := s.groupIndex[q.target.Name]
		if !ok {
			return invalid(ReasonUnknownTarget, "group %q does not exist in Space %s", q.target.Name, s.space)
		}
		q.group = g
	}
	if isObject {
		s.newProbe(&q.probe, kind, isFolder, q.target.Name, q.folder)
	}
	return nil
}

// explain sets a decision's verdict and says why, after the policy that decided.
func (s *Snapshot) explain(d Decision, q *question, allowed bool, by policyID, admin, flagGroup int32) Decision {
	reason := reasonOf(q.req, by) // of a denial
	switch by {
	case policyMembership:
		return d.deny(reason, "%s is not a member of Space %s: no group lists them or their IdP groups, and JIT provisioning does not admit them", d.User, s.space)
	case policyReadOnly:
		return d.deny(reason, "environment %s is read-only: changes reach it only through source control", s.envs[q.env].Name)
	case policyAdmin:
		d.Group = s.groups[admin].name
		d.Source = &Source{Kind: SourceBuiltin, Builtin: Admin}
		return d.allow("%s is in %s (Admin): every action is allowed", d.User, d.Group)
	case policyAdminOnly:
		return d.deny(reason, "%s needs the Admin group", d.Action)
	case policyGroupAdmin:
		if allowed {
			d.Group, d.Source = s.groups[q.group].name, &Source{Kind: SourceGroupAdmin}
			return d.allow("%s is a group admin of %s", d.User, d.Group)
		}
		return d.deny(reason, "%s needs the Admin group or being a group admin of %s", d.Action, q.target.Name)
	case policyFlag:
		flag := q.req.flag.name()
		d.Group, d.Source = s.groups[flagGroup].name, &Source{Kind: SourceAdditional, Flag: flag}
		if q.req.scale == scaleNone {
			return d.allow("%s has additional permission %s", d.Group, flag)
		}
		return d.allow("%s on %s plus %s of %s", q.req.flagWith, d.Target, flag, d.Group)
	}
	if q.req.scale == scaleNone {
		return d.deny(reason, "%s needs the Admin group or additional permission %s on one of the user's groups", d.Action, q.req.flag.name())
	}
	if q.req.scale == scaleUniversal {
		kind := strings.ToLower(q.probe.kind.String())
		if allowed {
			return d.allow("%s has universal %s on %ss", d.Group, d.Level, kind)
		}
		return d.deny(reason, "creating folders needs the Admin group or a universal level of at least %s on %ss (have %s)", q.req.need, kind, d.Level)
	}
	return d.byLevel()
}

func (s *Snapshot) universalSource(g int32) Source {
	if b := s.groups[g].builtin; b != Custom && b != AllUsers {
		return Source{Kind: SourceBuiltin, Builtin: b}
	}
	return Source{Kind: SourceUniversal}
}

func (s *Snapshot) adminGroup(groups []int32) int32 {
	for _, g := range groups {
		if s.groups[g].builtin == Admin {
			return g
		}
	}
	return -1
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

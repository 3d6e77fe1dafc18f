package access

import (
	"slices"
	"sort"
	"strings"
	"time"
)

// An access review lists, for everyone who can sign in to a Space, what
// they can reach and why: the answer to "show me everything everyone can
// reach, as of now" that a quarterly access review asks for.

// Subjects of a review besides listed users.
const (
	// SubjectUser is a listed user: "user:EMAIL".
	SubjectUser = "user:"
	// SubjectIdP is anyone signing in with an IdP group the Space maps
	// (a group's idpGroups or a role mapping) and listed nowhere: "idp:GROUP".
	SubjectIdP = "idp:"
	// SubjectJIT is anyone just-in-time provisioning admits and listed
	// nowhere: "jit:*@DOMAIN" ("jit:*@*" for any domain).
	SubjectJIT = "jit:"
)

// ReviewRow is one line of an access review: what one subject can reach on
// one target, and why.
type ReviewRow struct {
	// Subject is user:EMAIL, idp:GROUP or jit:*@DOMAIN.
	Subject string `json:"subject"`
	// Membership is how the subject is in the Space: Listed, IdPGroup or JIT.
	Membership string `json:"membership"`
	// Target is an object kind's every object without a rule of theirs
	// (app/*, workflow/*, resource/*), an object or folder their groups'
	// rules name (at the root of the folder tree), the query library, the
	// Space (its organisation permissions) or a group they administer.
	Target Target `json:"target"`
	// Level is the subject's level there (None for Space and group targets).
	Level Level `json:"level"`
	// Actions are the actions the subject may do there.
	Actions []string `json:"actions"`
	// Group is the deciding group; Source what in it decided (its Rule is the
	// deciding AccessRule, when one did).
	Group  string `json:"group"`
	Source Source `json:"source"`
	// Via is how the subject is in the deciding group: "listed", "idp:GROUP"
	// (an IdP group the group or a role mapping names), or "every member"
	// (AllUsers).
	Via string `json:"via"`
	// Expires is when this access ends: the subject's membership in the
	// deciding group or the deciding rule, whichever ends first.
	Expires time.Time `json:"expires,omitzero"`
}

// ReviewSubjects lists who a review covers, in its order: the listed users
// (by email), then each IdP group the Space maps, then the domains JIT admits.
func (s *Snapshot) ReviewSubjects() []string {
	emails := make([]string, 0, len(s.byEmail))
	for e := range s.byEmail {
		emails = append(emails, e)
	}
	sort.Strings(emails)
	out := make([]string, 0, len(emails)+len(s.byIdP)+len(s.jitDomains)+1)
	for _, e := range emails {
		out = append(out, SubjectUser+e)
	}
	idps := make([]string, 0, len(s.byIdP))
	for idp := range s.byIdP {
		idps = append(idps, idp)
	}
	sort.Strings(idps)
	for _, idp := range idps {
		out = append(out, SubjectIdP+idp)
	}
	if s.jit {
		domains := make([]string, 0, len(s.jitDomains))
		for d := range s.jitDomains {
			domains = append(domains, d)
		}
		sort.Strings(domains)
		if len(domains) == 0 {
			domains = append(domains, "*")
		}
		for _, d := range domains {
			out = append(out, SubjectJIT+"*@"+d)
		}
	}
	return out
}

// Review streams the access review: for each subject of ReviewSubjects, in
// order, the rows of what they can reach (level above None, or an action
// allowed), sorted by target, in environment env ("": no environment, no
// overrides and no read-only restrictions). It stops at emit's first error
// and returns it; an undeclared environment is invalid input.
func (s *Snapshot) Review(env string, emit func(ReviewRow) error) error {
	ei, err := s.environment(env)
	if err != nil {
		return err
	}
	var rows []ReviewRow
	for _, subject := range s.ReviewSubjects() {
		rows = s.reviewSubject(subject, ei, rows[:0])
		for _, r := range rows {
			if err := emit(r); err != nil {
				return err
			}
		}
	}
	return nil
}

// reviewSubject appends one subject's rows to rows.
func (s *Snapshot) reviewSubject(name string, env int, rows []ReviewRow) []ReviewRow {
	var email string
	var idps []string
	switch {
	case strings.HasPrefix(name, SubjectUser):
		email = name[len(SubjectUser):]
	case strings.HasPrefix(name, SubjectIdP):
		idps = []string{name[len(SubjectIdP):]}
	}
	var groups []int32
	how := ""
	if email != "" || len(idps) > 0 {
		groups, how = s.membership(email, idps)
	} else if s.allUsers >= 0 {
		groups, how = []int32{s.allUsers}, MemberJIT
	} else {
		how = MemberJIT
	}
	if how == "" {
		return rows
	}
	u := subject{email: email, groups: groups, member: true}
	row := func(t Target, o outcome, reqType TargetType) {
		actions := o.actions(reqType)
		if o.level == None && len(actions) == 0 {
			return
		}
		r := ReviewRow{Subject: name, Membership: how, Target: t, Level: o.level, Actions: actions, Source: o.source}
		if o.group >= 0 {
			r.Group = s.groups[o.group].name
			r.Via = s.via(email, idps, o.group)
			r.Expires = s.accessEnds(email, idps, o.group, o.source)
		}
		rows = append(rows, r)
	}
	start := len(rows)
	for k := Kind(0); k < numKinds; k++ {
		var p probe
		s.newProbe(&p, k, false, "", "")
		t := Target{Type: objectType(k, false), Name: "*"}
		row(t, s.evaluate(&u, t.Type, &p, env, -1), t.Type)
	}
	s.eachNamedTarget(groups, func(key ruleKey) {
		var p probe
		s.newProbe(&p, key.kind, key.folder, key.name, "")
		t := Target{Type: objectType(key.kind, key.folder), Name: key.name}
		row(t, s.evaluate(&u, t.Type, &p, env, -1), t.Type)
	})
	row(Target{Type: TargetQueryLibrary}, s.evaluate(&u, TargetQueryLibrary, nil, env, -1), TargetQueryLibrary)
	rows = s.reviewSpace(&u, name, how, idps, rows)
	if email != "" {
		for _, g := range groups {
			if _, ok := s.groups[g].admins[email]; ok && s.groups[g].builtin != Admin {
				rows = append(rows, ReviewRow{Subject: name, Membership: how, Target: Target{Type: TargetGroup, Name: s.groups[g].name},
					Actions: []string{"manage-members"}, Group: s.groups[g].name, Source: Source{Kind: SourceGroupAdmin}, Via: "listed",
					Expires: s.memberExpires(g, email)})
			}
		}
	}
	sub := rows[start:]
	sort.SliceStable(sub, func(i, j int) bool {
		a, b := sub[i].Target, sub[j].Target
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return a.Name < b.Name
	})
	return rows
}

// reviewSpace appends the subject's Space actions, one row per deciding
// group: Admin, or each group whose additional permissions allow some.
func (s *Snapshot) reviewSpace(u *subject, name, how string, idps []string, rows []ReviewRow) []ReviewRow {
	allowed := s.evaluate(u, TargetSpace, nil, -1, -1)
	if allowed.allowed == 0 {
		return rows
	}
	if admin := s.adminGroup(u.groups); admin >= 0 {
		return append(rows, ReviewRow{Subject: name, Membership: how, Target: Target{Type: TargetSpace}, Actions: allowed.actions(TargetSpace),
			Group: s.groups[admin].name, Source: Source{Kind: SourceBuiltin, Builtin: Admin}, Via: s.via(u.email, idps, admin),
			Expires: s.membershipEnds(u.email, idps, admin)})
	}
	reqs := requirements[TargetSpace]
	for _, g := range u.groups {
		var actions, flags []string
		for i, r := range reqs {
			if allowed.allowed&(1<<i) != 0 && r.flag != 0 && s.groups[g].flags&r.flag != 0 {
				actions = append(actions, r.action)
				if !slices.Contains(flags, r.flag.name()) {
					flags = append(flags, r.flag.name())
				}
			}
		}
		if len(actions) == 0 {
			continue
		}
		src := Source{Kind: SourceAdditional}
		if len(flags) == 1 {
			src.Flag = flags[0]
		}
		rows = append(rows, ReviewRow{Subject: name, Membership: how, Target: Target{Type: TargetSpace}, Actions: actions,
			Group: s.groups[g].name, Source: src, Via: s.via(u.email, idps, g), Expires: s.membershipEnds(u.email, idps, g)})
	}
	return rows
}

// via says how the subject is in group g.
func (s *Snapshot) via(email string, idps []string, g int32) string {
	if g == s.allUsers {
		return "every member"
	}
	if email != "" {
		if _, listed := slices.BinarySearch(s.groups[g].emails, email); listed {
			return "listed"
		}
	}
	for _, idp := range idps {
		if slices.Contains(s.byIdP[idp], g) {
			return "idp:" + idp
		}
	}
	return ""
}

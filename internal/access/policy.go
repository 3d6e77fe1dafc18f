package access

// The policy chain: how a requirement (actions.go) is decided from what a
// user's groups give together. It is an ordered list of named, individually
// tested policies; the first that decides, decides. Check runs it on the
// user's groups, WhoCan on each group alone (and on the pairs the flag policy
// lets two groups satisfy together), Permissions on each target a user's
// rules name, and Diff on both states of every question it compares.

// standing is what a set of groups gives on one question.
type standing struct {
	member bool // the user is a member of the Space
	// readOnly: the question is asked in a read-only environment.
	readOnly bool
	admin    bool // one of the groups is the Admin group
	// groupAdmin: the user is a group admin of the target group.
	groupAdmin bool
	// level is the highest level of the groups on the requirement's scale.
	level Level
	flags flagSet // every additional permission of the groups
}

// policyID names a policy of the chain; a decision says which one decided.
type policyID uint8

// The policies, in the chain's order.
const (
	policyMembership policyID = iota
	policyReadOnly
	policyAdmin
	policyAdminOnly
	policyGroupAdmin
	policyLevel
	policyFlag
	policyOtherwise
)

// policy decides a requirement from a standing, or passes (decided false).
type policy struct {
	id   policyID
	name string
	// decide takes the standing by value: the chain's functions are called
	// indirectly, and a pointer would move every caller's standing to the heap.
	decide func(r *requirement, st standing) (decided, allowed bool)
}

// chain is the policies in order. The last always decides.
var chain = [...]policy{
	{policyMembership, "membership", func(_ *requirement, st standing) (bool, bool) {
		// Not a member: nothing is allowed.
		return !st.member, false
	}},
	{policyReadOnly, "readOnlyEnvironment", func(r *requirement, st standing) (bool, bool) {
		// Changes reach a read-only environment only through source control, even for Admin.
		return r.mutating && st.readOnly, false
	}},
	{policyAdmin, "admin", func(_ *requirement, st standing) (bool, bool) {
		// The Admin group may do everything else.
		return st.admin, true
	}},
	{policyAdminOnly, "adminOnly", func(r *requirement, _ standing) (bool, bool) {
		return r.adminOnly, false
	}},
	{policyGroupAdmin, "groupAdmin", func(r *requirement, st standing) (bool, bool) {
		return r.groupAdmin, st.groupAdmin
	}},
	{policyLevel, "level", func(r *requirement, st standing) (bool, bool) {
		ok := r.scale != scaleNone && st.level >= r.need
		return ok, ok
	}},
	{policyFlag, "flag", func(r *requirement, st standing) (bool, bool) {
		// The flag, from any of the groups; on a scale, together with at
		// least flagWith from any of them.
		ok := r.flag != 0 && st.flags&r.flag != 0 && (r.scale == scaleNone || st.level >= r.flagWith)
		return ok, ok
	}},
	{policyOtherwise, "otherwise", func(*requirement, standing) (bool, bool) {
		return true, false
	}},
}

// decide runs the chain: whether the requirement is met, and which policy decided.
func decide(r *requirement, st *standing) (bool, policyID) {
	for i := range chain {
		if decided, allowed := chain[i].decide(r, *st); decided {
			return allowed, chain[i].id
		}
	}
	return false, policyOtherwise // unreachable: the last policy decides
}

// reasonOf is a decision's reason, given the policy that decided a denial.
func reasonOf(r *requirement, by policyID) string {
	switch by {
	case policyMembership:
		return ReasonNotAMember
	case policyReadOnly:
		return ReasonReadOnlyEnvironment
	case policyAdminOnly, policyGroupAdmin:
		return ReasonNotPermitted
	}
	if r.scale == scaleNone {
		return ReasonNotPermitted
	}
	return ReasonInsufficientLevel
}

// groupStanding is what group g gives on its own, to a member: its level
// (from levelOf) and its permissions.
func (s *Snapshot) groupStanding(g int32, readOnly bool, level Level) standing {
	grp := &s.groups[g]
	return standing{member: true, readOnly: readOnly, admin: grp.builtin == Admin, level: level, flags: grp.flags}
}

// scaleLevel is group g's level on the requirement's scale for the probed
// target (p is only read for scaleObject), and what gave it.
func (s *Snapshot) scaleLevel(r *requirement, g int32, p *probe, env int) (Level, Source) {
	switch r.scale {
	case scaleObject:
		return s.levelAt(g, p, env)
	case scaleUniversal:
		return s.groups[g].universal[p.kind], s.universalSource(g)
	case scaleQueryLibrary:
		return s.groups[g].queryLib, s.universalSource(g)
	}
	return None, Source{}
}

package access

import (
	"slices"
	"testing"
)

// Each policy of the chain on its own: whether it decides, and how.
func TestPolicies(t *testing.T) {
	edit := &requirement{action: "edit", scale: scaleObject, need: Edit, mutating: true}
	viewUnpublished := &requirement{action: "view-unpublished", scale: scaleObject, need: Edit, flag: flagUnpublishedReleases, flagWith: Use}
	viewUsers := &requirement{action: "view-users", flag: flagUserList}
	settings := &requirement{action: "manage-settings", adminOnly: true}
	members := &requirement{action: "manage-members", groupAdmin: true}
	type row struct {
		r                *requirement
		st               standing
		decided, allowed bool
	}
	cases := map[policyID]map[string]row{
		policyMembership: {
			"a non-member is refused": {edit, standing{}, true, false},
			"a member passes":         {edit, standing{member: true}, false, false},
		},
		policyReadOnly: {
			"a change in a read-only environment is refused": {edit, standing{member: true, readOnly: true, admin: true}, true, false},
			"a read in a read-only environment passes":       {viewUnpublished, standing{readOnly: true}, false, false},
			"a change elsewhere passes":                      {edit, standing{}, false, false},
		},
		policyAdmin: {
			"Admin is allowed": {settings, standing{admin: true}, true, true},
			"others pass":      {settings, standing{level: Own}, false, false},
		},
		policyAdminOnly: {
			"an admin-only action is refused": {settings, standing{level: Own, flags: ^flagSet(0)}, true, false},
			"other actions pass":              {edit, standing{}, false, false},
		},
		policyGroupAdmin: {
			"a group admin is allowed":    {members, standing{groupAdmin: true}, true, true},
			"anyone else is refused":      {members, standing{level: Own, flags: ^flagSet(0)}, true, false},
			"actions of other kinds pass": {edit, standing{groupAdmin: true}, false, false},
		},
		policyLevel: {
			"enough level is allowed":     {edit, standing{level: Edit}, true, true},
			"too little passes":           {edit, standing{level: Use}, false, false},
			"a permission is not a level": {viewUsers, standing{level: Own}, false, false},
		},
		policyFlag: {
			"the flag alone grants a permission":  {viewUsers, standing{flags: flagUserList}, true, true},
			"another flag does not":               {viewUsers, standing{flags: flagAuditLog}, false, false},
			"the flag with the level it needs":    {viewUnpublished, standing{level: Use, flags: flagUnpublishedReleases}, true, true},
			"the flag without that level passes":  {viewUnpublished, standing{flags: flagUnpublishedReleases}, false, false},
			"the level without the flag passes":   {viewUnpublished, standing{level: Use}, false, false},
			"a requirement without a flag passes": {edit, standing{level: Use, flags: ^flagSet(0)}, false, false},
		},
		policyOtherwise: {
			"whatever reaches the end is refused": {edit, standing{level: Own}, true, false},
		},
	}
	for id, rows := range cases {
		p := chain[id]
		if p.id != id {
			t.Fatalf("chain[%d] is %s (%d): the chain is out of order", id, p.name, p.id)
		}
		for name, tc := range rows {
			t.Run(p.name+"/"+name, func(t *testing.T) {
				decided, allowed := p.decide(tc.r, tc.st)
				if decided != tc.decided || (decided && allowed != tc.allowed) {
					t.Fatalf("decided=%v allowed=%v, want %v %v", decided, allowed, tc.decided, tc.allowed)
				}
			})
		}
	}
}

// The requirements are well formed: every target type has actions, sorted
// and unique; a permission (no scale) needs no level; a level the flag
// needs beside it is below the level that grants alone.
func TestRequirementsAreWellFormed(t *testing.T) {
	types := []TargetType{TargetApp, TargetWorkflow, TargetResource, TargetAppFolder, TargetWorkflowFolder, TargetResourceFolder, TargetQueryLibrary, TargetSpace, TargetGroup}
	if len(requirements) != len(types) {
		t.Fatalf("%d target types have requirements, want %d", len(requirements), len(types))
	}
	for _, typ := range types {
		acts := Actions(typ)
		if len(acts) == 0 || !slices.IsSorted(acts) || len(slices.Compact(slices.Clone(acts))) != len(acts) {
			t.Errorf("%s: actions %v", typ, acts)
		}
		if len(acts) > 16 {
			t.Errorf("%s: %d actions do not fit an outcome's bits", typ, len(acts))
		}
		for _, r := range requirements[typ] {
			switch {
			case r.scale == scaleNone && r.need != None:
				t.Errorf("%s %s: a permission needs level %s", typ, r.action, r.need)
			case r.flagWith != None && (r.flag == 0 || r.flagWith >= r.need):
				t.Errorf("%s %s: flagWith %s with flag %d and need %s", typ, r.action, r.flagWith, r.flag, r.need)
			case r.scale == scaleNone && r.flag == 0 && !r.adminOnly && !r.groupAdmin:
				t.Errorf("%s %s: nothing but Admin grants it, yet it is not adminOnly", typ, r.action)
			}
			if r.flag != 0 && r.flag.name() == "" {
				t.Errorf("%s %s: flag %d has no name", typ, r.action, r.flag)
			}
		}
	}
}

// The decisive policy gives a denial its reason.
func TestReasonOf(t *testing.T) {
	edit := &requirement{scale: scaleObject, need: Edit}
	perm := &requirement{flag: flagThemes}
	for _, tc := range []struct {
		r    *requirement
		by   policyID
		want string
	}{
		{edit, policyMembership, ReasonNotAMember},
		{edit, policyReadOnly, ReasonReadOnlyEnvironment},
		{perm, policyAdminOnly, ReasonNotPermitted},
		{perm, policyGroupAdmin, ReasonNotPermitted},
		{perm, policyOtherwise, ReasonNotPermitted},
		{edit, policyOtherwise, ReasonInsufficientLevel},
	} {
		if got := reasonOf(tc.r, tc.by); got != tc.want {
			t.Errorf("%s: %s, want %s", chain[tc.by].name, got, tc.want)
		}
	}
}

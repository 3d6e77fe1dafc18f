package access

// RoleLevels are a built-in role's fixed universal levels and
// organisation-level permissions (the platform's default group of that
// role holds the same); false for AllUsers and custom groups, whose levels
// are their own.
func RoleLevels(b Builtin) (Universal, Additional, bool) {
	r, ok := builtinRoles[b]
	if !ok {
		return Universal{}, Additional{}, false
	}
	return Universal{Apps: r.apps, Workflows: r.workflows, Resources: r.resources, QueryLibrary: r.queryLibrary}, r.additional, true
}

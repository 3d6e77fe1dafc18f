# Governor's access model for objects and folders (shared/design/access-model.md),
# as a team using OPA would write it. The Space is data (data.space, laid out by
# opa.go: groups, members and rules keyed by what a check looks up); the question
# is the input: {user, groups (IdP), action, target: {type, name}, folder,
# environment}. Levels are numbers: 0 None, 1 Use, 2 Edit, 3 Own.
package governor

# What each action needs on its target type, and whether it changes something
# (refused in read-only environments).
object_actions := {
	"app": {
		"use": {"need": 1},
		"edit": {"need": 2, "mutating": true},
		"release": {"need": 2, "mutating": true},
		"view-unpublished": {"need": 2, "unpublished": true},
		"rename": {"need": 3, "mutating": true},
		"move": {"need": 3, "mutating": true},
		"export": {"need": 3},
		"delete": {"need": 3, "mutating": true},
		"share": {"need": 3, "mutating": true},
	},
	"workflow": {
		"use": {"need": 1},
		"run": {"need": 1},
		"edit": {"need": 2, "mutating": true},
		"rename": {"need": 3, "mutating": true},
		"move": {"need": 3, "mutating": true},
		"export": {"need": 3},
		"delete": {"need": 3, "mutating": true},
	},
	"resource": {
		"use": {"need": 1},
		"write": {"need": 2},
		"configure": {"need": 3},
	},
}

folder_actions := {
	"use": {"need": 1},
	"create": {"need": 2, "mutating": true},
	"manage": {"need": 3, "mutating": true},
	"create-folder": {"need": 2, "mutating": true, "create_folder": true},
}

folder_types := {"appfolder": "app", "workflowfolder": "workflow", "resourcefolder": "resource"}

# The built-in roles' fixed levels (Admin is handled apart: nothing lowers it).
builtin_levels := {
	"Viewer": {"app": 1, "workflow": 1, "resource": 1},
	"Editor": {"app": 2, "workflow": 2, "resource": 3},
}

on_folder if folder_types[input.target.type]

kind := folder_types[input.target.type]

kind := input.target.type if object_actions[input.target.type]

action := folder_actions[input.action] if on_folder

action := object_actions[input.target.type][input.action]

user := lower(input.user)

# The groups that list the user or that one of their IdP groups maps to.
joined contains g if some g in data.space.members[user]

joined contains g if {
	some idp in input.groups
	some g in data.space.idp[idp]
}

member if count(joined) > 0

member if {
	data.space.jit.enabled
	[_, domain] := split(user, "@")
	jit_admits(domain)
}

jit_admits(_) if count(data.space.jit.domains) == 0

jit_admits(domain) if data.space.jit.domains[domain]

# Every member is in AllUsers.
groups contains g if some g in joined

groups contains data.space.all_users if member

admin if {
	some g in joined
	data.space.groups[g].builtin == "Admin"
}

read_only if {
	action.mutating
	data.space.environments[input.environment].read_only
}

# The folder path the level is looked up from: the folder itself, or the
# folder the object lives in; its prefixes, the longest first.
path := trim(input.target.name, "/") if on_folder

path := trim(object.get(input, "folder", ""), "/") if not on_folder

prefixes := [concat("/", array.slice(parts, 0, n)) | some n in numbers.range(count(parts), 1)] if {
	path != ""
	parts := split(path, "/")
}

prefixes := [] if path == ""

# A group's level: its object rule, else its nearest folder rule, else its
# universal level. The most specific wins even when lower; among a group's
# rules on the very same target, the highest.
group_level(g) := max({rule_level(r) | some r in data.space.object_rules[kind][input.target.name][g]}) if {
	not on_folder
	data.space.object_rules[kind][input.target.name][g]
} else := max(rules[found[0]]) if {
	rules := data.space.folder_rules[kind][g]
	found := [p | some p in prefixes; rules[p]]
	count(found) > 0
} else := universal(g)

# An object rule's level: its override for the environment, if any.
rule_level(r) := l if {
	l := r.environments[input.environment]
} else := r.level

universal(g) := l if {
	l := builtin_levels[data.space.groups[g].builtin][kind]
} else := data.space.groups[g].universal[kind]

level := 3 if admin

level := max({group_level(g) | some g in groups}) if not admin

# Built-ins but Admin carry no additional permissions; Admin has them all.
unpublished_releases(g) if data.space.groups[g].builtin == "Admin"

unpublished_releases(g) if {
	not builtin_levels[data.space.groups[g].builtin]
	data.space.groups[g].unpublished_releases
}

default allow := false

allow if {
	member
	not read_only
	not action.create_folder
	level >= action.need
}

# view-unpublished: Edit, or Use plus unpublishedReleases on one of the user's groups.
allow if {
	member
	action.unpublished
	level >= 1
	some g in groups
	unpublished_releases(g)
}

# create-folder: Admin, or a universal level of at least Edit for the type.
allow if {
	member
	not read_only
	action.create_folder
	admin
}

allow if {
	member
	not read_only
	action.create_folder
	some g in groups
	universal(g) >= 2
}

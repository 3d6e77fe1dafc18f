package importer

import (
	"fmt"
	"sort"
	"strings"

	"github.com/governor-dev/governor/internal/access"
)

// builtinNames are the PermissionGroup names of Retool's default groups:
// those the Space controller gives the default groups it creates, so that
// applying the imported groups adopts them.
var builtinNames = map[string]struct {
	name    string
	builtin access.Builtin
}{
	"All Users": {"all-users", access.AllUsers},
	"viewer":    {"viewer", access.Viewer},
	"editor":    {"editor", access.Editor},
	"admin":     {"admin", access.Admin},
}

// maxSlug bounds a group's PermissionGroup name, leaving room in its
// AccessRules' names for the level and a chunk number.
const maxSlug = 48

// slug makes a Kubernetes name of a group's name: lower-case ASCII letters
// and digits, every other run of characters one '-' ("Finance Team" ->
// "finance-team"); "" when nothing is left.
func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
	}
	s := b.String()
	if len(s) > maxSlug {
		s = strings.TrimRight(s[:maxSlug], "-")
	}
	return s
}

// groupNames gives every instance group (by its name in the instance) its
// PermissionGroup name: Retool's default groups their default names,
// the others the slug of their name. Names are handed out in the byte
// order of the instance names, so a clash always resolves the same way:
// the first keeps the slug, the next get -2, -3, ...; a name with no
// letter or digit becomes group, group-2, ...
func groupNames(instanceNames []string) map[string]string {
	out := make(map[string]string, len(instanceNames))
	taken := map[string]bool{}
	for inst, b := range builtinNames {
		taken[b.name] = true
		out[inst] = b.name
	}
	sorted := append([]string(nil), instanceNames...)
	sort.Strings(sorted)
	for _, inst := range sorted {
		if _, done := out[inst]; done {
			continue
		}
		base := slug(inst)
		if base == "" {
			base = "group"
		}
		name := base
		for n := 2; taken[name]; n++ {
			name = fmt.Sprintf("%s-%d", base, n)
		}
		taken[name] = true
		out[inst] = name
	}
	return out
}

// builtinOf is the built-in role of an instance group ("" for a custom one).
func builtinOf(instanceName string) access.Builtin {
	return builtinNames[instanceName].builtin
}

// validName reports whether an object name or folder path can be a rule
// target: non-empty '/'-separated segments without whitespace, none of
// them '.' or '..' (an object name has one segment), at most 512 bytes.
func validName(name string, folder bool) bool {
	if name == "" || len(name) > 512 || strings.ContainsAny(name, " \t\n\r\v\f\u0085\u00a0") {
		return false
	}
	for _, seg := range strings.Split(name, "/") {
		if seg == "" || seg == "." || seg == ".." || !folder && seg != name {
			return false
		}
	}
	return true
}

// levelRank orders Retool's level names: none (or "") < use < edit < own.
func levelRank(level string) int {
	switch level {
	case "use":
		return 1
	case "edit":
		return 2
	case "own":
		return 3
	}
	return 0
}

// higher is the higher of two Retool levels ("" counts as none).
func higher(a, b string) string {
	if levelRank(b) > levelRank(a) {
		return b
	}
	return a
}

// norm spells "" as none.
func norm(level string) string {
	if levelRank(level) == 0 {
		return "none"
	}
	return level
}

// retoolLevel spells an access level as Retool does.
func retoolLevel(l access.Level) string {
	switch l {
	case access.Use:
		return "use"
	case access.Edit:
		return "edit"
	case access.Own:
		return "own"
	}
	return "none"
}

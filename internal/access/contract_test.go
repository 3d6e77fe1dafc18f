package access

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// These tests hold the engine to shared/design/access-model.md row by row;
// spec_test.go has the worked example and the first pass over each section.

// oneGroup is a Space with one custom group holding u@x.io, its universal
// levels set to l (the query library to at most Edit), and the given rules.
func oneGroup(l Level, rules ...Rule) SpaceInput {
	for i := range rules {
		rules[i].Group = "g"
	}
	return SpaceInput{Name: "s", Environments: []Environment{{Name: "development"}, {Name: "production", ReadOnly: true}},
		Groups: []Group{{Name: "g", Members: []Member{{Email: "u@x.io"}},
			Universal: Universal{Apps: l, Workflows: l, Resources: l, QueryLibrary: min(l, Edit)}}},
		Rules: rules}
}

func mustCheck(t *testing.T, s *Snapshot, req Request) Decision {
	t.Helper()
	d, err := s.Check(req)
	if err != nil {
		t.Fatalf("Check(%+v): %v", req, err)
	}
	if d.Allowed != (d.Reason == ReasonGranted) {
		t.Fatalf("Allowed=%v but Reason=%s", d.Allowed, d.Reason)
	}
	return d
}

func target(t *testing.T, s string) Target {
	t.Helper()
	tg, err := ParseTarget(s)
	if err != nil {
		t.Fatalf("ParseTarget(%q): %v", s, err)
	}
	return tg
}

// The action table of access-model.md: every target type lists exactly the
// spec's actions, and every object, folder and query-library action needs
// exactly its level, whether that level comes from the universal level, an
// object rule or a folder rule.
func TestActionTableRows(t *testing.T) {
	spec := map[TargetType][]string{
		TargetApp:            {"use", "edit", "release", "view-unpublished", "rename", "move", "export", "delete", "share"},
		TargetWorkflow:       {"use", "run", "edit", "rename", "move", "export", "delete"},
		TargetResource:       {"use", "write", "configure"},
		TargetAppFolder:      {"use", "create", "manage", "create-folder"},
		TargetWorkflowFolder: {"use", "create", "manage", "create-folder"},
		TargetResourceFolder: {"use", "create", "manage", "create-folder"},
		TargetQueryLibrary:   {"use", "edit"},
		TargetSpace:          {"view-users", "view-audit-log", "view-usage-analytics", "manage-themes", "view-account-details", "manage-settings"},
		TargetGroup:          {"manage-members"},
	}
	for typ, actions := range spec {
		t.Run("actions of "+string(typ), func(t *testing.T) {
			want := slices.Clone(actions)
			slices.Sort(want)
			if got := Actions(typ); !slices.Equal(got, want) {
				t.Errorf("Actions(%s) = %v, want %v", typ, got, want)
			}
		})
	}

	rows := map[string]struct {
		target, action string
		need           Level
	}{
		"app use":                    {"app/a", "use", Use},
		"app edit":                   {"app/a", "edit", Edit},
		"app release":                {"app/a", "release", Edit},
		"app view-unpublished":       {"app/a", "view-unpublished", Edit},
		"app rename":                 {"app/a", "rename", Own},
		"app move":                   {"app/a", "move", Own},
		"app export":                 {"app/a", "export", Own},
		"app delete":                 {"app/a", "delete", Own},
		"app share":                  {"app/a", "share", Own},
		"workflow use":               {"workflow/w", "use", Use},
		"workflow run (alias)":       {"workflow/w", "run", Use},
		"workflow edit":              {"workflow/w", "edit", Edit},
		"workflow rename":            {"workflow/w", "rename", Own},
		"workflow move":              {"workflow/w", "move", Own},
		"workflow export":            {"workflow/w", "export", Own},
		"workflow delete":            {"workflow/w", "delete", Own},
		"resource use":               {"resource/r", "use", Use},
		"resource write":             {"resource/r", "write", Edit},
		"resource configure":         {"resource/r", "configure", Own},
		"appfolder use":              {"appfolder/f/g", "use", Use},
		"appfolder create":           {"appfolder/f/g", "create", Edit},
		"appfolder manage":           {"appfolder/f/g", "manage", Own},
		"workflowfolder use":         {"workflowfolder/f/g", "use", Use},
		"workflowfolder create":      {"workflowfolder/f/g", "create", Edit},
		"workflowfolder manage":      {"workflowfolder/f/g", "manage", Own},
		"resourcefolder use":         {"resourcefolder/f/g", "use", Use},
		"resourcefolder create":      {"resourcefolder/f/g", "create", Edit},
		"resourcefolder manage":      {"resourcefolder/f/g", "manage", Own},
		"querylibrary use":           {"querylibrary", "use", Use},
		"querylibrary edit":          {"querylibrary", "edit", Edit},
		"appfolder create-folder":    {"appfolder/f", "create-folder", Edit},
		"resourcefolder create-fold": {"resourcefolder/f", "create-folder", Edit},
	}
	kindOf := map[TargetType]Kind{TargetApp: App, TargetWorkflow: Workflow, TargetResource: Resource,
		TargetAppFolder: App, TargetWorkflowFolder: Workflow, TargetResourceFolder: Resource}
	for name, tc := range rows {
		t.Run(name, func(t *testing.T) {
			tg := target(t, tc.target)
			// sources: the level coming from the universal level, an object
			// rule and a folder rule (objects live in f/g; folders are f/g).
			sources := map[string]func(Level) SpaceInput{
				"universal": func(l Level) SpaceInput { return oneGroup(l) },
			}
			if k, ok := kindOf[tg.Type]; ok && tc.action != "create-folder" {
				folder := tg.Type != TargetApp && tg.Type != TargetWorkflow && tg.Type != TargetResource
				sources["folder rule"] = func(l Level) SpaceInput {
					if l == None {
						return oneGroup(None)
					}
					return oneGroup(None, Rule{Name: "r", Level: l, Targets: []RuleTarget{{Kind: k, Folder: true, Name: "f"}}})
				}
				if !folder {
					sources["object rule"] = func(l Level) SpaceInput {
						if l == None {
							return oneGroup(None)
						}
						return oneGroup(None, Rule{Name: "r", Level: l, Targets: []RuleTarget{{Kind: k, Name: tg.Name}}})
					}
				}
			}
			for src, space := range sources {
				req := Request{User: "u@x.io", Action: tc.action, Target: tg, Folder: "f/g"}
				enough := mustCheck(t, mustCompile(t, space(tc.need)), req)
				if !enough.Allowed || enough.Required != tc.need || enough.Level < tc.need {
					t.Errorf("%s %s with %s from the %s: allowed=%v required=%s level=%s (%s)", tc.action, tc.target, tc.need, src, enough.Allowed, enough.Required, enough.Level, enough.Message)
				}
				short := mustCheck(t, mustCompile(t, space(tc.need-1)), req)
				if short.Allowed || short.Reason != ReasonInsufficientLevel || short.Required != tc.need {
					t.Errorf("%s %s with %s from the %s: allowed=%v reason=%s required=%s", tc.action, tc.target, tc.need-1, src, short.Allowed, short.Reason, short.Required)
				}
			}
		})
	}
}

// view-unpublished: Edit, or Use plus additional.unpublishedReleases on one
// of the user's groups (not necessarily the group that gives Use).
func TestViewUnpublishedRows(t *testing.T) {
	in := SpaceInput{Name: "s", Groups: []Group{
		{Name: "users", Members: []Member{{Email: "u@x.io"}, {Email: "n@x.io"}}, Universal: Universal{Apps: Use}},
		{Name: "flagged", Members: []Member{{Email: "u@x.io"}, {Email: "f@x.io"}}, Additional: Additional{UnpublishedReleases: true}},
		{Name: "editors", Members: []Member{{Email: "e@x.io"}}, Universal: Universal{Apps: Edit}},
	}}
	s := mustCompile(t, in)
	cases := map[string]struct {
		user    string
		allowed bool
		reason  string
	}{
		"Use plus the flag on another of the user's groups": {"u@x.io", true, ReasonGranted},
		"Use without the flag":                              {"n@x.io", false, ReasonInsufficientLevel},
		"the flag without Use":                              {"f@x.io", false, ReasonInsufficientLevel},
		"Edit alone":                                        {"e@x.io", true, ReasonGranted},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := mustCheck(t, s, Request{User: tc.user, Action: "view-unpublished", Target: target(t, "app/a")})
			if d.Allowed != tc.allowed || d.Reason != tc.reason {
				t.Fatalf("allowed=%v reason=%s (%s), want %v %s", d.Allowed, d.Reason, d.Message, tc.allowed, tc.reason)
			}
		})
	}
}

// The space and group rows: Admin or the matching additional flag (on any
// of the user's groups, AllUsers included); manage-settings only Admin;
// manage-members Admin or a group admin of that very group.
func TestSpaceAndGroupRows(t *testing.T) {
	flags := map[string]Additional{
		"view-users":           {UserList: true},
		"view-audit-log":       {AuditLog: true},
		"view-usage-analytics": {UsageAnalytics: true},
		"manage-themes":        {Themes: true},
		"view-account-details": {AccountDetails: true},
	}
	for action, flag := range flags {
		t.Run(action, func(t *testing.T) {
			in := SpaceInput{Name: "s", Groups: []Group{
				{Name: "flagged", Members: []Member{{Email: "f@x.io"}}, Additional: flag},
				{Name: "others", Members: []Member{{Email: "o@x.io"}},
					Universal:  Universal{Apps: Own, Workflows: Own, Resources: Own, QueryLibrary: Edit},
					Additional: everyFlagBut(flag)},
				{Name: "admins", Builtin: Admin, Members: []Member{{Email: "a@x.io"}}},
			}}
			s := mustCompile(t, in)
			for user, want := range map[string]bool{"f@x.io": true, "o@x.io": false, "a@x.io": true} {
				d := mustCheck(t, s, Request{User: user, Action: action, Target: Target{Type: TargetSpace}})
				if d.Allowed != want {
					t.Errorf("%s %s: %v (%s), want %v", user, action, d.Allowed, d.Message, want)
				}
				if !want && d.Reason != ReasonNotPermitted {
					t.Errorf("%s %s: reason %s, want NotPermitted", user, action, d.Reason)
				}
			}
			// AllUsers' additional flags reach every member (decision in the built-in table).
			in.Groups = append(in.Groups, Group{Name: "everyone", Builtin: AllUsers, Additional: flag})
			s = mustCompile(t, in)
			if d := mustCheck(t, s, Request{User: "o@x.io", Action: action, Target: Target{Type: TargetSpace}}); !d.Allowed || d.Group != "everyone" {
				t.Errorf("AllUsers' %s reaches every member: %+v", action, d)
			}
		})
	}
	t.Run("manage-settings", func(t *testing.T) {
		in := SpaceInput{Name: "s", Groups: []Group{
			{Name: "all-flags", Members: []Member{{Email: "f@x.io"}}, Additional: everyFlagBut(Additional{}),
				Universal: Universal{Apps: Own, Workflows: Own, Resources: Own, QueryLibrary: Edit}},
			{Name: "admins", Builtin: Admin, Members: []Member{{Email: "a@x.io"}}},
		}}
		s := mustCompile(t, in)
		if d := mustCheck(t, s, Request{User: "f@x.io", Action: "manage-settings", Target: Target{Type: TargetSpace}}); d.Allowed || d.Reason != ReasonNotPermitted {
			t.Errorf("every flag and Own everywhere still is not Admin: %+v", d)
		}
		if d := mustCheck(t, s, Request{User: "a@x.io", Action: "manage-settings", Target: Target{Type: TargetSpace}}); !d.Allowed {
			t.Errorf("Admin manages settings: %+v", d)
		}
	})
	t.Run("manage-members", func(t *testing.T) {
		in := SpaceInput{Name: "s", Groups: []Group{
			{Name: "team", Members: []Member{{Email: "lead@x.io", GroupAdmin: true}, {Email: "dev@x.io"}}},
			{Name: "other", Members: []Member{{Email: "lead2@x.io", GroupAdmin: true}, {Email: "lead@x.io"}}},
			{Name: "admins", Builtin: Admin, Members: []Member{{Email: "a@x.io"}}},
		}}
		s := mustCompile(t, in)
		cases := map[string]struct {
			user, group string
			allowed     bool
		}{
			"a group admin manages its group":                   {"LEAD@x.io", "team", true},
			"a plain member does not":                           {"dev@x.io", "team", false},
			"a group admin of another group does not":           {"lead2@x.io", "team", false},
			"being a plain member of other gives nothing there": {"lead@x.io", "other", false},
			"Admin manages every group":                         {"a@x.io", "other", true},
			"Admin manages its own group":                       {"a@x.io", "admins", true},
		}
		for name, tc := range cases {
			t.Run(name, func(t *testing.T) {
				d := mustCheck(t, s, Request{User: tc.user, Action: "manage-members", Target: Target{Type: TargetGroup, Name: tc.group}})
				if d.Allowed != tc.allowed {
					t.Fatalf("allowed=%v (%s), want %v", d.Allowed, d.Message, tc.allowed)
				}
				if tc.allowed && tc.user != "a@x.io" && (d.Source == nil || d.Source.Kind != SourceGroupAdmin || d.Group != tc.group) {
					t.Fatalf("the decision names the group admin source: %+v", d)
				}
			})
		}
	})
}

func everyFlagBut(f Additional) Additional {
	return Additional{UserList: !f.UserList, AuditLog: !f.AuditLog, UnpublishedReleases: true,
		UsageAnalytics: !f.UsageAnalytics, Themes: !f.Themes, AccountDetails: !f.AccountDetails}
}

// The built-in groups table, row by row.
func TestBuiltinGroupsTable(t *testing.T) {
	in := SpaceInput{Name: "s", Groups: []Group{
		{Name: "everyone", Builtin: AllUsers, Universal: Universal{Apps: Use, Workflows: Edit, Resources: None, QueryLibrary: Use},
			Additional: Additional{AuditLog: true}},
		{Name: "viewers", Builtin: Viewer, Members: []Member{{Email: "v@x.io"}}},
		{Name: "editors", Builtin: Editor, Members: []Member{{Email: "e@x.io"}}},
		{Name: "admins", Builtin: Admin, Members: []Member{{Email: "a@x.io"}}},
		{Name: "plain", Members: []Member{{Email: "p@x.io"}}},
	}}
	s := mustCompile(t, in)
	type row struct {
		app, workflow, resource, queryLibrary Level
	}
	table := map[string]row{
		"p@x.io": {Use, Edit, None, Use},  // AllUsers: from spec.universal
		"v@x.io": {Use, Edit, Use, Use},   // Viewer: Use, Use, Use, Use (+ AllUsers)
		"e@x.io": {Edit, Edit, Own, Edit}, // Editor: Edit, Edit, Own, Edit
		"a@x.io": {Own, Own, Own, Edit},   // Admin: Own, Own, Own, Edit
	}
	for user, want := range table {
		t.Run(user, func(t *testing.T) {
			got := row{}
			for tgt, lvl := range map[string]*Level{"app/a": &got.app, "workflow/w": &got.workflow, "resource/r": &got.resource, "querylibrary": &got.queryLibrary} {
				*lvl = mustCheck(t, s, Request{User: user, Action: "use", Target: target(t, tgt)}).Level
			}
			if got != want {
				t.Errorf("levels (app, workflow, resource, query library) = %v, want %v", got, want)
			}
		})
	}
	// Without AllUsers' levels, each builtin on its own.
	alone := SpaceInput{Name: "s", Groups: in.Groups[1:]}
	s = mustCompile(t, alone)
	for user, want := range map[string]row{"v@x.io": {Use, Use, Use, Use}, "e@x.io": {Edit, Edit, Own, Edit}, "a@x.io": {Own, Own, Own, Edit}, "p@x.io": {None, None, None, None}} {
		got := row{}
		for tgt, lvl := range map[string]*Level{"app/a": &got.app, "workflow/w": &got.workflow, "resource/r": &got.resource, "querylibrary": &got.queryLibrary} {
			*lvl = mustCheck(t, s, Request{User: user, Action: "use", Target: target(t, tgt)}).Level
		}
		if got != want {
			t.Errorf("%s alone: levels = %v, want %v", user, got, want)
		}
	}
	// Viewer: run queries, no configuration; Editor: write queries and update configuration.
	if d := mustCheck(t, s, Request{User: "v@x.io", Action: "configure", Target: target(t, "resource/r")}); d.Allowed {
		t.Error("a Viewer does not configure resources")
	}
	if d := mustCheck(t, s, Request{User: "e@x.io", Action: "configure", Target: target(t, "resource/r")}); !d.Allowed {
		t.Error("an Editor configures resources")
	}
	// Organisation: Retool's default groups' flags (Viewer: user list and
	// account details; Editor: those and unpublished releases; Admin:
	// everything), AllUsers from spec.additional (here the audit log).
	s = mustCompile(t, in)
	orgActions := []string{"view-users", "view-audit-log", "view-usage-analytics", "manage-themes", "view-account-details"}
	for user, want := range map[string][5]bool{
		"v@x.io": {true, true, false, false, true},
		"e@x.io": {true, true, false, false, true},
		"a@x.io": {true, true, true, true, true},
		"p@x.io": {false, true, false, false, false},
	} {
		for i, action := range orgActions {
			if d := mustCheck(t, s, Request{User: user, Action: action, Target: Target{Type: TargetSpace}}); d.Allowed != want[i] {
				t.Errorf("%s %s: %v, want %v", user, action, d.Allowed, want[i])
			}
		}
	}
	s = mustCompile(t, alone)
	for user, want := range map[string]bool{"v@x.io": false, "e@x.io": true, "a@x.io": true} {
		if d := mustCheck(t, s, Request{User: user, Action: "view-unpublished", Target: target(t, "app/a")}); d.Allowed != want {
			t.Errorf("%s view-unpublished: %v, want %v (%s)", user, d.Allowed, want, d.Message)
		}
	}
	// spec.universal and spec.additional on Viewer, Editor and Admin are
	// refused by the CRD; offline input that carries them anyway does not
	// change the fixed levels.
	fixed := SpaceInput{Name: "s", Groups: []Group{
		{Name: "viewers", Builtin: Viewer, Members: []Member{{Email: "v@x.io"}}, Universal: Universal{Apps: Own, QueryLibrary: Edit}, Additional: everyFlagBut(Additional{})},
		{Name: "editors", Builtin: Editor, Members: []Member{{Email: "e@x.io"}}, Universal: Universal{Apps: Own}, Additional: everyFlagBut(Additional{})},
	}}
	s = mustCompile(t, fixed)
	for _, user := range []string{"v@x.io", "e@x.io"} {
		if d := mustCheck(t, s, Request{User: user, Action: "delete", Target: target(t, "app/a")}); d.Allowed {
			t.Errorf("%s: a built-in role's universal levels are fixed: %+v", user, d)
		}
		for _, action := range []string{"view-audit-log", "view-usage-analytics", "manage-themes"} {
			if d := mustCheck(t, s, Request{User: user, Action: action, Target: Target{Type: TargetSpace}}); d.Allowed {
				t.Errorf("%s %s: the input's spec.additional does not add to the role's flags: %+v", user, action, d)
			}
		}
	}
	if d := mustCheck(t, s, Request{User: "v@x.io", Action: "edit", Target: Target{Type: TargetQueryLibrary}}); d.Allowed {
		t.Errorf("a Viewer's query-library level is Use whatever the input says: %+v", d)
	}
	if d := mustCheck(t, s, Request{User: "v@x.io", Action: "view-unpublished", Target: target(t, "app/a")}); d.Allowed {
		t.Errorf("a Viewer does not open unpublished releases: %+v", d)
	}
}

// Precedence inside a group and across groups.
func TestPrecedenceRows(t *testing.T) {
	in := SpaceInput{Name: "s", Groups: []Group{
		{Name: "broad", Members: []Member{{Email: "u@x.io"}, {Email: "both@x.io"}}, Universal: Universal{Apps: Edit, Workflows: Own}},
		{Name: "second", Members: []Member{{Email: "both@x.io"}}, Universal: Universal{Apps: Use}},
		{Name: "admins", Builtin: Admin, Members: []Member{{Email: "a@x.io"}}},
	}, Rules: []Rule{
		{Name: "narrow-folder", Group: "broad", Level: Use, Targets: []RuleTarget{{Kind: App, Folder: true, Name: "a"}}},
		{Name: "deep-folder", Group: "broad", Level: Own, Targets: []RuleTarget{{Kind: App, Folder: true, Name: "a/b"}}},
		{Name: "narrow-object", Group: "broad", Level: Use, Targets: []RuleTarget{{Kind: App, Name: "pinned"}}},
		{Name: "object-lower", Group: "broad", Level: None + Use, Targets: []RuleTarget{{Kind: Workflow, Name: "wf"}}},
		{Name: "object-higher", Group: "broad", Level: Own, Targets: []RuleTarget{{Kind: Workflow, Name: "wf"}}},
		{Name: "second-deep", Group: "second", Level: Own, Targets: []RuleTarget{{Kind: App, Folder: true, Name: "a/c"}}},
		{Name: "admin-narrow", Group: "admins", Level: Use, Targets: []RuleTarget{{Kind: App, Name: "pinned"}, {Kind: App, Folder: true, Name: "a"}}},
	}}
	s := mustCompile(t, in)
	cases := map[string]struct {
		user, target, folder string
		level                Level
		group                string
		source               SourceKind
		rule, ruleFolder     string
	}{
		"universal when no rule applies":                {"u@x.io", "app/x", "z", Edit, "broad", SourceUniversal, "", ""},
		"a folder rule narrows universal (lower wins)":  {"u@x.io", "app/x", "a", Use, "broad", SourceFolderRule, "narrow-folder", "a"},
		"inherited by items deep inside":                {"u@x.io", "app/x", "a/z/y/x", Use, "broad", SourceFolderRule, "narrow-folder", "a"},
		"the nearest folder wins over its ancestor":     {"u@x.io", "app/x", "a/b/c", Own, "broad", SourceFolderRule, "deep-folder", "a/b"},
		"a sibling path is not a descendant":            {"u@x.io", "app/x", "a/bb", Use, "broad", SourceFolderRule, "narrow-folder", "a"},
		"a name prefix is not a folder prefix":          {"u@x.io", "app/x", "ab", Edit, "broad", SourceUniversal, "", ""},
		"an object rule beats the nearest folder":       {"u@x.io", "app/pinned", "a/b", Use, "broad", SourceObjectRule, "narrow-object", ""},
		"an object rule applies in any folder":          {"u@x.io", "app/pinned", "", Use, "broad", SourceObjectRule, "narrow-object", ""},
		"highest of several rules on one target":        {"u@x.io", "workflow/wf", "", Own, "broad", SourceObjectRule, "object-higher", ""},
		"the folder's own level: a rule on it":          {"u@x.io", "appfolder/a/b", "", Own, "broad", SourceFolderRule, "deep-folder", "a/b"},
		"the folder's own level: its nearest ancestor":  {"u@x.io", "appfolder/a/q", "", Use, "broad", SourceFolderRule, "narrow-folder", "a"},
		"the folder's own level: universal":             {"u@x.io", "appfolder/q", "", Edit, "broad", SourceUniversal, "", ""},
		"max across groups: the other group is higher":  {"both@x.io", "app/x", "a/c", Own, "second", SourceFolderRule, "second-deep", "a/c"},
		"max across groups: one group's narrowing only": {"both@x.io", "app/x", "a", Use, "broad", SourceFolderRule, "narrow-folder", "a"},
		"Admin is never lowered by an object rule":      {"a@x.io", "app/pinned", "a", Own, "admins", SourceBuiltin, "", ""},
		"Admin is never lowered by a folder rule":       {"a@x.io", "app/x", "a/b", Own, "admins", SourceBuiltin, "", ""},
		"folder rules are per type":                     {"u@x.io", "workflow/x", "a", Own, "broad", SourceUniversal, "", ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := mustCheck(t, s, Request{User: tc.user, Action: "use", Target: target(t, tc.target), Folder: tc.folder})
			if d.Level != tc.level || d.Group != tc.group || d.Source == nil || d.Source.Kind != tc.source || d.Source.Rule != tc.rule || d.Source.Folder != tc.ruleFolder {
				t.Fatalf("level %s from %s %+v, want %s from %s %s %q %q", d.Level, d.Group, d.Source, tc.level, tc.group, tc.source, tc.rule, tc.ruleFolder)
			}
		})
	}
	// Folder paths are canonical: anything else is invalid input, not a
	// path that happens to match.
	for _, p := range []string{"/a/b/", "/a/b", "a/b/", "a//b", "a/./b", "a/../b", ".", ".."} {
		_, err := s.Check(Request{User: "u@x.io", Action: "manage", Target: Target{Type: TargetAppFolder, Name: p}})
		var in *InvalidInputError
		if !errors.As(err, &in) || in.Reason != ReasonUnknownTarget {
			t.Errorf("target appfolder/%s: %v, want invalid input", p, err)
		}
		_, err = s.Check(Request{User: "u@x.io", Action: "use", Target: Target{Type: TargetApp, Name: "x"}, Folder: p})
		if !errors.As(err, &in) || in.Reason != ReasonInvalidFolder {
			t.Errorf("folder %s: %v, want invalid input (%s)", p, err, ReasonInvalidFolder)
		}
	}
}

// Environment overrides and read-only environments.
func TestEnvironmentRows(t *testing.T) {
	in := SpaceInput{Name: "s",
		Environments: []Environment{{Name: "development"}, {Name: "staging", ReadOnly: true}, {Name: "production", ReadOnly: true}},
		Groups: []Group{
			{Name: "ops", Members: []Member{{Email: "o@x.io"}}},
			{Name: "admins", Builtin: Admin, Members: []Member{{Email: "a@x.io"}}},
			{Name: "editors", Builtin: Editor, Members: []Member{{Email: "e@x.io"}}},
		},
		Rules: []Rule{
			{Name: "db-edit", Group: "ops", Level: Edit, Targets: []RuleTarget{{Kind: Resource, Name: "db",
				Environments: []EnvironmentLevel{{Name: "production", Level: Use}, {Name: "staging", Level: Own}}}}},
			// several rules on one target: per environment, each gives its override or its level; the highest counts.
			{Name: "cache-own", Group: "ops", Level: Own, Targets: []RuleTarget{{Kind: Resource, Name: "cache",
				Environments: []EnvironmentLevel{{Name: "staging", Level: Use}}}}},
			{Name: "cache-edit", Group: "ops", Level: Edit, Targets: []RuleTarget{{Kind: Resource, Name: "cache",
				Environments: []EnvironmentLevel{{Name: "production", Level: Use}}}}},
		},
	}
	s := mustCompile(t, in)
	levels := map[string]struct {
		target, env string
		level       Level
		rule        string
		override    string
	}{
		"an override replaces the level (lower)":              {"resource/db", "production", Use, "db-edit", "production"},
		"an override replaces the level (higher)":             {"resource/db", "staging", Own, "db-edit", "staging"},
		"an environment without override inherits":            {"resource/db", "development", Edit, "db-edit", ""},
		"no environment: no override":                         {"resource/db", "", Edit, "db-edit", ""},
		"several rules: an inherited level beats an override": {"resource/cache", "production", Own, "cache-own", ""},
		"several rules: an override lowers only its own rule": {"resource/cache", "staging", Edit, "cache-edit", ""},
		"several rules, no overrides there: the higher":       {"resource/cache", "development", Own, "cache-own", ""},
	}
	for name, tc := range levels {
		t.Run(name, func(t *testing.T) {
			d := mustCheck(t, s, Request{User: "o@x.io", Action: "use", Target: target(t, tc.target), Environment: tc.env})
			if d.Level != tc.level || d.Source == nil || d.Source.Rule != tc.rule {
				t.Fatalf("level %s from %+v, want %s from %s", d.Level, d.Source, tc.level, tc.rule)
			}
			if d.Source.Environment != tc.override {
				t.Fatalf("the source names the override for %s: %+v", tc.override, d.Source)
			}
		})
	}

	mutating := []struct{ action, target string }{
		{"edit", "app/a"}, {"release", "app/a"}, {"rename", "app/a"}, {"move", "app/a"}, {"delete", "app/a"}, {"share", "app/a"},
		{"edit", "workflow/w"}, {"rename", "workflow/w"}, {"move", "workflow/w"}, {"delete", "workflow/w"},
		{"create", "appfolder/f"}, {"manage", "appfolder/f"}, {"create-folder", "appfolder/f"},
		{"create", "workflowfolder/f"}, {"manage", "workflowfolder/f"}, {"create-folder", "workflowfolder/f"},
		{"create", "resourcefolder/f"}, {"manage", "resourcefolder/f"}, {"create-folder", "resourcefolder/f"},
		{"edit", "querylibrary"},
	}
	unaffected := []struct{ action, target string }{
		{"use", "app/a"}, {"export", "app/a"}, {"view-unpublished", "app/a"},
		{"use", "workflow/w"}, {"run", "workflow/w"}, {"export", "workflow/w"},
		{"use", "resource/r"}, {"write", "resource/r"}, {"configure", "resource/r"},
		{"use", "appfolder/f"}, {"use", "workflowfolder/f"}, {"use", "resourcefolder/f"}, {"use", "querylibrary"},
		{"view-users", "space"}, {"manage-settings", "space"}, {"manage-members", "group/ops"},
	}
	for _, env := range []string{"staging", "production"} {
		for _, a := range mutating {
			t.Run(env+" refuses "+a.action+" "+a.target, func(t *testing.T) {
				for _, user := range []string{"a@x.io", "e@x.io"} {
					d := mustCheck(t, s, Request{User: user, Action: a.action, Target: target(t, a.target), Environment: env})
					if d.Allowed || d.Reason != ReasonReadOnlyEnvironment {
						t.Errorf("%s: allowed=%v reason=%s, want ReadOnlyEnvironment", user, d.Allowed, d.Reason)
					}
				}
			})
		}
		for _, a := range unaffected {
			t.Run(env+" allows "+a.action+" "+a.target, func(t *testing.T) {
				if d := mustCheck(t, s, Request{User: "a@x.io", Action: a.action, Target: target(t, a.target), Environment: env}); !d.Allowed {
					t.Errorf("Admin: %+v", d)
				}
			})
		}
	}
	for _, env := range []string{"development", ""} {
		for _, a := range mutating {
			t.Run(fmt.Sprintf("env %q allows %s %s", env, a.action, a.target), func(t *testing.T) {
				if d := mustCheck(t, s, Request{User: "a@x.io", Action: a.action, Target: target(t, a.target), Environment: env}); !d.Allowed {
					t.Errorf("Admin: %+v", d)
				}
			})
		}
	}
}

// Invalid input is an *InvalidInputError with its reason, never a denial.
func TestInvalidInputRows(t *testing.T) {
	s := mustCompile(t, workedExample())
	cases := map[string]struct {
		req    Request
		reason string
	}{
		"unknown environment":             {Request{User: "bob@example.com", Action: "use", Target: Target{Type: TargetApp, Name: "a"}, Environment: "qa"}, ReasonUnknownEnvironment},
		"environment names are exact":     {Request{User: "bob@example.com", Action: "use", Target: Target{Type: TargetApp, Name: "a"}, Environment: "Production"}, ReasonUnknownEnvironment},
		"unknown action":                  {Request{User: "bob@example.com", Action: "fly", Target: Target{Type: TargetApp, Name: "a"}}, ReasonUnknownAction},
		"an action of another type":       {Request{User: "bob@example.com", Action: "write", Target: Target{Type: TargetApp, Name: "a"}}, ReasonUnknownAction},
		"run is only a workflow's alias":  {Request{User: "bob@example.com", Action: "run", Target: Target{Type: TargetApp, Name: "a"}}, ReasonUnknownAction},
		"unknown target type":             {Request{User: "bob@example.com", Action: "use", Target: Target{Type: "spaceship", Name: "a"}}, ReasonUnknownTarget},
		"unknown group":                   {Request{User: "bob@example.com", Action: "manage-members", Target: Target{Type: TargetGroup, Name: "nope"}}, ReasonUnknownTarget},
		"an object without a name":        {Request{User: "bob@example.com", Action: "use", Target: Target{Type: TargetApp}}, ReasonUnknownTarget},
		"an object name with a slash":     {Request{User: "bob@example.com", Action: "use", Target: Target{Type: TargetWorkflow, Name: "a/b"}}, ReasonUnknownTarget},
		"a folder without a path":         {Request{User: "bob@example.com", Action: "use", Target: Target{Type: TargetAppFolder, Name: "/"}}, ReasonUnknownTarget},
		"the query library takes no name": {Request{User: "bob@example.com", Action: "use", Target: Target{Type: TargetQueryLibrary, Name: "x"}}, ReasonUnknownTarget},
		"no user":                         {Request{Action: "use", Target: Target{Type: TargetApp, Name: "a"}}, ReasonInvalidUser},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d, err := s.Check(tc.req)
			var e *InvalidInputError
			if !errors.As(err, &e) || e.Reason != tc.reason || e.Message == "" {
				t.Fatalf("Check: decision %+v, error %v; want an *InvalidInputError %s", d, err, tc.reason)
			}
			if tc.reason == ReasonInvalidUser {
				return
			}
			wc := tc.req
			wc.User = ""
			if _, err := s.WhoCan(wc); !errors.As(err, &e) || e.Reason != tc.reason {
				t.Fatalf("WhoCan: %v; want an *InvalidInputError %s", err, tc.reason)
			}
		})
	}
}

// Membership: listed, IdP groups (a group's idpGroups or the Space's role
// mappings), JIT; emails case-insensitive; the groups a member is in.
func TestMembershipRows(t *testing.T) {
	in := SpaceInput{Name: "s",
		SSO: SSO{RoleMappings: []RoleMapping{{IdPGroup: "eng", Group: "devs"}, {IdPGroup: "eng", Group: "ops"}}},
		Groups: []Group{
			{Name: "everyone", Builtin: AllUsers, Universal: Universal{Apps: Use}},
			{Name: "devs", Members: []Member{{Email: "Dev@X.io"}}, IdPGroups: []string{"developers"}, Universal: Universal{Workflows: Edit}},
			{Name: "ops", Universal: Universal{Resources: Own}},
		}}
	jit := in
	jit.SSO.JIT, jit.SSO.AllowedDomains = true, []string{"@Corp.example"}
	anyDomain := in
	anyDomain.SSO.JIT = true
	cases := map[string]struct {
		in         SpaceInput
		user       string
		idp        []string
		membership string
		groups     []string
	}{
		"listed":                                {in, "dev@x.io", nil, MemberListed, []string{"devs", "everyone"}},
		"listed, email case-insensitive":        {in, "DEV@x.IO", nil, MemberListed, []string{"devs", "everyone"}},
		"a group's idpGroups":                   {in, "new@x.io", []string{"developers"}, MemberIdP, []string{"devs", "everyone"}},
		"role mappings (to two groups)":         {in, "new@x.io", []string{"eng"}, MemberIdP, []string{"devs", "everyone", "ops"}},
		"listed and mapped":                     {in, "dev@x.io", []string{"eng"}, MemberListed, []string{"devs", "everyone", "ops"}},
		"an unmapped IdP group":                 {in, "new@x.io", []string{"sales"}, "", nil},
		"JIT off":                               {in, "new@corp.example", nil, "", nil},
		"JIT in an allowed domain":              {jit, "New@CORP.example", nil, MemberJIT, []string{"everyone"}},
		"JIT outside the allowed domains":       {jit, "new@x.io", nil, "", nil},
		"JIT: a subdomain is another domain":    {jit, "new@sub.corp.example", nil, "", nil},
		"JIT with no domains admits any domain": {anyDomain, "new@anywhere.example", nil, MemberJIT, []string{"everyone"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := mustCompile(t, tc.in)
			d := mustCheck(t, s, Request{User: tc.user, Groups: tc.idp, Action: "use", Target: target(t, "app/a")})
			got := slices.Clone(d.Groups)
			slices.Sort(got)
			if d.Membership != tc.membership || !slices.Equal(got, tc.groups) {
				t.Fatalf("membership %q groups %v, want %q %v", d.Membership, got, tc.membership, tc.groups)
			}
			if tc.membership == "" {
				if d.Allowed || d.Reason != ReasonNotAMember {
					t.Fatalf("a non-member is denied with NotAMember: %+v", d)
				}
				// denied everything, whatever the action
				for _, a := range []struct{ action, target string }{{"use", "querylibrary"}, {"view-users", "space"}, {"run", "workflow/w"}} {
					if d := mustCheck(t, s, Request{User: tc.user, Groups: tc.idp, Action: a.action, Target: target(t, a.target)}); d.Reason != ReasonNotAMember {
						t.Fatalf("%s %s: %+v", a.action, a.target, d)
					}
				}
			} else if !d.Allowed || d.Group != "everyone" {
				t.Fatalf("every member is in AllUsers (Use on apps): %+v", d)
			}
		})
	}
}

// A decision explains itself: the levels, the deciding group and what in it
// decided, every group's contribution, and a message.
func TestDecisionExplainsItself(t *testing.T) {
	in := workedExample()
	s := mustCompile(t, in)
	d := mustCheck(t, s, Request{User: "alice@example.com", Action: "edit", Target: target(t, "app/ledger"), Folder: "finance/reports"})
	if !d.Allowed || d.Level != Edit || d.Required != Edit || d.Group != "finance" || d.Folder != "finance/reports" ||
		d.Source == nil || *d.Source != (Source{Kind: SourceFolderRule, Rule: "finance-folder", Folder: "finance"}) ||
		d.Space != "payments" || d.Revision != s.Revision() || d.User != "alice@example.com" || d.Membership != MemberListed || d.Message == "" {
		t.Fatalf("decision: %+v", d)
	}
	want := []Contribution{
		{Group: "finance", Level: Edit, Source: Source{Kind: SourceFolderRule, Rule: "finance-folder", Folder: "finance"}},
		{Group: "all-users", Level: None, Source: Source{Kind: SourceUniversal}},
	}
	if !slices.Equal(d.Contributions, want) {
		t.Fatalf("contributions = %+v, want %+v", d.Contributions, want)
	}
	d = mustCheck(t, s, Request{User: "alice@example.com", Action: "edit", Target: target(t, "app/payouts"), Folder: "finance"})
	if d.Allowed || d.Level != Use || d.Required != Edit || d.Source.Kind != SourceObjectRule || d.Source.Rule != "finance-payouts" || d.Message == "" {
		t.Fatalf("denial: %+v", d)
	}
	d = mustCheck(t, s, Request{User: "bob@example.com", Action: "use", Target: target(t, "app/ledger")})
	if d.Group != "viewer" || d.Source.Kind != SourceBuiltin || d.Source.Builtin != Viewer {
		t.Fatalf("builtin role: %+v", d)
	}
	d = mustCheck(t, s, Request{User: "root@example.com", Action: "use", Target: target(t, "app/payouts")})
	if d.Group != "admin" || d.Source.Kind != SourceBuiltin || d.Source.Builtin != Admin || d.Level != Own {
		t.Fatalf("Admin: %+v", d)
	}
	d = mustCheck(t, s, Request{User: "olga@example.com", Action: "view-users", Target: Target{Type: TargetSpace}})
	if d.Group != "ops" || d.Source.Kind != SourceAdditional || d.Source.Flag != "userList" {
		t.Fatalf("additional: %+v", d)
	}
}

// Every row of the worked example, with the levels it implies.
func TestWorkedExampleLevels(t *testing.T) {
	s := mustCompile(t, workedExample())
	cases := map[string]struct {
		req             Request
		level, required Level
		group           string
	}{
		"alice edit app/ledger in finance/reports": {Request{User: "alice@example.com", Action: "edit", Target: Target{Type: TargetApp, Name: "ledger"}, Folder: "finance/reports"}, Edit, Edit, "finance"},
		"alice edit app/payouts in finance":        {Request{User: "alice@example.com", Action: "edit", Target: Target{Type: TargetApp, Name: "payouts"}, Folder: "finance"}, Use, Edit, "finance"},
		"bob use app/ledger":                       {Request{User: "bob@example.com", Action: "use", Target: Target{Type: TargetApp, Name: "ledger"}}, Use, Use, "viewer"},
		"bob edit app/ledger":                      {Request{User: "bob@example.com", Action: "edit", Target: Target{Type: TargetApp, Name: "ledger"}}, Use, Edit, "viewer"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := mustCheck(t, s, tc.req)
			if d.Level != tc.level || d.Required != tc.required || d.Group != tc.group {
				t.Fatalf("level %s required %s group %s, want %s %s %s", d.Level, d.Required, d.Group, tc.level, tc.required, tc.group)
			}
		})
	}
	d := mustCheck(t, s, Request{User: "carol@example.com", Action: "use", Target: Target{Type: TargetApp, Name: "ledger"}})
	if d.Allowed || d.Reason != ReasonNotAMember || len(d.Groups) != 0 || d.Group != "" {
		t.Fatalf("carol: %+v", d)
	}
}

// Compile problems name the object and the field; everything else compiles.
func TestCompileProblemRows(t *testing.T) {
	base := workedExample()
	cases := map[string]struct {
		mutate  func(*SpaceInput)
		object  ObjectRef
		field   string
		reason  string
		absent  Request // answered as if the broken object were not there
		present Request // the rest still answers
	}{
		"a rule naming a missing group": {
			func(in *SpaceInput) {
				in.Rules = append(in.Rules, Rule{Name: "ghost", Group: "nobody", Level: Own, Targets: []RuleTarget{{Kind: App, Name: "a"}}})
			},
			ObjectRef{Kind: "AccessRule", Name: "ghost"}, "spec.group", ReasonGroupNotFound,
			Request{User: "bob@example.com", Action: "delete", Target: Target{Type: TargetApp, Name: "a"}},
			Request{User: "alice@example.com", Action: "edit", Target: Target{Type: TargetApp, Name: "ledger"}, Folder: "finance"},
		},
		"an undeclared environment (the whole rule is left out)": {
			func(in *SpaceInput) {
				in.Rules = append(in.Rules, Rule{Name: "qa-db", Group: "finance", Level: Own, Targets: []RuleTarget{
					{Kind: Resource, Name: "ok-db"},
					{Kind: Resource, Name: "db", Environments: []EnvironmentLevel{{Name: "development", Level: Use}, {Name: "qa", Level: Use}}}}})
			},
			ObjectRef{Kind: "AccessRule", Name: "qa-db"}, "spec.targets[1].environments[1].name", ReasonUnknownEnvironment,
			Request{User: "alice@example.com", Action: "configure", Target: Target{Type: TargetResource, Name: "ok-db"}},
			Request{User: "alice@example.com", Action: "use", Target: Target{Type: TargetApp, Name: "payouts"}},
		},
		"a second group with the same builtin": {
			func(in *SpaceInput) {
				in.Groups = append(in.Groups, Group{Name: "zz-admins", Builtin: Admin, Members: []Member{{Email: "z@example.com"}}})
			},
			ObjectRef{Kind: "PermissionGroup", Name: "zz-admins"}, "spec.builtin", ReasonDuplicateBuiltin,
			Request{User: "z@example.com", Action: "use", Target: Target{Type: TargetApp, Name: "a"}},
			Request{User: "root@example.com", Action: "delete", Target: Target{Type: TargetApp, Name: "a"}},
		},
		"a role mapping to a missing group": {
			func(in *SpaceInput) {
				in.SSO.RoleMappings = append(in.SSO.RoleMappings, RoleMapping{IdPGroup: "x", Group: "nobody"})
			},
			ObjectRef{Kind: "Space", Name: "payments"}, "spec.sso.roleMappings[0].group", ReasonGroupNotFound,
			Request{User: "n@example.com", Groups: []string{"x"}, Action: "use", Target: Target{Type: TargetQueryLibrary}},
			Request{User: "bob@example.com", Action: "use", Target: Target{Type: TargetApp, Name: "a"}},
		},
	}
	good := mustCompile(t, base)
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			in := workedExample()
			tc.mutate(&in)
			s, problems := Compile(in)
			if len(problems) != 1 {
				t.Fatalf("problems = %v, want one", problems)
			}
			p := problems[0]
			if p.Object != tc.object || p.Field != tc.field || p.Reason != tc.reason || p.Message == "" {
				t.Fatalf("problem = %+v, want %v %s %s", p, tc.object, tc.field, tc.reason)
			}
			if s.Stats().Groups != good.Stats().Groups || s.Stats().Rules != good.Stats().Rules {
				t.Errorf("stats %+v, want those of the Space without the broken object %+v", s.Stats(), good.Stats())
			}
			if a, b := mustCheck(t, s, tc.absent), mustCheck(t, good, tc.absent); a.Allowed != b.Allowed || a.Reason != b.Reason || a.Level != b.Level {
				t.Errorf("the broken object takes part: %+v vs %+v", a, b)
			}
			if d := mustCheck(t, s, tc.present); !d.Allowed {
				t.Errorf("the rest still answers: %+v", d)
			}
		})
	}
}

// The revision: a content hash, independent of the order of objects and of
// the order inside lists, and changed by any change of content.
func TestRevisionRows(t *testing.T) {
	in := workedExample()
	in.SSO = SSO{JIT: true, AllowedDomains: []string{"a.io", "b.io"}, RoleMappings: []RoleMapping{{IdPGroup: "x", Group: "finance"}, {IdPGroup: "x", Group: "ops"}}}
	in.Groups[0].Members = append(in.Groups[0].Members, Member{Email: "zed@example.com"})
	base := mustCompile(t, in).Revision()
	if again := mustCompile(t, in).Revision(); again != base {
		t.Fatal("the same input gives another revision")
	}
	same := map[string]func(*SpaceInput){
		"groups reversed":        func(in *SpaceInput) { slices.Reverse(in.Groups) },
		"rules reversed":         func(in *SpaceInput) { slices.Reverse(in.Rules) },
		"members reversed":       func(in *SpaceInput) { slices.Reverse(in.Groups[0].Members) },
		"domains reversed":       func(in *SpaceInput) { slices.Reverse(in.SSO.AllowedDomains) },
		"role mappings reversed": func(in *SpaceInput) { slices.Reverse(in.SSO.RoleMappings) },
		"email case":             func(in *SpaceInput) { in.Groups[0].Members[0].Email = "Alice@Example.com" },
		"a domain's case":        func(in *SpaceInput) { in.Groups[0].Members[0].Email = "alice@EXAMPLE.com" },
	}
	changed := map[string]func(*SpaceInput){
		"a rule's level":         func(in *SpaceInput) { in.Rules[0].Level = Own },
		"a rule's target":        func(in *SpaceInput) { in.Rules[1].Targets[0].Name = "payouts2" },
		"an override":            func(in *SpaceInput) { in.Rules[2].Targets[0].Environments[0].Level = Own },
		"a new member":           func(in *SpaceInput) { in.Groups[1].Members = append(in.Groups[1].Members, Member{Email: "n@x.io"}) },
		"a group admin":          func(in *SpaceInput) { in.Groups[0].Members[0].GroupAdmin = true },
		"a universal level":      func(in *SpaceInput) { in.Groups[0].Universal.Workflows = Use },
		"an additional flag":     func(in *SpaceInput) { in.Groups[0].Additional.Themes = true },
		"an idp group":           func(in *SpaceInput) { in.Groups[0].IdPGroups = []string{"fin"} },
		"a read-only flag":       func(in *SpaceInput) { in.Environments[0].ReadOnly = true },
		"a new environment":      func(in *SpaceInput) { in.Environments = append(in.Environments, Environment{Name: "qa"}) },
		"JIT":                    func(in *SpaceInput) { in.SSO.JIT = false },
		"a JIT domain":           func(in *SpaceInput) { in.SSO.AllowedDomains = in.SSO.AllowedDomains[:1] },
		"a role mapping":         func(in *SpaceInput) { in.SSO.RoleMappings = in.SSO.RoleMappings[:1] },
		"the Space's name":       func(in *SpaceInput) { in.Name = "other" },
		"a group's builtin role": func(in *SpaceInput) { in.Groups[1].Builtin = Custom },
	}
	clone := func() SpaceInput {
		c := in
		c.Environments = slices.Clone(in.Environments)
		c.SSO.AllowedDomains = slices.Clone(in.SSO.AllowedDomains)
		c.SSO.RoleMappings = slices.Clone(in.SSO.RoleMappings)
		c.Groups = slices.Clone(in.Groups)
		for i := range c.Groups {
			c.Groups[i].Members = slices.Clone(c.Groups[i].Members)
		}
		c.Rules = slices.Clone(in.Rules)
		for i := range c.Rules {
			c.Rules[i].Targets = slices.Clone(c.Rules[i].Targets)
			for j := range c.Rules[i].Targets {
				c.Rules[i].Targets[j].Environments = slices.Clone(c.Rules[i].Targets[j].Environments)
			}
		}
		return c
	}
	for name, mutate := range same {
		t.Run("same: "+name, func(t *testing.T) {
			c := clone()
			mutate(&c)
			if got := mustCompile(t, c).Revision(); got != base {
				t.Errorf("the revision changed")
			}
		})
	}
	for name, mutate := range changed {
		t.Run("changed: "+name, func(t *testing.T) {
			c := clone()
			mutate(&c)
			if got := mustCompile(t, c).Revision(); got == base {
				t.Errorf("the revision did not change")
			}
		})
	}
}

// who-can: every group that grants the action, with its members.
func TestWhoCanRows(t *testing.T) {
	in := workedExample()
	in.Groups[4].Universal.Apps = Use // all-users
	s := mustCompile(t, in)
	grants := func(t *testing.T, req Request) map[string]Grant {
		t.Helper()
		res, err := s.WhoCan(req)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]Grant{}
		for _, g := range res.Grants {
			out[g.Group] = g
		}
		return out
	}
	cases := map[string]struct {
		req    Request
		groups []string
	}{
		"use app/ledger":                    {Request{Action: "use", Target: Target{Type: TargetApp, Name: "ledger"}}, []string{"admin", "all-users", "editor", "ops", "viewer"}},
		"edit app/ledger in finance":        {Request{Action: "edit", Target: Target{Type: TargetApp, Name: "ledger"}, Folder: "finance"}, []string{"admin", "editor", "finance"}},
		"edit app/payouts: Use is not Edit": {Request{Action: "edit", Target: Target{Type: TargetApp, Name: "payouts"}, Folder: "finance"}, []string{"admin", "editor"}},
		"write resource/ledger-db":          {Request{Action: "write", Target: Target{Type: TargetResource, Name: "ledger-db"}}, []string{"admin", "editor", "ops"}},
		"write resource/ledger-db in prod":  {Request{Action: "write", Target: Target{Type: TargetResource, Name: "ledger-db"}, Environment: "production"}, []string{"admin", "editor"}},
		"view-users":                        {Request{Action: "view-users", Target: Target{Type: TargetSpace}}, []string{"admin", "editor", "ops", "viewer"}},
		"view-audit-log":                    {Request{Action: "view-audit-log", Target: Target{Type: TargetSpace}}, []string{"admin", "ops"}},
		"manage-settings":                   {Request{Action: "manage-settings", Target: Target{Type: TargetSpace}}, []string{"admin"}},
		"manage-members group/ops":          {Request{Action: "manage-members", Target: Target{Type: TargetGroup, Name: "ops"}}, []string{"admin", "ops"}},
		"edit querylibrary":                 {Request{Action: "edit", Target: Target{Type: TargetQueryLibrary}}, []string{"admin", "editor"}},
		"create-folder appfolder/x":         {Request{Action: "create-folder", Target: Target{Type: TargetAppFolder, Name: "x"}}, []string{"admin", "editor"}},
		"edit in a read-only environment":   {Request{Action: "edit", Target: Target{Type: TargetApp, Name: "ledger"}, Environment: "production"}, nil},
		"use in a read-only environment":    {Request{Action: "use", Target: Target{Type: TargetApp, Name: "ledger"}, Environment: "production"}, []string{"admin", "all-users", "editor", "ops", "viewer"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := grants(t, tc.req)
			names := make([]string, 0, len(got))
			for g := range got {
				names = append(names, g)
			}
			slices.Sort(names)
			if !slices.Equal(names, tc.groups) {
				t.Fatalf("groups = %v, want %v", names, tc.groups)
			}
			// Each grant agrees with Check for each of its listed members.
			for _, g := range got {
				for _, m := range g.Members {
					req := tc.req
					req.User = m
					if d := mustCheck(t, s, req); !d.Allowed {
						t.Errorf("%s is listed by who-can through %s, but Check says %s", m, g.Group, d.Message)
					}
				}
			}
		})
	}
	g := grants(t, Request{Action: "use", Target: Target{Type: TargetApp, Name: "ledger"}})
	if ops := g["ops"]; !slices.Equal(ops.Members, []string{"olga@example.com", "oscar@example.com"}) || !slices.Equal(ops.IdPGroups, []string{"ops-team"}) || ops.Everyone {
		t.Errorf("ops grant: %+v", ops)
	}
	if all := g["all-users"]; !all.Everyone {
		t.Errorf("all-users grant is everyone: %+v", all)
	}
	g = grants(t, Request{Action: "manage-members", Target: Target{Type: TargetGroup, Name: "ops"}})
	if ops := g["ops"]; !slices.Equal(ops.Members, []string{"olga@example.com"}) || ops.Source.Kind != SourceGroupAdmin {
		t.Errorf("who manages ops' members: only its group admins: %+v", ops)
	}
	res, _ := s.WhoCan(Request{Action: "delete", Target: Target{Type: TargetApp, Name: "a"}, Environment: "production"})
	if len(res.Grants) != 0 || res.Denied != ReasonReadOnlyEnvironment {
		t.Errorf("nobody deletes in a read-only environment: %+v", res)
	}
}

// Permissions: a user's rule-derived levels with their sources, universal
// levels, the query library, additional permissions and group-admin roles.
func TestPermissionsRows(t *testing.T) {
	s := mustCompile(t, workedExample())
	p, err := s.Permissions("Alice@Example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Permission{}
	for _, perm := range p.Permissions {
		got[perm.Target.String()] = perm
	}
	if perm := got["appfolder/finance"]; perm.Level != Edit || perm.Group != "finance" || perm.Source.Rule != "finance-folder" {
		t.Errorf("appfolder/finance: %+v", perm)
	}
	if perm := got["app/payouts"]; perm.Level != Use || perm.Source.Kind != SourceObjectRule || perm.Source.Rule != "finance-payouts" {
		t.Errorf("app/payouts: %+v", perm)
	}
	if len(got) != 2 || p.User != "alice@example.com" || p.Membership != MemberListed || p.Admin {
		t.Errorf("permissions: %+v", p)
	}
	if len(p.Universal) != 3 || p.Universal[0].Target.String() != "app/*" || p.Universal[0].Level != None {
		t.Errorf("universal: %+v", p.Universal)
	}
	root, _ := s.Permissions("root@example.com", nil)
	if !root.Admin || root.QueryLibrary != Edit || len(root.Additional) != 6 {
		t.Errorf("Admin: %+v", root)
	}
	for _, perm := range root.Permissions {
		if perm.Level != Own {
			t.Errorf("Admin is never lowered by a rule: %+v", perm)
		}
	}
	carol, err := s.Permissions("carol@example.com", nil)
	if err != nil || carol.Membership != "" || len(carol.Permissions) != 0 || len(carol.Groups) != 0 {
		t.Errorf("a non-member has nothing: %+v %v", carol, err)
	}
	var e *InvalidInputError
	if _, err := s.Permissions("", nil); !errors.As(err, &e) {
		t.Errorf("no user: %v", err)
	}
}

// Diff: every question whose answer changes, per subject, target, folder
// and environment (an environment listed only where it differs from no
// environment).
func TestDiffRows(t *testing.T) {
	from := mustCompile(t, workedExample())
	cases := map[string]struct {
		mutate func(*SpaceInput)
		want   []string
	}{
		"a production override raised": {
			func(in *SpaceInput) { in.Rules[2].Targets[0].Environments[0].Level = Own },
			[]string{
				"+ idp:ops-team resource/ledger-db (production): Use -> Own +configure +write",
				"+ user:olga@example.com resource/ledger-db (production): Use -> Own +configure +write",
				"+ user:oscar@example.com resource/ledger-db (production): Use -> Own +configure +write",
			},
		},
		"a rule removed": {
			func(in *SpaceInput) { in.Rules = slices.Delete(in.Rules, 0, 1) },
			[]string{
				"- user:alice@example.com app/* in finance (production): Edit -> None -use -view-unpublished",
				"- user:alice@example.com app/* in finance: Edit -> None -edit -release -use -view-unpublished",
				"- user:alice@example.com appfolder/finance (production): Edit -> None -use",
				"- user:alice@example.com appfolder/finance: Edit -> None -create -use",
			},
		},
		"a universal level lowered: create-folder goes even where a folder rule keeps the level": {
			func(in *SpaceInput) { in.Groups[5].Universal.Workflows = Use },
			[]string{
				"- idp:ops-team workflow/* (production): Edit -> Use",
				"- idp:ops-team workflow/*: Edit -> Use -edit",
				"- idp:ops-team workflowfolder/* (production): Edit -> Use",
				"- idp:ops-team workflowfolder/*: Edit -> Use -create -create-folder",
				"- idp:ops-team workflowfolder/oncall/runbooks: -create-folder",
				"- user:olga@example.com workflow/* (production): Edit -> Use",
				"- user:olga@example.com workflow/*: Edit -> Use -edit",
				"- user:olga@example.com workflowfolder/* (production): Edit -> Use",
				"- user:olga@example.com workflowfolder/*: Edit -> Use -create -create-folder",
				"- user:olga@example.com workflowfolder/oncall/runbooks: -create-folder",
				"- user:oscar@example.com workflow/* (production): Edit -> Use",
				"- user:oscar@example.com workflow/*: Edit -> Use -edit",
				"- user:oscar@example.com workflowfolder/* (production): Edit -> Use",
				"- user:oscar@example.com workflowfolder/*: Edit -> Use -create -create-folder",
				"- user:oscar@example.com workflowfolder/oncall/runbooks: -create-folder",
				"= idp:ops-team workflowfolder/oncall/runbooks (production): unchanged",
				"= user:olga@example.com workflowfolder/oncall/runbooks (production): unchanged",
				"= user:oscar@example.com workflowfolder/oncall/runbooks (production): unchanged",
			},
		},
		"an additional permission": {
			func(in *SpaceInput) { in.Groups[0].Additional.AuditLog = true },
			[]string{"+ user:alice@example.com space: +view-audit-log"},
		},
		"a group admin": {
			func(in *SpaceInput) { in.Groups[5].Members[1].GroupAdmin = true },
			[]string{"+ user:oscar@example.com group/ops: +manage-members"},
		},
		"a member added": {
			func(in *SpaceInput) {
				in.Groups[0].Members = append(in.Groups[0].Members, Member{Email: "amy@example.com"})
			},
			[]string{
				"+ user:amy@example.com app/* in finance: None -> Edit +edit +release +use +view-unpublished",
				"+ user:amy@example.com app/* in finance (production): None -> Edit +use +view-unpublished",
				"+ user:amy@example.com app/payouts in finance: None -> Use +use",
				"+ user:amy@example.com app/payouts: None -> Use +use",
				"+ user:amy@example.com appfolder/finance: None -> Edit +create +use",
				"+ user:amy@example.com appfolder/finance (production): None -> Edit +use",
			},
		},
		"a changed display name changes nothing": {
			func(in *SpaceInput) { in.Groups[0].DisplayName = "Finance team" },
			[]string{},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			in := workedExample()
			tc.mutate(&in)
			to := mustCompile(t, in)
			d := Diff(from, to)
			var got []string
			for _, c := range d.Changes {
				got = append(got, c.String())
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tc.want))
			if !slices.Equal(got, want) {
				t.Fatalf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if d.FromRevision != from.Revision() || d.ToRevision != to.Revision() {
				t.Fatalf("revisions: %+v", d)
			}
			back := Diff(to, from)
			if len(back.Changes) != len(d.Changes) {
				t.Fatalf("the way back has %d changes, the way there %d", len(back.Changes), len(d.Changes))
			}
			for i, c := range back.Changes {
				there := d.Changes[i]
				if c.From != there.To || c.To != there.From || !slices.Equal(c.NowAllowed, there.NoLongerAllowed) || !slices.Equal(c.NoLongerAllowed, there.NowAllowed) {
					t.Fatalf("the way back reverses each change: %v vs %v", c, there)
				}
			}
		})
	}
}

// Diff covers membership that no group lists: an IdP group mapped by the
// Space, and JIT.
func TestDiffMembershipRows(t *testing.T) {
	base := workedExample()
	base.Groups[4].Universal.Apps = Use // all-users
	from := mustCompile(t, base)
	cases := map[string]struct {
		mutate func(*SpaceInput)
		want   []string
	}{
		"an IdP group mapped to AllUsers": {
			func(in *SpaceInput) { in.SSO.RoleMappings = []RoleMapping{{IdPGroup: "auditors", Group: "all-users"}} },
			[]string{"+ idp:auditors app/*: None -> Use +use", "+ idp:auditors appfolder/*: None -> Use +use"},
		},
		"JIT for a domain": {
			func(in *SpaceInput) { in.SSO.JIT, in.SSO.AllowedDomains = true, []string{"example.com"} },
			[]string{
				"+ user:*@example.com app/*: None -> Use +use", "+ user:*@example.com appfolder/*: None -> Use +use",
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			in := workedExample()
			in.Groups[4].Universal.Apps = Use
			tc.mutate(&in)
			var got []string
			for _, c := range Diff(from, mustCompile(t, in)).Changes {
				got = append(got, c.String())
			}
			slices.Sort(got)
			if want := slices.Sorted(slices.Values(tc.want)); !slices.Equal(got, want) {
				t.Fatalf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// who-can lists exactly the users Check allows, also when two groups grant
// together: Use from one group, unpublishedReleases from another.
func TestWhoCanListsGroupsThatGrantTogether(t *testing.T) {
	in := SpaceInput{Name: "s", Groups: []Group{
		{Name: "users", Members: []Member{{Email: "u@x.io"}, {Email: "n@x.io"}}, IdPGroups: []string{"idp-users"}, Universal: Universal{Apps: Use}},
		{Name: "flagged", Members: []Member{{Email: "u@x.io"}, {Email: "f@x.io"}}, IdPGroups: []string{"idp-flagged"}, Additional: Additional{UnpublishedReleases: true}},
		{Name: "editors", Members: []Member{{Email: "e@x.io"}}, Universal: Universal{Apps: Edit}},
	}}
	s := mustCompile(t, in)
	req := Request{Action: "view-unpublished", Target: target(t, "app/a")}
	res, err := s.WhoCan(req)
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, g := range res.Grants {
		for _, m := range g.Members {
			listed[m] = true
		}
	}
	if res.Together != nil {
		for _, m := range res.Together.Members {
			listed[m] = true
		}
	}
	for _, user := range []string{"u@x.io", "n@x.io", "f@x.io", "e@x.io"} {
		r := req
		r.User = user
		if d := mustCheck(t, s, r); d.Allowed != listed[user] {
			t.Errorf("%s: check allowed=%v (%s), who-can lists them: %v", user, d.Allowed, d.Message, listed[user])
		}
	}
	if res.Together == nil || res.Together.Flag != "unpublishedReleases" || res.Together.Level != Use ||
		len(res.Together.LevelGroups) != 1 || res.Together.LevelGroups[0].Group != "users" ||
		len(res.Together.FlagGroups) != 1 || res.Together.FlagGroups[0].Group != "flagged" ||
		!slices.Equal(res.Together.FlagGroups[0].IdPGroups, []string{"idp-flagged"}) {
		t.Fatalf("together: %+v", res.Together)
	}
	// A user who signs in with both IdP groups is allowed too, as the pair says.
	if d := mustCheck(t, s, Request{User: "sso@x.io", Groups: []string{"idp-users", "idp-flagged"}, Action: req.Action, Target: req.Target}); !d.Allowed {
		t.Errorf("IdP groups of both sides: %+v", d)
	}
}

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/governor-dev/governor/internal/access"
)

const samples = "../../config/samples"

// document is a decision as -o json and -o yaml print it: a document with
// apiVersion and kind, as kubectl's printers print objects.
type document struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	access.Decision
}

// result is one run of the CLI: what it printed and its exit code, computed
// as cmd/governor's main does.
type result struct {
	stdout, stderr string
	code           int
}

// run executes the CLI in-process under a root command like cmd/governor's.
func run(t *testing.T, args ...string) result {
	t.Helper()
	root := &cobra.Command{Use: "governor", SilenceUsage: true, SilenceErrors: true}
	root.AddCommand(NewCommands()...)
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	code := 0
	if err != nil {
		code = 1
		var ec interface{ ExitCode() int }
		if errors.As(err, &ec) {
			code = ec.ExitCode()
		}
		if msg := err.Error(); msg != "" {
			fmt.Fprintln(&errOut, "error:", msg)
		}
	}
	return result{stdout: out.String(), stderr: errOut.String(), code: code}
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", r.code, r.stdout, r.stderr)
}

func TestCanIYesNo(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
		code int
	}{
		{"folder rule", []string{"edit", "app/ledger", "--as", "carol@example.com", "--folder", "finance/reports"}, "yes", 0},
		{"object rule overrides folder rule", []string{"edit", "app/payouts", "--as", "carol@example.com", "--folder", "finance"}, "no", 1},
		{"read-only environment", []string{"edit", "app/ledger", "--as", "carol@example.com", "--folder", "finance/reports", "--env", "production"}, "no", 1},
		{"builtin viewer uses", []string{"use", "app/ledger", "--as", "bob@example.com"}, "yes", 0},
		{"builtin viewer cannot edit", []string{"edit", "app/ledger", "--as", "bob@example.com"}, "no", 1},
		{"not a member", []string{"use", "app/ledger", "--as", "zed@example.com"}, "no", 1},
		{"email case-insensitive", []string{"use", "app/payouts", "--as", "Carol@Example.com"}, "yes", 0},
		{"idp group", []string{"edit", "app/ledger", "--as", "zoe@example.com", "--as-group", "payments-developers"}, "yes", 0},
		{"role mapping to admin", []string{"manage-settings", "space", "--as", "zoe@example.com", "--as-group", "payments-admins"}, "yes", 0},
		{"environment override", []string{"write", "resource/ledger-db", "--as", "dave@example.com", "--env", "production"}, "no", 1},
		{"group admin", []string{"manage-members", "group/finance", "--as", "carol@example.com"}, "yes", 0},
		{"not a group admin", []string{"manage-members", "group/finance", "--as", "dave@example.com"}, "no", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"can-i"}, tc.args...)
			r := run(t, append(args, "--space", "payments", "-f", samples)...)
			if r.code != tc.code || r.stdout != tc.want+"\n" || r.stderr != "" {
				t.Fatalf("want %q exit %d, got\n%s", tc.want, tc.code, r)
			}
		})
	}
}

func TestCanIInvalidInput(t *testing.T) {
	base := []string{"--space", "payments", "--as", "carol@example.com", "-f", samples}
	for _, tc := range []struct {
		name string
		args []string
		want string // in the error line
	}{
		{"unknown action", append([]string{"can-i", "frob", "app/ledger"}, base...), `unknown action "frob"`},
		{"unknown target", append([]string{"can-i", "edit", "thing/ledger"}, base...), `unknown target "thing/ledger"`},
		{"object target with a path", append([]string{"can-i", "edit", "app/a/b"}, base...), `want app/NAME`},
		{"unknown environment", append([]string{"can-i", "edit", "app/ledger", "--env", "qa"}, base...), `unknown environment "qa"`},
		{"unknown group", append([]string{"can-i", "manage-members", "group/nope"}, base...), `group "nope" does not exist`},
		{"unknown Space", []string{"can-i", "edit", "app/ledger", "--space", "nope", "--as", "carol@example.com", "-f", samples}, `no Space "nope"`},
		{"missing --as", []string{"can-i", "edit", "app/ledger", "--space", "payments", "-f", samples}, "--as is required"},
		{"missing --space", []string{"can-i", "edit", "app/ledger", "--as", "carol@example.com", "-f", samples}, "--space is required"},
		{"missing target", append([]string{"can-i", "edit"}, base...), "want 2 arguments"},
		{"unknown flag", append([]string{"can-i", "edit", "app/ledger", "--bogus"}, base...), "unknown flag: --bogus"},
		{"unknown output", append([]string{"can-i", "edit", "app/ledger", "-o", "table"}, base...), `unknown output format "table"`},
		{"missing manifests", []string{"can-i", "edit", "app/ledger", "--space", "payments", "--as", "carol@example.com", "-f", "testdata/nonexistent"}, "reading manifests"},
		{"explain: unknown action", append([]string{"explain", "frob", "app/ledger"}, base...), `unknown action "frob"`},
		{"who-can: unknown environment", []string{"who-can", "use", "app/ledger", "--space", "payments", "--env", "qa", "-f", samples}, `unknown environment "qa"`},
		{"permissions: missing --as", []string{"permissions", "--space", "payments", "-f", samples}, "--as is required"},
		{"diff: nothing to compare", []string{"diff", "--space", "shop", "--from", "testdata/diff/from"}, "nothing to compare"},
		{"diff: Space in neither state", []string{"diff", "--space", "nope", "--from", "testdata/diff/from", "--to", "testdata/diff/to"}, `no Space "nope"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, tc.args...)
			if r.code != 2 || r.stdout != "" {
				t.Fatalf("want exit 2 and no output, got\n%s", r)
			}
			if lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n"); len(lines) != 1 ||
				!strings.HasPrefix(lines[0], "error: ") || !strings.Contains(lines[0], tc.want) {
				t.Fatalf("want one error line containing %q, got\n%s", tc.want, r)
			}
		})
	}
}

func TestExplain(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{
			"folder rule decides",
			[]string{"can-i", "edit", "app/ledger", "--as", "carol@example.com", "--folder", "finance/reports", "--explain"},
			0,
			[]string{"yes\n", "Level:", "Edit (required: Edit)", "group finance: folder rule finance-apps on folder finance",
				"member: listed in a group", "finance, all-users", "Granted", "<- decides", "all-users", "universal level"},
		},
		{
			"object rule overrides the folder rule",
			[]string{"explain", "edit", "app/payouts", "--as", "carol@example.com", "--folder", "finance"},
			1,
			[]string{"no\n", "Use (required: Edit)", "group finance: object rule finance-payouts", "InsufficientLevel"},
		},
		{
			"read-only environment",
			[]string{"explain", "edit", "app/ledger", "--as", "alice@example.com", "--env", "production"},
			1,
			[]string{"no\n", "production (read-only)", "ReadOnlyEnvironment"},
		},
		{
			"environment override",
			[]string{"explain", "use", "resource/ledger-db", "--as", "erin@example.com", "--env", "production"},
			1,
			[]string{"no\n", "object rule oncall-ledger-db (its production override)"},
		},
		{
			"builtin role",
			[]string{"explain", "use", "app/ledger", "--as", "bob@example.com"},
			0,
			[]string{"yes\n", "group viewer: built-in role Viewer"},
		},
		{
			"not a member",
			[]string{"explain", "use", "app/ledger", "--as", "zed@example.com"},
			1,
			[]string{"no\n", "not a member", "NotAMember"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, append(tc.args, "--space", "payments", "-f", samples)...)
			if r.code != tc.code {
				t.Fatalf("want exit %d, got\n%s", tc.code, r)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("explanation lacks %q:\n%s", w, r.stdout)
				}
			}
			for _, line := range strings.Split(r.stdout, "\n") {
				if strings.TrimRight(line, " ") != line {
					t.Errorf("trailing blanks in %q", line)
				}
			}
		})
	}
}

func TestCanIOutput(t *testing.T) {
	args := []string{"can-i", "edit", "app/ledger", "--space", "payments", "--as", "carol@example.com", "--folder", "finance/reports", "-f", samples}
	check := func(t *testing.T, d access.Decision) {
		t.Helper()
		if !d.Allowed || d.Reason != access.ReasonGranted || d.Space != "payments" || d.User != "carol@example.com" ||
			d.Action != "edit" || d.Target != (access.Target{Type: access.TargetApp, Name: "ledger"}) || d.Folder != "finance/reports" ||
			d.Level != access.Edit || d.Required != access.Edit || d.Group != "finance" || d.Membership != access.MemberListed ||
			d.Source == nil || *d.Source != (access.Source{Kind: access.SourceFolderRule, Rule: "finance-apps", Folder: "finance"}) ||
			d.Revision == "" || len(d.Contributions) != 2 {
			t.Fatalf("unexpected decision %+v", d)
		}
	}
	t.Run("json", func(t *testing.T) {
		r := run(t, append(args, "-o", "json")...)
		if r.code != 0 {
			t.Fatal(r)
		}
		var d document
		dec := json.NewDecoder(strings.NewReader(r.stdout))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&d); err != nil || d.APIVersion != "governor.dev/v1alpha1" || d.Kind != "Decision" {
			t.Fatalf("%v\n%s", err, r)
		}
		check(t, d.Decision)
	})
	t.Run("yaml", func(t *testing.T) {
		r := run(t, append(args, "-o", "yaml")...)
		if r.code != 0 {
			t.Fatal(r)
		}
		var d document
		if err := yaml.UnmarshalStrict([]byte(r.stdout), &d); err != nil || d.Kind != "Decision" {
			t.Fatalf("%v\n%s", err, r)
		}
		check(t, d.Decision)
	})
	t.Run("json keeps the exit code of a denial", func(t *testing.T) {
		r := run(t, "can-i", "edit", "app/payouts", "--space", "payments", "--as", "carol@example.com", "--folder", "finance", "-f", samples, "-o", "json")
		var d access.Decision
		if err := json.Unmarshal([]byte(r.stdout), &d); err != nil || r.code != 1 || d.Allowed || d.Reason != access.ReasonInsufficientLevel {
			t.Fatalf("%v\n%s", err, r)
		}
	})
}

func TestWhoCan(t *testing.T) {
	r := run(t, "who-can", "edit", "app/ledger", "--space", "payments", "--folder", "finance/reports", "-f", samples)
	if r.code != 0 || r.stderr != "" {
		t.Fatal(r)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(r.stdout, "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			rows[f[0]] = line
		}
	}
	for group, want := range map[string][]string{
		"GROUP":   {"LEVEL", "SOURCE", "MEMBERS", "IDP GROUPS"},
		"finance": {"Edit", "folder rule finance-apps on folder finance", "carol@example.com, dave@example.com", "finance-team"},
		"admin":   {"Own", "built-in role Admin", "alice@example.com", "payments-admins"},
		"editor":  {"Edit", "built-in role Editor", "payments-developers"},
	} {
		for _, w := range want {
			if !strings.Contains(rows[group], w) {
				t.Errorf("row %s lacks %q:\n%s", group, w, r.stdout)
			}
		}
	}
	for _, absent := range []string{"viewer", "payments-oncall", "all-users"} {
		if _, ok := rows[absent]; ok {
			t.Errorf("%s does not grant edit:\n%s", absent, r.stdout)
		}
	}

	t.Run("every member", func(t *testing.T) {
		r := run(t, "who-can", "use", "querylibrary", "--space", "payments", "-f", samples)
		if r.code != 0 || !strings.Contains(r.stdout, "every member") {
			t.Fatal(r)
		}
	})
	t.Run("read-only environment", func(t *testing.T) {
		r := run(t, "who-can", "edit", "app/ledger", "--space", "payments", "--env", "production", "-f", samples)
		if r.code != 0 || !strings.Contains(r.stdout, "read-only") {
			t.Fatal(r)
		}
	})
	t.Run("json", func(t *testing.T) {
		r := run(t, "who-can", "edit", "app/ledger", "--space", "payments", "--folder", "finance/reports", "-f", samples, "-o", "json")
		var res access.WhoCanResult
		if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || r.code != 0 {
			t.Fatalf("%v\n%s", err, r)
		}
		var groups []string
		for _, g := range res.Grants {
			groups = append(groups, g.Group)
		}
		if strings.Join(groups, ",") != "admin,editor,finance" {
			t.Fatalf("grants %v", groups)
		}
	})
}

func TestPermissions(t *testing.T) {
	r := run(t, "permissions", "--space", "payments", "--as", "carol@example.com", "-f", samples)
	if r.code != 0 || r.stderr != "" {
		t.Fatal(r)
	}
	for _, w := range []string{
		"member: listed in a group", "finance, all-users",
		"workflows  Use", "resources  Use",
		"app/payouts", "object rule finance-payouts",
		"appfolder/finance", "folder rule finance-apps on folder finance",
		"resource/ledger-db", "object rule finance-ledger-db",
		"Query library:", "auditLog, unpublishedReleases", "Group admin of:          finance",
	} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("lacks %q:\n%s", w, r.stdout)
		}
	}

	t.Run("json", func(t *testing.T) {
		r := run(t, "permissions", "--space", "payments", "--as", "carol@example.com", "-f", samples, "-o", "json")
		var res access.PermissionsResult
		if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || r.code != 0 {
			t.Fatalf("%v\n%s", err, r)
		}
		if len(res.Permissions) != 3 || res.QueryLibrary != access.Use || strings.Join(res.GroupAdminOf, ",") != "finance" {
			t.Fatalf("%+v", res)
		}
	})
	t.Run("not a member", func(t *testing.T) {
		r := run(t, "permissions", "--space", "payments", "--as", "zed@example.com", "-f", samples)
		if r.code != 0 || !strings.Contains(r.stdout, "not a member") {
			t.Fatal(r)
		}
	})
}

func TestDiff(t *testing.T) {
	t.Run("changes", func(t *testing.T) {
		r := run(t, "diff", "--space", "shop", "--from", "testdata/diff/from", "--to", "testdata/diff/to")
		if r.code != 1 || r.stderr != "" {
			t.Fatal(r)
		}
		var got []string
		for _, line := range strings.Split(r.stdout, "\n") {
			if strings.HasPrefix(line, "+ ") || strings.HasPrefix(line, "- ") {
				got = append(got, line)
			}
		}
		want := []string{
			"+ user:carol@example.com app/* in support: Use -> Edit +edit +release +view-unpublished",
			"+ user:carol@example.com app/* in support (production): Use -> Edit +view-unpublished",
			"+ user:carol@example.com appfolder/support: Use -> Edit +create",
			"+ user:carol@example.com appfolder/support (production): Use -> Edit",
			"- user:dave@example.com app/* in support: Use -> None -use",
			"- user:dave@example.com appfolder/support: Use -> None -use",
			"- user:dave@example.com querylibrary: Use -> None -use",
			"- user:dave@example.com resource/tickets-db: Use -> None -use",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("changes:\n%s\nwant:\n%s\n\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), r)
		}
		if !strings.Contains(r.stdout, "8 changes for 2 subjects: 5 actions now allowed, 4 actions no longer allowed.") {
			t.Fatalf("summary:\n%s", r)
		}
	})
	t.Run("identical", func(t *testing.T) {
		r := run(t, "diff", "--space", "shop", "--from", "testdata/diff/from", "--to", "testdata/diff/from")
		if r.code != 0 || !strings.Contains(r.stdout, "No changes") {
			t.Fatal(r)
		}
	})
	t.Run("json", func(t *testing.T) {
		r := run(t, "diff", "--space", "shop", "--from", "testdata/diff/from", "--to", "testdata/diff/to", "-o", "json")
		var res access.DiffResult
		if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || r.code != 1 {
			t.Fatalf("%v\n%s", err, r)
		}
		if len(res.Changes) != 8 || res.Space != "shop" || res.FromRevision == res.ToRevision {
			t.Fatalf("%+v", res)
		}
	})
	t.Run("a new Space", func(t *testing.T) {
		r := run(t, "diff", "--space", "payments", "--from", "testdata/diff/from", "--to", samples, "--all")
		if r.code != 1 || !strings.Contains(r.stderr, `no Space "payments"`) ||
			!strings.Contains(r.stdout, "+ user:carol@example.com appfolder/finance: None -> Edit +create +use") {
			t.Fatal(r)
		}
	})
	t.Run("summarised by default", func(t *testing.T) {
		r := run(t, "diff", "--space", "payments", "--from", "testdata/diff/from", "--to", samples, "--first", "3")
		for _, want := range []string{
			"178 changes for 10 subjects", "Changes per group (the 7 with the most, of 7):", "Changes per target (the 10 with the most, of ",
			"The first 3 changes:", "... and 175 more: --all lists every change.",
		} {
			if !strings.Contains(r.stdout, want) {
				t.Fatalf("the summary lacks %q:\n%s", want, r)
			}
		}
		if n := strings.Count(r.stdout, "\n+ "); n != 3 {
			t.Fatalf("the summary lists %d changes, want the first 3:\n%s", n, r)
		}
		r = run(t, "diff", "--space", "payments", "--from", "testdata/diff/from", "--to", samples, "-o", "json")
		var sum access.DiffSummary
		if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil || r.code != 1 || sum.Total != 178 || len(sum.Changes) != 20 || !sum.Truncated || len(sum.ByGroup) == 0 {
			t.Fatalf("-o json is the summary: %v\n%s", err, r)
		}
	})
	t.Run("--all -o json streams every change", func(t *testing.T) {
		r := run(t, "diff", "--space", "payments", "--from", "testdata/diff/from", "--to", samples, "--all", "-o", "json")
		var res struct {
			Kind string `json:"kind"`
			access.DiffResult
		}
		if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || r.code != 1 || res.Kind != "DiffResult" || len(res.Changes) != 178 {
			t.Fatalf("%v\n%s", err, r)
		}
	})
}

// Every access-affecting field is a change that fails a CI step (exit 1),
// each naming the question whose answer changed.
func TestDiffCoversEveryAccessField(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("testdata", "diff", "from", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	groups, rules, space := read("groups.yaml"), read("rules.yaml"), read("space.yaml")
	cases := map[string]struct {
		groups, space string
		want          string
	}{
		"an additional permission": {
			groups: strings.Replace(groups, "  name: support\n  namespace: shop\nspec:\n", "  name: support\n  namespace: shop\nspec:\n  additional: {auditLog: true}\n", 1),
			want:   "+ user:carol@example.com space: +view-audit-log",
		},
		"a group admin": {
			groups: strings.Replace(groups, "    - email: carol@example.com\n", "    - email: carol@example.com\n      groupAdmin: true\n", 1),
			want:   "+ user:carol@example.com group/support: +manage-members",
		},
		"a member": {
			groups: strings.Replace(groups, "    - email: carol@example.com\n", "    - email: carol@example.com\n    - email: erin@example.com\n", 1),
			want:   "+ user:erin@example.com appfolder/support: None -> Use +use",
		},
		"an IdP group": {
			groups: strings.Replace(groups, "  name: support\n  namespace: shop\nspec:\n", "  name: support\n  namespace: shop\nspec:\n  idpGroups: [support-team]\n", 1),
			want:   "+ idp:support-team appfolder/support: None -> Use +use",
		},
		"JIT": {
			space: space + "  sso:\n    jit: {enabled: true, allowedDomains: [example.com]}\n",
			want:  "+ user:*@example.com querylibrary: None -> Use +use",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			for file, content := range map[string]string{"groups.yaml": or(tc.groups, groups), "rules.yaml": rules, "space.yaml": or(tc.space, space)} {
				if err := os.WriteFile(filepath.Join(dir, file), []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			r := run(t, "diff", "--space", "shop", "--from", "testdata/diff/from", "--to", dir)
			if r.code != 1 || !strings.Contains(r.stdout, tc.want+"\n") {
				t.Fatalf("want exit 1 and %q:\n%s", tc.want, r)
			}
		})
	}
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// kubectl's printers: -o jsonpath picks fields of the answer; -n names the
// Space by the namespace it governs; kubectl's impersonation flags are not
// offered (--as is the user being checked).
func TestKubectlConventions(t *testing.T) {
	r := run(t, "can-i", "edit", "app/ledger", "--space", "payments", "--as", "carol@example.com", "--folder", "finance/reports", "-f", samples, "-o", "jsonpath={.allowed} {.group}")
	if r.code != 0 || r.stdout != "true finance" {
		t.Fatalf("jsonpath: %s", r)
	}
	r = run(t, "can-i", "edit", "app/ledger", "--space", "payments", "--as", "carol@example.com", "-f", samples, "-o", "yaml")
	if !strings.Contains(r.stdout, "kind: Decision\n") || !strings.Contains(r.stdout, "apiVersion: governor.dev/v1alpha1\n") {
		t.Fatalf("yaml: %s", r)
	}
	r = run(t, "who-can", "use", "app/ledger", "-n", "payments", "-f", samples, "-o", "jsonpath={.space}")
	if r.code != 0 || r.stdout != "payments" {
		t.Fatalf("-n: %s", r)
	}
	r = run(t, "who-can", "use", "app/ledger", "-n", "nowhere", "-f", samples)
	if r.code != 2 || !strings.Contains(r.stderr, "no Space governs namespace nowhere") {
		t.Fatalf("-n of an ungoverned namespace: %s", r)
	}
	for _, flag := range []string{"--as-group=x", "--as-uid=x", "--as-user-extra=a=b"} {
		if r := run(t, "who-can", "use", "app/ledger", "--space", "payments", "-f", samples, flag); r.code != 2 {
			t.Errorf("%s is kubectl's impersonation, not offered: %s", flag, r)
		}
	}
	r = run(t, "can-i", "edit", "app/ledger", "--space", "payments", "--as", "carol@example.com", "-f", samples, "-o", "table")
	if r.code != 2 {
		t.Fatalf("an unknown output format: %s", r)
	}
}

func TestCompileProblemsAreWarnings(t *testing.T) {
	r := run(t, "can-i", "edit", "app/tickets", "--space", "shop", "--as", "carol@example.com", "-f", "testdata/problems")
	if r.code != 0 || r.stdout != "yes\n" {
		t.Fatal(r)
	}
	if !strings.HasPrefix(r.stderr, "warning: AccessRule orphan: spec.group: ") || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("want one warning, got\n%s", r)
	}
}

func TestHelpHasExamples(t *testing.T) {
	for _, c := range NewCommands() {
		if c.Example == "" || c.Short == "" || c.Long == "" {
			t.Errorf("%s: want Short, Long and Example", c.Name())
		}
		r := run(t, c.Name(), "--help")
		if r.code != 0 || !strings.Contains(r.stdout, "Examples:") {
			t.Errorf("%s --help:\n%s", c.Name(), r)
		}
	}
}

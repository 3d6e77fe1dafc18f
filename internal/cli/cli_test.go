package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/governor-dev/governor/internal/access"
)

const samples = "../../config/samples"

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
		var d access.Decision
		dec := json.NewDecoder(strings.NewReader(r.stdout))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&d); err != nil {
			t.Fatalf("%v\n%s", err, r)
		}
		check(t, d)
	})
	t.Run("yaml", func(t *testing.T) {
		r := run(t, append(args, "-o", "yaml")...)
		if r.code != 0 {
			t.Fatal(r)
		}
		var d access.Decision
		if err := yaml.UnmarshalStrict([]byte(r.stdout), &d); err != nil {
			t.Fatalf("%v\n%s", err, r)
		}
		check(t, d)
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
			"+ group:support appfolder/support: Use -> Edit",
			"+ user:carol@example.com appfolder/support: Use -> Edit",
			"- user:dave@example.com appfolder/support: Use -> None",
			"- user:dave@example.com resource/tickets-db: Use -> None",
			"- user:dave@example.com querylibrary: Use -> None",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("changes:\n%s\nwant:\n%s\n\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), r)
		}
		if !strings.Contains(r.stdout, "5 changes: 2 gained, 3 lost (1 group, 2 users).") {
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
		if len(res.Changes) != 5 || res.Space != "shop" || res.FromRevision == res.ToRevision {
			t.Fatalf("%+v", res)
		}
	})
	t.Run("a new Space", func(t *testing.T) {
		r := run(t, "diff", "--space", "payments", "--from", "testdata/diff/from", "--to", samples)
		if r.code != 1 || !strings.Contains(r.stderr, `no Space "payments"`) ||
			!strings.Contains(r.stdout, "+ user:carol@example.com appfolder/finance: None -> Edit") {
			t.Fatal(r)
		}
	})
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

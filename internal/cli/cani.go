package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/governor-dev/governor/internal/access"
)

type canIOptions struct {
	options
	as       string
	asGroups []string
	folder   string
	env      string
	explain  bool
}

// newCanICommand builds can-i, or explain (can-i that always explains).
func newCanICommand(explainAlways bool) *cobra.Command {
	o := &canIOptions{options: newOptions()}
	cmd := &cobra.Command{
		Use:   "can-i ACTION TARGET --space SPACE --as EMAIL",
		Short: "Check whether a user may do an action in a Space (yes or no)",
		Long: `Check whether a user may do an action on a target in a Space.

Prints "yes" or "no" and exits 0 for yes, 1 for no, and 2 when the question
cannot be answered (an unknown action, target, environment or Space, a missing
--as, unreadable manifests, no cluster), with a one-line error on stderr.
--explain adds the reasoning: the level the user has and the level the action
needs, the group that decided and what in it decided (an object rule, the
nearest folder rule, the universal level, a built-in role), how the user is a
member, and each of their groups' level. -o json or -o yaml prints the full
decision instead; the exit code is the same.

` + targetHelp + `

` + inputHelp,
		Example: `  # May carol edit the ledger app in folder finance/reports? Offline, on manifests:
  governor can-i edit app/ledger --space payments --as carol@example.com --folder finance/reports -f config/samples

  # The same with the reasoning
  governor can-i edit app/ledger --space payments --as carol@example.com --folder finance/reports -f config/samples --explain

  # A user known by their IdP groups, writing queries against a resource in production
  governor can-i write resource/ledger-db --space payments --as zoe@example.com --as-group finance-team --env production

  # Against the cluster of another kubeconfig context, as JSON
  governor can-i use app/payouts --space payments --as bob@example.com --context prod -o json

  # Will contractor dan still be allowed on January 1st (members[].expires, spec.expires)?
  governor can-i use app/payouts --space payments --as dan@example.com --at 2027-01-01T00:00:00Z -f config/samples

  # In a script
  if governor can-i release app/payouts --space payments --as "$USER_EMAIL" -f manifests/ >/dev/null; then ...; fi`,
		Args: exactArgs(2, "ACTION TARGET"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd, args)
		},
	}
	if explainAlways {
		cmd.Use = "explain ACTION TARGET --space SPACE --as EMAIL"
		cmd.Short = "Explain why a user may or may not do an action in a Space"
		cmd.Long = `Explain why a user may or may not do an action in a Space: can-i --explain.

Prints "yes" or "no" followed by the reasoning, with can-i's exit codes
(0 yes, 1 no, 2 invalid input).

` + targetHelp + `

` + inputHelp
		cmd.Example = `  # Why may carol edit the ledger app in finance/reports?
  governor explain edit app/ledger --space payments --as carol@example.com --folder finance/reports -f config/samples

  # Why may she not edit payouts in folder finance?
  governor explain edit app/payouts --space payments --as carol@example.com --folder finance -f config/samples

  # Read-only environments refuse changes to everyone
  governor explain edit app/ledger --space payments --as alice@example.com --env production`
		o.explain = true
	}
	fs := cmd.Flags()
	o.addSpace(fs)
	fs.StringVar(&o.as, "as", "", "the user's email (required)")
	fs.StringArrayVar(&o.asGroups, "as-group", nil, "an IdP group the identity provider sends for the user (repeatable)")
	fs.StringVar(&o.folder, "folder", "", `the folder path the object lives in, e.g. "finance/reports" (default: the root)`)
	fs.StringVar(&o.env, "env", "", "the environment the action happens in (default: none: no overrides, no read-only restrictions)")
	if !explainAlways {
		fs.BoolVar(&o.explain, "explain", false, "explain the decision")
	}
	o.addAt(fs)
	o.addOutput(cmd)
	o.addInput(fs)
	return prepare(cmd)
}

func (o *canIOptions) run(cmd *cobra.Command, args []string) error {
	if err := o.validate(); err != nil {
		return err
	}
	if strings.TrimSpace(o.as) == "" {
		return invalidf("--as is required: the email of the user to check")
	}
	action, target, err := parseCheck(args[0], args[1])
	if err != nil {
		return err
	}
	ans, err := o.answerer(cmd)
	if err != nil {
		return err
	}
	req := access.Request{User: o.as, Groups: o.asGroups, Action: action, Target: target, Folder: o.folder, Environment: o.env}
	d, err := ans.Check(cmd.Context(), o.space, req)
	if err != nil {
		return cannotAnswer(err)
	}
	out := cmd.OutOrStdout()
	if done, err := o.structured(out, "Decision", d); done {
		if err != nil {
			return cannotAnswer(err)
		}
	} else {
		answer := "no"
		if d.Allowed {
			answer = "yes"
		}
		fmt.Fprintln(out, answer)
		if o.explain {
			envs, _ := ans.Environments(cmd.Context(), o.space)
			writeExplanation(out, d, envs)
		}
	}
	if !d.Allowed {
		return silentExit(exitNo)
	}
	return nil
}

// writeExplanation lays out a decision for people.
func writeExplanation(w io.Writer, d access.Decision, envs []access.Environment) {
	fmt.Fprintln(w)
	t := newTable(w)
	row := func(k, v string) { t.row("  "+k+":", v) }

	req := d.Action + " " + d.Target.String()
	if d.Folder != "" {
		req += " in folder " + d.Folder
	}
	row("Request", req)
	env := "none (no environment overrides, no read-only restrictions)"
	if d.Environment != "" {
		env = d.Environment
		for _, e := range envs {
			if e.Name == d.Environment && e.ReadOnly {
				env += " (read-only)"
			}
		}
	}
	row("Environment", env)
	row("User", d.User+" ("+describeMembership(d.Membership)+")")
	if d.Membership != "" {
		row("Groups", joinOr(d.Groups, "none"))
	}
	if hasLevel(d) {
		row("Level", fmt.Sprintf("%s (required: %s)", d.Level, d.Required))
	}
	if d.Group != "" && d.Source != nil {
		row("Decided by", fmt.Sprintf("group %s: %s", d.Group, describeSource(*d.Source)))
	}
	row("Reason", d.Reason+": "+d.Message)
	if !d.Expires.IsZero() {
		row("Expires", d.Expires.UTC().Format(time.RFC3339)+" (the deciding membership or rule ends then)")
	}
	row("Space", fmt.Sprintf("%s (revision %s)", d.Space, access.ShortRevision(d.Revision)))
	t.flush()

	if len(d.Contributions) > 0 {
		fmt.Fprintf(w, "\n  Each group's level on %s (inside a group the most specific rule wins;\n  the user has the highest over their groups):\n\n", d.Target)
		t = newTable(w)
		t.row("    GROUP", "LEVEL", "FROM", "")
		for _, c := range d.Contributions {
			mark := ""
			if c.Group == d.Group && c.Level == d.Level {
				mark = "<- decides"
			}
			t.row("    "+c.Group, c.Level.String(), describeSource(c.Source), mark)
		}
		t.flush()
	}
}

// hasLevel: decisions on objects, folders and the query library compare
// levels; Space and group actions are permissions, not levels.
func hasLevel(d access.Decision) bool {
	switch d.Target.Type {
	case access.TargetSpace, access.TargetGroup:
		return false
	}
	return d.Reason != access.ReasonNotAMember && d.Reason != access.ReasonReadOnlyEnvironment
}

// describeSource says what in a group gave its level, for people.
func describeSource(s access.Source) string {
	switch s.Kind {
	case access.SourceObjectRule:
		if s.Environment != "" {
			return fmt.Sprintf("object rule %s (its %s override)", s.Rule, s.Environment)
		}
		return "object rule " + s.Rule
	case access.SourceFolderRule:
		return fmt.Sprintf("folder rule %s on folder %s", s.Rule, s.Folder)
	case access.SourceUniversal:
		return "universal level (spec.universal)"
	case access.SourceBuiltin:
		return "built-in role " + string(s.Builtin)
	case access.SourceAdditional:
		return "additional permission " + s.Flag
	case access.SourceGroupAdmin:
		return "group admin (members[].groupAdmin)"
	case "":
		return "nothing"
	}
	return s.String()
}

// describeMembership says how a user is a member of the Space.
func describeMembership(how string) string {
	switch how {
	case access.MemberListed:
		return "member: listed in a group"
	case access.MemberIdP:
		return "member: through an IdP group"
	case access.MemberJIT:
		return "member: just-in-time provisioning"
	}
	return "not a member"
}

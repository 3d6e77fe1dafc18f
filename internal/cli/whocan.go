package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/governor-dev/governor/internal/access"
)

type whoCanOptions struct {
	options
	folder string
	env    string
}

func newWhoCanCommand() *cobra.Command {
	o := &whoCanOptions{options: newOptions()}
	cmd := &cobra.Command{
		Use:   "who-can ACTION TARGET --space SPACE",
		Short: "List the groups that may do an action in a Space, and their members",
		Long: `List every group that grants an action on a target by itself, with its level,
what in the group gives it, its listed members and the IdP groups mapped to it.
The AllUsers group's members are "every member" of the Space. A user's access
is the highest over their groups, so each group listed is enough on its own.

Exits 0 when the question could be answered (even when nobody may), 2 when it
could not (an unknown action, target, environment or Space, ...).

` + targetHelp + `

` + inputHelp,
		Example: `  # Who may edit the ledger app in folder finance/reports?
  governor who-can edit app/ledger --space payments --folder finance/reports -f config/samples

  # Who may run queries against ledger-db in production?
  governor who-can use resource/ledger-db --space payments --env production -f config/samples

  # Who may manage the members of the finance group, as YAML, from the cluster
  governor who-can manage-members group/finance --space payments -o yaml`,
		Args: exactArgs(2, "ACTION TARGET"),
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd, args) },
	}
	fs := cmd.Flags()
	o.addSpace(fs)
	fs.StringVar(&o.folder, "folder", "", "the folder path the object lives in (default: the root)")
	fs.StringVar(&o.env, "env", "", "the environment the action happens in (default: none)")
	o.addAt(fs)
	o.addOutput(cmd)
	o.addInput(fs)
	return prepare(cmd)
}

func (o *whoCanOptions) run(cmd *cobra.Command, args []string) error {
	if err := o.validate(); err != nil {
		return err
	}
	action, target, err := parseCheck(args[0], args[1])
	if err != nil {
		return err
	}
	ans, err := o.answerer(cmd)
	if err != nil {
		return err
	}
	res, err := ans.WhoCan(cmd.Context(), o.space, access.Request{Action: action, Target: target, Folder: o.folder, Environment: o.env})
	if err != nil {
		return cannotAnswer(err)
	}
	out := cmd.OutOrStdout()
	if done, err := o.structured(out, "WhoCanResult", res); done {
		return cannotAnswer(err)
	}
	writeWhoCan(out, res)
	return nil
}

func writeWhoCan(w io.Writer, res access.WhoCanResult) {
	q := res.Action + " " + res.Target.String()
	if res.Folder != "" {
		q += " in folder " + res.Folder
	}
	if res.Environment != "" {
		q += " in " + res.Environment
	}
	if res.Denied == access.ReasonReadOnlyEnvironment {
		fmt.Fprintf(w, "Nobody may %s: environment %s is read-only, changes reach it only through source control.\n", q, res.Environment)
		return
	}
	if len(res.Grants) == 0 && res.Together == nil {
		fmt.Fprintf(w, "No group grants %s in Space %s.\n", q, res.Space)
		return
	}
	needs := ""
	switch res.Target.Type {
	case access.TargetSpace, access.TargetGroup:
	default:
		if res.Required > access.None {
			needs = fmt.Sprintf(" (needs %s)", res.Required)
		}
	}
	if len(res.Grants) == 0 {
		fmt.Fprintf(w, "No group grants %s%s in Space %s by itself.\n", q, needs, res.Space)
	} else {
		fmt.Fprintf(w, "Groups that grant %s%s in Space %s:\n\n", q, needs, res.Space)
		t := newTable(w)
		t.row("GROUP", "LEVEL", "SOURCE", "MEMBERS", "IDP GROUPS")
		for _, g := range res.Grants {
			members := joinOr(g.Members, "-")
			if g.Everyone {
				members = "every member"
			}
			level := g.Level.String()
			if res.Target.Type == access.TargetSpace || res.Target.Type == access.TargetGroup {
				level = "-"
			}
			t.row(g.Group, level, describeSource(g.Source), members, joinOr(g.IdPGroups, "-"))
		}
		t.flush()
	}
	if j := res.Together; j != nil {
		fmt.Fprintf(w, "\nTogether: a member of a group giving %s and of a group with %s:\n\n", j.Level, j.Flag)
		t := newTable(w)
		t.row("  GROUP", "GIVES", "MEMBERS", "IDP GROUPS")
		for _, side := range []struct {
			gives  string
			grants []access.Grant
		}{{j.Level.String(), j.LevelGroups}, {j.Flag, j.FlagGroups}} {
			for _, g := range side.grants {
				members := joinOr(g.Members, "-")
				if g.Everyone {
					members = "every member"
				}
				t.row("  "+g.Group, side.gives, members, joinOr(g.IdPGroups, "-"))
			}
		}
		t.flush()
		fmt.Fprintf(w, "\n  Listed users in one of each: %s\n", joinOr(j.Members, "none"))
	}
}

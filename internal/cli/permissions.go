package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/governor-dev/governor/internal/access"
)

type permissionsOptions struct {
	options
	as       string
	asGroups []string
}

func newPermissionsCommand() *cobra.Command {
	o := &permissionsOptions{options: newOptions()}
	cmd := &cobra.Command{
		Use:   "permissions --space SPACE --as EMAIL",
		Short: "List a user's effective permissions in a Space",
		Long: `List a user's effective permissions in a Space: how they are a member, their
groups, their universal level on each kind of object, every target their groups'
rules name with the level they have there and where it comes from, their
query-library level, their additional (organisation) permissions, and the
groups they administer.

Objects are listed as they are at the root of the folder tree; an object inside
a folder also gets that folder's rules (ask can-i --folder for one object).

Exits 0 when the question could be answered (also for a user who is not a
member), 2 when it could not.

` + inputHelp,
		Example: `  # Everything carol may do in the payments Space, offline
  governor permissions --space payments --as carol@example.com -f config/samples

  # A user who signs in with the finance-team IdP group, as JSON, from the cluster
  governor permissions --space payments --as zoe@example.com --as-group finance-team -o json`,
		Args: exactArgs(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	fs := cmd.Flags()
	o.addSpace(fs)
	fs.StringVar(&o.as, "as", "", "the user's email (required)")
	fs.StringArrayVar(&o.asGroups, "as-group", nil, "an IdP group the identity provider sends for the user (repeatable)")
	o.addAt(fs)
	o.addOutput(cmd)
	o.addInput(fs)
	return prepare(cmd)
}

func (o *permissionsOptions) run(cmd *cobra.Command) error {
	if err := o.validate(); err != nil {
		return err
	}
	if strings.TrimSpace(o.as) == "" {
		return invalidf("--as is required: the email of the user")
	}
	ans, err := o.answerer(cmd)
	if err != nil {
		return err
	}
	res, err := ans.Permissions(cmd.Context(), o.space, o.as, o.asGroups)
	if err != nil {
		return cannotAnswer(err)
	}
	out := cmd.OutOrStdout()
	if done, err := o.structured(out, "PermissionsResult", res); done {
		return cannotAnswer(err)
	}
	writePermissions(out, res)
	return nil
}

func writePermissions(w io.Writer, res access.PermissionsResult) {
	t := newTable(w)
	row := func(k, v string) { t.row(k+":", v) }
	row("User", res.User)
	row("Space", fmt.Sprintf("%s (revision %s)", res.Space, access.ShortRevision(res.Revision)))
	if res.Membership == "" {
		row("Membership", "not a member: no group lists them or their IdP groups, and JIT provisioning does not admit them")
		t.flush()
		return
	}
	row("Membership", describeMembership(res.Membership))
	row("Groups", joinOr(res.Groups, "none"))
	if res.Admin {
		row("Admin", "yes: Own on every object, every action allowed")
	}
	t.flush()

	fmt.Fprintln(w, "\nUniversal levels (every object of a kind without a more specific rule):")
	t = newTable(w)
	t.row("  KIND", "LEVEL", "GROUP", "SOURCE")
	for _, p := range res.Universal {
		t.row("  "+string(p.Target.Type)+"s", p.Level.String(), p.Group, describeSource(p.Source))
	}
	t.flush()

	fmt.Fprintln(w, "\nTargets named by the rules of their groups:")
	if len(res.Permissions) == 0 {
		fmt.Fprintln(w, "  none")
	} else {
		t = newTable(w)
		t.row("  TARGET", "LEVEL", "GROUP", "SOURCE")
		for _, p := range res.Permissions {
			t.row("  "+p.Target.String(), p.Level.String(), p.Group, describeSource(p.Source))
		}
		t.flush()
	}

	fmt.Fprintln(w)
	t = newTable(w)
	row("Query library", res.QueryLibrary.String())
	row("Additional permissions", joinOr(res.Additional, "none"))
	row("Group admin of", joinOr(res.GroupAdminOf, "none"))
	t.flush()
}

package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/governor-dev/governor/internal/access"
)

type diffOptions struct {
	options
	from, to []string
}

func newDiffCommand() *cobra.Command {
	o := &diffOptions{options: newOptions()}
	cmd := &cobra.Command{
		Use:   "diff --space SPACE --from PATH --to PATH",
		Short: "Show how a change to a Space's manifests changes who may do what",
		Long: `Show the effective-access difference between two states of a Space: every
question "may SUBJECT do ACTION on TARGET?" whose answer differs, with the level
before and after and the actions now allowed (+) and no longer allowed (-).

Subjects are everyone who can sign in: each listed user (user:EMAIL), a user
signing in with an IdP group the Space maps (idp:GROUP), and the users JIT
admits (user:*@DOMAIN, user:*@* for any other domain). Targets are the objects
and folders their groups' rules name (objects also inside each folder those
rules name: "app/ledger in finance"; "*" is any object or folder no rule of
theirs names), the query library, the Space (additional permissions) and the
groups (manage-members). Every access-affecting field counts: rules, universal
levels, additional permissions, members, group admins, IdP groups and role
mappings, JIT, built-in roles and environments. A line without an environment
holds in every environment that has no line of its own ("= ... unchanged"
where a read-only environment keeps an answer that changes elsewhere).

The states are read from --from PATH and --to PATH (each a file or a directory
of multi-document YAML, repeatable), fully offline: run it on a pull request's
base and head to show the reviewer what the change does to access. With only
-f PATH (or only --to PATH), the "from" state is the cluster of the current
kubeconfig: what applying the manifests would change.

A Space that is missing from one of the two states is compared as an empty
Space (a new or a deleted Space).

Like diff(1), exits 0 when no answer changes, 1 when some do, and 2 when the
states cannot be compared (unreadable manifests, a Space in neither state,
no cluster).`,
		Example: `  # In CI, on a pull request: what does the change do to access?
  git worktree add /tmp/base "origin/$GITHUB_BASE_REF"
  governor diff --space payments --from /tmp/base/spaces/payments --to spaces/payments

  # What would applying these manifests change in the cluster?
  governor diff --space payments -f spaces/payments/

  # Machine-readable, for a bot comment
  governor diff --space payments --from base/ --to head/ -o json`,
		Args: exactArgs(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	fs := cmd.Flags()
	o.addSpace(fs)
	fs.StringArrayVar(&o.from, "from", nil, "the state before: a manifest file or directory (repeatable; default: the cluster)")
	fs.StringArrayVar(&o.to, "to", nil, "the state after: a manifest file or directory (repeatable)")
	fs.StringArrayVarP(&o.files, "filename", "f", nil, "the state after, compared with the cluster (same as --to)")
	o.addCluster(fs)
	o.addOutput(cmd)
	return prepare(cmd)
}

func (o *diffOptions) run(cmd *cobra.Command) error {
	if err := o.validate(); err != nil {
		return err
	}
	to := o.to
	switch {
	case len(o.to) > 0 && len(o.files) > 0:
		return invalidf("give the state after either as --to or as -f, not both")
	case len(o.to) == 0 && len(o.files) == 0:
		return invalidf("nothing to compare: give --from PATH --to PATH, or -f PATH to compare with the cluster")
	case len(o.to) == 0:
		to = o.files
	}
	var fromSrc source = newClusterSource(o.kube)
	if len(o.from) > 0 {
		fromSrc = newManifestSource(o.from)
	}
	toSrc := newManifestSource(to)
	if err := o.resolveSpace(cmd.Context(), toSrc); err != nil {
		return err
	}

	ctx, stderr := cmd.Context(), cmd.ErrOrStderr()
	fromSnap, fromMissing, err := o.snapshotOrEmpty(ctx, fromSrc, stderr)
	if err != nil {
		return cannotAnswer(err)
	}
	toSnap, toMissing, err := o.snapshotOrEmpty(ctx, toSrc, stderr)
	if err != nil {
		return cannotAnswer(err)
	}
	switch {
	case fromMissing && toMissing:
		return invalidf("no Space %q in %s nor in %s", o.space, fromSrc, toSrc)
	case fromMissing:
		fmt.Fprintf(stderr, "note: no Space %q in %s: comparing with an empty Space\n", o.space, fromSrc)
	case toMissing:
		fmt.Fprintf(stderr, "note: no Space %q in %s: comparing with an empty Space\n", o.space, toSrc)
	}

	res := access.Diff(fromSnap, toSnap)
	out := cmd.OutOrStdout()
	if done, err := o.structured(out, "DiffResult", res); done {
		if err != nil {
			return cannotAnswer(err)
		}
	} else {
		writeDiff(out, res, fromSrc.String(), toSrc.String())
	}
	if len(res.Changes) > 0 {
		return silentExit(exitNo)
	}
	return nil
}

// snapshotOrEmpty compiles the Space from src, or an empty Space (missing
// true) when src does not have it.
func (o *diffOptions) snapshotOrEmpty(ctx context.Context, src source, warn io.Writer) (*access.Snapshot, bool, error) {
	snap, err := loadSnapshot(ctx, src, o.space, warn)
	var nf *spaceNotFoundError
	if errors.As(err, &nf) {
		empty, _ := access.Compile(access.SpaceInput{Name: o.space})
		return empty, true, nil
	}
	return snap, false, err
}

func writeDiff(w io.Writer, res access.DiffResult, from, to string) {
	if len(res.Changes) == 0 {
		fmt.Fprintf(w, "No changes to effective access in Space %s.\n", res.Space)
		return
	}
	fmt.Fprintf(w, "Effective access changes in Space %s\n  from %s (revision %s)\n  to   %s (revision %s)\n",
		res.Space, from, access.ShortRevision(res.FromRevision), to, access.ShortRevision(res.ToRevision))
	allowed, denied, subjects := 0, 0, 0
	last := ""
	for _, c := range res.Changes {
		if c.Subject != last {
			last = c.Subject
			subjects++
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w, c.String())
		allowed += len(c.NowAllowed)
		denied += len(c.NoLongerAllowed)
	}
	fmt.Fprintf(w, "\n%s for %s: %s now allowed, %s no longer allowed.\n",
		plural(len(res.Changes), "change"), plural(subjects, "subject"), plural(allowed, "action"), plural(denied, "action"))
}

func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/access"
)

type diffOptions struct {
	options
	from, to []string
	all      bool
	first    int
}

// diffTop is how many groups and targets the summary ranks.
const diffTop = 10

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

By default the difference is summarised: the number of changes and subjects,
the groups and the targets with the most changes (a change counts for the
group that decides the answer after it, or before it for access lost), and the
first changes (--first N). --all lists every change instead, written as it is
computed, so two large states that differ for everyone stream; with -o json it
is one JSON document (a DiffResult) written the same way. -o json or yaml
without --all prints the summary (a DiffSummary).

Like diff(1), exits 0 when no answer changes, 1 when some do, and 2 when the
states cannot be compared (unreadable manifests, a Space in neither state,
no cluster).`,
		Example: `  # In CI, on a pull request: what does the change do to access?
  git worktree add /tmp/base "origin/$GITHUB_BASE_REF"
  governor diff --space payments --from /tmp/base/spaces/payments --to spaces/payments

  # What would applying these manifests change in the cluster?
  governor diff --space payments -f spaces/payments/

  # Machine-readable, for a bot comment: the summary
  governor diff --space payments --from base/ --to head/ -o json

  # Every change, streamed, for an audit trail
  governor diff --space payments --from base/ --to head/ --all > changes.txt`,
		Args: exactArgs(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	fs := cmd.Flags()
	o.addSpace(fs)
	fs.StringArrayVar(&o.from, "from", nil, "the state before: a manifest file or directory (repeatable; default: the cluster)")
	fs.StringArrayVar(&o.to, "to", nil, "the state after: a manifest file or directory (repeatable)")
	fs.StringArrayVarP(&o.files, "filename", "f", nil, "the state after, compared with the cluster (same as --to)")
	fs.BoolVar(&o.all, "all", false, "list every change (streamed) instead of the summary")
	fs.IntVar(&o.first, "first", 20, "how many changes the summary shows")
	o.addCluster(fs)
	o.addOutput(cmd)
	return prepare(cmd)
}

func (o *diffOptions) run(cmd *cobra.Command) error {
	if err := o.validate(); err != nil {
		return err
	}
	if o.first < 0 {
		return invalidf("--first: a number of changes, 0 or more, got %d", o.first)
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

	out := cmd.OutOrStdout()
	var changed bool
	if o.all {
		changed, err = o.stream(out, fromSnap, toSnap, fromSrc.String(), toSrc.String())
	} else {
		changed, err = o.summary(out, fromSnap, toSnap, fromSrc.String(), toSrc.String())
	}
	if err != nil {
		return cannotAnswer(err)
	}
	if changed {
		return silentExit(exitNo)
	}
	return nil
}

// summary prints SummarizeDiff: as a DiffSummary with -o, else for people.
func (o *diffOptions) summary(out io.Writer, from, to *access.Snapshot, fromDesc, toDesc string) (bool, error) {
	sum := access.SummarizeDiff(from, to, o.first, diffTop)
	if done, err := o.structured(out, "DiffSummary", sum); done {
		return sum.Total > 0, err
	}
	if sum.Total == 0 {
		fmt.Fprintf(out, "No changes to effective access in Space %s.\n", sum.Space)
		return false, nil
	}
	writeDiffHeader(out, sum.Space, fromDesc, toDesc, sum.FromRevision, sum.ToRevision)
	if sum.Truncated {
		fmt.Fprintf(out, "\n%s:\n", totals(sum.Total, sum.Subjects, sum.NowAllowed, sum.NoLongerAllowed))
		for _, part := range []struct {
			column string
			of     int
			counts []access.DiffCount
		}{{"GROUP", sum.Groups, sum.ByGroup}, {"TARGET", sum.Targets, sum.ByTarget}} {
			fmt.Fprintf(out, "\n  Changes per %s (the %d with the most, of %d):\n\n", strings.ToLower(part.column), len(part.counts), part.of)
			t := newTable(out)
			t.row("    "+part.column, "CHANGES", "SUBJECTS", "GAINED", "LOST")
			for _, c := range part.counts {
				name := c.Name
				if name == "" {
					name = "(no one group)"
				}
				t.row("    "+name, fmt.Sprint(c.Changes), fmt.Sprint(c.Subjects), fmt.Sprint(c.Gained), fmt.Sprint(c.Lost))
			}
			t.flush()
		}
		fmt.Fprintf(out, "\nThe first %s:\n", plural(len(sum.Changes), "change"))
	}
	last := ""
	for _, c := range sum.Changes {
		if c.Subject != last {
			last = c.Subject
			fmt.Fprintln(out)
		}
		fmt.Fprintln(out, c.String())
	}
	if sum.Truncated {
		fmt.Fprintf(out, "\n... and %d more: --all lists every change.\n", sum.Total-len(sum.Changes))
	}
	fmt.Fprintf(out, "\n%s.\n", totals(sum.Total, sum.Subjects, sum.NowAllowed, sum.NoLongerAllowed))
	return true, nil
}

// stream writes every change as DiffEach computes it: lines for people, or
// with -o json one DiffResult document.
func (o *diffOptions) stream(out io.Writer, from, to *access.Snapshot, fromDesc, toDesc string) (bool, error) {
	w := bufio.NewWriterSize(out, 64<<10)
	format := ""
	if o.print.OutputFormat != nil {
		format = *o.print.OutputFormat
	}
	switch format {
	case "":
	case "json":
		return o.streamJSON(w, from, to)
	default:
		// Other printers need the whole document.
		res := access.Diff(from, to)
		_, err := o.structured(out, "DiffResult", res)
		return len(res.Changes) > 0, err
	}
	total, subjects, allowed, denied := 0, 0, 0, 0
	last := ""
	err := access.DiffEach(from, to, func(c access.Change) error {
		if total == 0 {
			writeDiffHeader(w, to.Space(), fromDesc, toDesc, from.Revision(), to.Revision())
		}
		total++
		if c.Subject != last {
			last = c.Subject
			subjects++
			fmt.Fprintln(w)
		}
		allowed += len(c.NowAllowed)
		denied += len(c.NoLongerAllowed)
		_, err := fmt.Fprintln(w, c.String())
		return err
	})
	if err != nil {
		return false, err
	}
	if total == 0 {
		fmt.Fprintf(w, "No changes to effective access in Space %s.\n", to.Space())
	} else {
		fmt.Fprintf(w, "\n%s.\n", totals(total, subjects, allowed, denied))
	}
	return total > 0, w.Flush()
}

func (o *diffOptions) streamJSON(w *bufio.Writer, from, to *access.Snapshot) (bool, error) {
	head, err := json.Marshal(map[string]string{
		"apiVersion": governorv1alpha1.GroupVersion.String(), "kind": "DiffResult",
		"space": to.Space(), "fromRevision": from.Revision(), "toRevision": to.Revision(),
	})
	if err != nil {
		return false, err
	}
	fmt.Fprintf(w, "%s,\"changes\":[", head[:len(head)-1])
	total := 0
	err = access.DiffEach(from, to, func(c access.Change) error {
		b, err := json.Marshal(c)
		if err != nil {
			return err
		}
		sep := "\n"
		if total > 0 {
			sep = ",\n"
		}
		total++
		if _, err := w.WriteString(sep); err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
	if err != nil {
		return false, err
	}
	fmt.Fprint(w, "\n]}\n")
	return total > 0, w.Flush()
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

func writeDiffHeader(w io.Writer, space, from, to, fromRev, toRev string) {
	fmt.Fprintf(w, "Effective access changes in Space %s\n  from %s (revision %s)\n  to   %s (revision %s)\n",
		space, from, access.ShortRevision(fromRev), to, access.ShortRevision(toRev))
}

func totals(changes, subjects, allowed, denied int) string {
	return fmt.Sprintf("%s for %s: %s now allowed, %s no longer allowed",
		plural(changes, "change"), plural(subjects, "subject"), plural(allowed, "action"), plural(denied, "action"))
}

func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

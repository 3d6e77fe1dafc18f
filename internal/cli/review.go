package cli

import (
	"bufio"
	_ "embed" // the review page
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/template"
	"time"

	"github.com/spf13/cobra"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/access"
)

type reviewOptions struct {
	options
	env    string
	format string
}

// Review formats (-o).
const (
	reviewCSV  = "csv"
	reviewJSON = "json"
	reviewHTML = "html"
)

func newReviewCommand() *cobra.Command {
	o := &reviewOptions{options: newOptions()}
	cmd := &cobra.Command{
		Use:   "review --space SPACE [--env ENV] [-o csv|json|html]",
		Short: "Export an access review: everyone who can sign in to a Space, what they can reach and why",
		Long: `Export an access review of a Space: every user the access model knows, and
for each the apps, workflows, resources and folders they can reach, the query
library, the organisation permissions (Space actions) and the groups they
administer, with their level, the actions it allows, the deciding group and
AccessRule, how they are in that group (listed, through an IdP group, every
member), and when that access ends (members[].expires, spec.expires).

Subjects are the listed users (user:EMAIL), the users of each IdP group the
Space maps and who are listed nowhere (idp:GROUP, one line each: the identity
provider knows who they are), and the users just-in-time provisioning admits
(jit:*@DOMAIN). Objects are listed as they are at the root of the folder tree;
"app/*" is every app no rule of theirs names. Nothing is listed where the level
is None and no action is allowed.

The export is stamped with the Space's revision (the content hash of the
compiled model), the instant it answers for (--at, default now) and the time
it was made. CSV (the default) and JSON are written as they are computed, so a
large Space streams; the CSV's first line is a "#" comment with the stamp.
html is one self-contained page (no network access) with a filter box and
sortable columns, to open in a browser; it also lists the memberships and rules
that have expired but are still declared.

` + inputHelp,
		Example: `  # This quarter's review of the payments Space, from the cluster, for the auditors
  governor review --space payments -o html > payments-review.html

  # Offline, from git at the tag the quarter closed on
  git worktree add /tmp/q4 v2026.12 && governor review --space payments -f /tmp/q4/spaces -o csv > q4.csv

  # What production access looks like (per-environment levels, read-only rules), as JSON
  governor review --space payments --env production -o json -f config/samples

  # As of the end of the year: access that expires before then is left out
  governor review --space payments --at 2026-12-31T23:59:59Z -f config/samples`,
		Args: exactArgs(0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	fs := cmd.Flags()
	o.addSpace(fs)
	fs.StringVar(&o.env, "env", "", "review the access in this environment: its per-environment levels and read-only restrictions (default: none)")
	fs.StringVarP(&o.format, "output", "o", reviewCSV, "output format: csv, json or html")
	o.addAt(fs)
	fs.StringArrayVarP(&o.files, "filename", "f", nil,
		"read the Space from manifests: a file or a directory of multi-document YAML (repeatable); without it, read from the cluster")
	o.addCluster(fs)
	return prepare(cmd)
}

func (o *reviewOptions) run(cmd *cobra.Command) error {
	if strings.TrimSpace(o.space) == "" && o.namespace() == "" {
		return invalidf("--space is required: the Space to review (or -n NAMESPACE: the Space governing it)")
	}
	switch o.format {
	case reviewCSV, reviewJSON, reviewHTML:
	default:
		return invalidf("-o %q: want csv, json or html", o.format)
	}
	at, err := o.instant()
	if err != nil {
		return err
	}
	src := o.source()
	if err := o.resolveSpace(cmd.Context(), src); err != nil {
		return err
	}
	snap, err := loadSnapshot(cmd.Context(), src, o.space, cmd.ErrOrStderr())
	if err != nil {
		return cannotAnswer(err)
	}
	if !at.IsZero() {
		snap = snap.AsOf(at)
	}
	if _, err := snap.GroupStates(o.env); err != nil { // an undeclared environment, before any output
		return cannotAnswer(err)
	}
	stamp := reviewStamp{
		APIVersion: governorv1alpha1.GroupVersion.String(), Kind: "AccessReview",
		Space: snap.Space(), Revision: snap.Revision(), Environment: o.env, At: snap.At().UTC(),
		GeneratedAt: time.Now().UTC(), Source: src.String(), Subjects: len(snap.ReviewSubjects()),
	}
	w := bufio.NewWriterSize(cmd.OutOrStdout(), 64<<10)
	var rw reviewWriter
	switch o.format {
	case reviewJSON:
		rw = &jsonReview{w: w}
	case reviewHTML:
		rw = &htmlReview{w: w}
	default:
		rw = &csvReview{out: w, w: csv.NewWriter(w)}
	}
	if err := writeReview(rw, snap, o.env, stamp); err != nil {
		return cannotAnswer(err)
	}
	return cannotAnswer(w.Flush())
}

// reviewStamp says what a review is of: the Space, its revision, the
// instant it answers for and when it was made.
type reviewStamp struct {
	APIVersion  string    `json:"apiVersion"`
	Kind        string    `json:"kind"`
	Space       string    `json:"space"`
	Revision    string    `json:"revision"`
	Environment string    `json:"environment,omitempty"`
	At          time.Time `json:"at"`
	GeneratedAt time.Time `json:"generatedAt"`
	Source      string    `json:"source"`
	Subjects    int       `json:"subjects"`
}

// reviewWriter writes a review in one format: the stamp, the rows as they
// come, then what has expired.
type reviewWriter interface {
	begin(reviewStamp) error
	row(access.ReviewRow) error
	end(expired []access.Expiry) error
}

func writeReview(rw reviewWriter, snap *access.Snapshot, env string, stamp reviewStamp) error {
	if err := rw.begin(stamp); err != nil {
		return err
	}
	if err := snap.Review(env, rw.row); err != nil {
		return err
	}
	return rw.end(snap.Expired())
}

// reviewCells are a row's cells, as CSV and the HTML page show them.
func reviewCells(r access.ReviewRow) []string {
	level := r.Level.String()
	if r.Target.Type == access.TargetSpace || r.Target.Type == access.TargetGroup {
		level = ""
	}
	expires := ""
	if !r.Expires.IsZero() {
		expires = r.Expires.UTC().Format(time.RFC3339)
	}
	return []string{r.Subject, r.Membership, r.Target.String(), level, strings.Join(r.Actions, " "),
		r.Group, describeSource(r.Source), r.Source.Rule, r.Via, expires}
}

var reviewColumns = strings.Fields("subject membership target level actions group source rule via expires")

// csvReview writes CSV: a "#" comment line with the stamp, the header, the rows.
type csvReview struct {
	out io.Writer
	w   *csv.Writer
}

func (c *csvReview) begin(s reviewStamp) error {
	env := ""
	if s.Environment != "" {
		env = ", environment " + s.Environment
	}
	// Written before any record: encoding/csv (Comment: '#'), pandas
	// (comment='#') and spreadsheets read past it.
	if _, err := fmt.Fprintf(c.out, "# governor access review of Space %s%s, revision %s, as of %s, generated %s from %s\n",
		s.Space, env, s.Revision, s.At.Format(time.RFC3339), s.GeneratedAt.Format(time.RFC3339), s.Source); err != nil {
		return err
	}
	return c.w.Write(reviewColumns)
}

func (c *csvReview) row(r access.ReviewRow) error { return c.w.Write(reviewCells(r)) }

func (c *csvReview) end([]access.Expiry) error {
	c.w.Flush()
	return c.w.Error()
}

type jsonReview struct {
	w     io.Writer
	first bool
}

func (j *jsonReview) begin(s reviewStamp) error {
	head, err := json.Marshal(s)
	if err != nil {
		return err
	}
	// The stamp's fields, then the rows as they come: {"apiVersion":...,"rows":[
	_, err = fmt.Fprintf(j.w, "%s,\"rows\":[\n", head[:len(head)-1])
	j.first = true
	return err
}

func (j *jsonReview) row(r access.ReviewRow) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	sep := ",\n"
	if j.first {
		sep, j.first = "", false
	}
	_, err = fmt.Fprintf(j.w, "%s%s", sep, b)
	return err
}

func (j *jsonReview) end(expired []access.Expiry) error {
	if expired == nil {
		expired = []access.Expiry{}
	}
	b, err := json.Marshal(expired)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(j.w, "\n],\"expired\":%s}\n", b)
	return err
}

// The HTML page is a head (the stamp, the filter box, the table's
// columns), the rows as a JSON array streamed into a script element, and a
// tail that renders them: no network access, no external file. The
// templates are text/template (html/template refuses a head that ends
// inside a script element): every value is passed through html, and the
// JSON is encoding/json's, which escapes <, > and &.
var (
	//go:embed review/page.html
	reviewPageHead string
	//go:embed review/tail.html
	reviewPageTail string

	reviewHead = template.Must(template.New("head").Parse(reviewPageHead))
	reviewTail = template.Must(template.New("tail").Parse(reviewPageTail))
)

type htmlReview struct {
	w     io.Writer
	first bool
}

func (h *htmlReview) begin(s reviewStamp) error {
	h.first = true
	return reviewHead.Execute(h.w, map[string]any{
		"Space": s.Space, "Environment": s.Environment, "Revision": s.Revision, "At": s.At.Format(time.RFC3339),
		"GeneratedAt": s.GeneratedAt.Format(time.RFC3339), "Source": s.Source, "Subjects": s.Subjects, "Columns": reviewColumns,
	})
}

func (h *htmlReview) row(r access.ReviewRow) error {
	// encoding/json escapes <, > and &: no cell can close the script element.
	b, err := json.Marshal(reviewCells(r))
	if err != nil {
		return err
	}
	sep := ",\n"
	if h.first {
		sep, h.first = "", false
	}
	_, err = fmt.Fprintf(h.w, "%s%s", sep, b)
	return err
}

func (h *htmlReview) end(expired []access.Expiry) error {
	if expired == nil {
		expired = []access.Expiry{}
	}
	b, err := json.Marshal(expired)
	if err != nil {
		return err
	}
	// Already JSON, escaped for a script element by encoding/json.
	return reviewTail.Execute(h.w, map[string]any{"Expired": string(b)})
}

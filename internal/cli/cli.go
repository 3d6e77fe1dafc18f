// Package cli is the access CLI: can-i, explain, who-can, permissions, diff, review.
//
// Every command reads a Space's objects either from manifests (-f PATH,
// fully offline) or from the cluster of the current kubeconfig, compiles them
// with internal/access, and answers from the compiled snapshot. Loading lives
// in source.go, shared by all commands.
//
// Exit codes follow kubectl auth can-i and diff(1): 0 for yes (no changes),
// 1 for no (changes), 2 when the command cannot answer (invalid input, a
// Space that does not exist, unreadable manifests, no cluster).
package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/printers"
	_ "k8s.io/client-go/plugin/pkg/client/auth" // kubeconfigs' credential plugins (OIDC; exec is built in)

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/access"
)

// NewCommands returns the CLI's commands for the governor root command.
func NewCommands() []*cobra.Command {
	return []*cobra.Command{
		newCanICommand(false),
		newCanICommand(true),
		newWhoCanCommand(),
		newPermissionsCommand(),
		newDiffCommand(),
		newReviewCommand(),
	}
}

// Exit codes besides 0 (yes; no changes; answered).
const (
	exitNo      = 1 // can-i: denied; diff: there are changes
	exitInvalid = 2 // the command could not answer
)

// exitError carries the process's exit code; the root command prints its
// message (when not empty) as "error: MESSAGE" and exits with ExitCode.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// ExitCode is the process's exit code.
func (e *exitError) ExitCode() int { return e.code }

// silentExit is an exit code with nothing more to say (can-i's "no" has
// already been printed).
func silentExit(code int) error { return &exitError{code: code} }

// invalidf is invalid input: exit 2 with a one-line message.
func invalidf(format string, args ...any) error {
	return &exitError{code: exitInvalid, msg: oneLine(fmt.Sprintf(format, args...))}
}

// cannotAnswer turns any failure into exit 2 with a one-line message, so
// that exit 1 always means "no" (can-i) or "changes" (diff).
func cannotAnswer(err error) error {
	if err == nil {
		return nil
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee
	}
	return &exitError{code: exitInvalid, msg: oneLine(err.Error())}
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }), "; ")
}

// options are the flags shared by the commands.
type options struct {
	space string
	files []string
	// kube are kubectl's flags for the cluster: --kubeconfig, --context,
	// -n/--namespace, --cluster, --user, ... (not kubectl's impersonation
	// flags: --as is the user being checked; not --server, --token,
	// --certificate-authority and --insecure-skip-tls-verify, which are the
	// decision API's with --server-side).
	kube   *genericclioptions.ConfigFlags
	print  *genericclioptions.PrintFlags
	server serverOptions
	// at is --at: the instant to answer for ("" is now).
	at string
}

func newOptions() options {
	kube := genericclioptions.NewConfigFlags(true)
	kube.Impersonate, kube.ImpersonateUID, kube.ImpersonateGroup, kube.ImpersonateUserExtra = nil, nil, nil, nil
	kube.APIServer, kube.BearerToken, kube.CAFile, kube.Insecure = nil, nil, nil, nil
	return options{kube: kube, print: genericclioptions.NewPrintFlags("")}
}

// addInput adds -f, the kubeconfig flags and the decision API's flags.
func (o *options) addInput(fs *pflag.FlagSet) {
	fs.StringArrayVarP(&o.files, "filename", "f", nil,
		"read the Space from manifests: a file or a directory of multi-document YAML (repeatable); without it, read from the cluster")
	o.addCluster(fs)
	o.server.addFlags(fs)
}

func (o *options) addCluster(fs *pflag.FlagSet) { o.kube.AddFlags(fs) }

// addAt adds --at, for the commands that answer at an instant.
func (o *options) addAt(fs *pflag.FlagSet) {
	fs.StringVar(&o.at, "at", "", `answer as of this instant (RFC 3339, like 2026-12-31T17:00:00Z): members and rules whose expires is after it (default: now)`)
}

// instant is --at parsed (the zero time when not given).
func (o *options) instant() (time.Time, error) {
	if strings.TrimSpace(o.at) == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(o.at))
	if err != nil {
		return time.Time{}, invalidf("--at: %q is not an RFC 3339 time (like 2026-12-31T17:00:00Z)", o.at)
	}
	return t, nil
}

func (o *options) addSpace(fs *pflag.FlagSet) {
	fs.StringVar(&o.space, "space", "", "the Space to answer in (default: the Space governing -n NAMESPACE)")
}

// addOutput adds -o json|yaml|jsonpath=...|jsonpath-file=...|go-template=...
// and --template, as kubectl has them.
func (o *options) addOutput(cmd *cobra.Command) { o.print.AddFlags(cmd) }

// validate checks the flags every command shares.
func (o *options) validate() error {
	if strings.TrimSpace(o.space) == "" && o.namespace() == "" {
		return invalidf("--space is required: the Space to answer in (or -n NAMESPACE: the Space governing it)")
	}
	if _, err := o.printer(); err != nil && !genericclioptions.IsNoCompatiblePrinterError(err) {
		return invalidf("%v", err)
	}
	if _, err := o.instant(); err != nil {
		return err
	}
	return nil
}

// namespace is -n/--namespace ("" when not given).
func (o *options) namespace() string {
	if o.kube.Namespace == nil {
		return ""
	}
	return strings.TrimSpace(*o.kube.Namespace)
}

// resolveSpace sets --space from -n: the Space governing the namespace in src.
func (o *options) resolveSpace(ctx context.Context, src source) error {
	if strings.TrimSpace(o.space) != "" {
		return nil
	}
	name, err := src.SpaceFor(ctx, o.namespace())
	if err != nil {
		return cannotAnswer(err)
	}
	o.space = name
	return nil
}

// source is where the Space's objects come from: -f manifests, else the cluster.
func (o *options) source() source {
	if len(o.files) > 0 {
		return newManifestSource(o.files)
	}
	return newClusterSource(o.kube)
}

// answerer answers from the local compile of the source or, with
// --server-side, from the operator's decision API. It resolves --space
// from -n first.
func (o *options) answerer(cmd *cobra.Command) (answerer, error) {
	src := o.source()
	if err := o.resolveSpace(cmd.Context(), src); err != nil {
		return nil, err
	}
	at, err := o.instant()
	if err != nil {
		return nil, err
	}
	if o.server.enabled {
		if len(o.files) > 0 {
			return nil, invalidf("--server-side asks the cluster's operator; it cannot be used with -f")
		}
		a, err := newServerAnswerer(o)
		if err == nil && !at.IsZero() {
			a.at = at.Format(time.RFC3339Nano)
		}
		return a, err
	}
	a := newLocalAnswerer(src, cmd.ErrOrStderr())
	a.at = at
	return a, nil
}

// printer is the -o printer; a NoCompatiblePrinterError when -o is not given.
func (o *options) printer() (printers.ResourcePrinter, error) {
	if o.print.OutputFormat == nil || *o.print.OutputFormat == "" {
		return nil, genericclioptions.NoCompatiblePrinterError{OutputFormat: o.print.OutputFormat}
	}
	p, err := o.print.ToPrinter()
	if genericclioptions.IsNoCompatiblePrinterError(err) {
		return nil, fmt.Errorf("unknown output format %q: want one of %s", *o.print.OutputFormat, strings.Join(o.print.AllowedFormats(), ", "))
	}
	return p, err
}

// structured prints v, an answer of kind kind, with kubectl's printers when
// -o asks for it (JSON, YAML, JSONPath, Go templates), and reports whether
// it did. The answer is printed as a document of apiVersion
// governor.dev/v1alpha1 and that kind, so that every printer takes it.
func (o *options) structured(w io.Writer, kind string, v any) (bool, error) {
	p, err := o.printer()
	if genericclioptions.IsNoCompatiblePrinterError(err) {
		return false, nil
	}
	if err != nil {
		return true, err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return true, err
	}
	obj := &unstructured.Unstructured{}
	if err := utiljson.Unmarshal(b, &obj.Object); err != nil {
		return true, err
	}
	obj.SetAPIVersion(governorv1alpha1.GroupVersion.String())
	obj.SetKind(kind)
	return true, p.PrintObj(obj, w)
}

// prepare sets what every command of this package shares: usage errors
// (unknown flags, wrong arguments) exit 2 like other invalid input.
func prepare(cmd *cobra.Command) *cobra.Command {
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return invalidf("%v", err) })
	cmd.SilenceUsage = true
	return cmd
}

// exactArgs wants n arguments, exiting 2 otherwise.
func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return invalidf("want %d arguments (%s), got %d; see --help", n, names, len(args))
		}
		return nil
	}
}

// parseCheck validates ACTION TARGET before anything is loaded, so that a
// typo is reported without a cluster.
func parseCheck(actionArg, targetArg string) (string, access.Target, error) {
	target, err := access.ParseTarget(targetArg)
	if err != nil {
		return "", access.Target{}, invalidf("%v", err)
	}
	action := strings.ToLower(strings.TrimSpace(actionArg))
	actions := access.Actions(target.Type)
	for _, a := range actions {
		if a == action {
			return action, target, nil
		}
	}
	return "", access.Target{}, invalidf("unknown action %q on %s (want one of: %s)", actionArg, target.Type, strings.Join(actions, ", "))
}

func joinOr(items []string, empty string) string {
	if len(items) == 0 {
		return empty
	}
	return strings.Join(items, ", ")
}

const targetHelp = `TARGET is one of:
  app/NAME, workflow/NAME, resource/NAME       an object (its folder: --folder PATH)
  appfolder/PATH, workflowfolder/PATH,
  resourcefolder/PATH                          a folder ("finance/reports")
  querylibrary                                 the query library
  space                                        the Space's settings
  group/NAME                                   a permission group (its members)

ACTION depends on the target:
  app             use, edit, release, view-unpublished, rename, move, export, delete, share
  workflow        use (alias run), edit, rename, move, export, delete
  resource        use (run queries), write (write queries), configure
  *folder         use, create, manage, create-folder
  querylibrary    use, edit
  space           view-users, view-audit-log, view-usage-analytics, manage-themes,
                  view-account-details, manage-settings
  group           manage-members`

const inputHelp = `Input: with -f PATH (files or directories of multi-document YAML, repeatable) the
command is fully offline and reads the Space, its inheritFrom Space, and the
PermissionGroups and AccessRules of its namespace (or of none) from the
manifests; other documents are ignored. Without -f it reads them from the cluster of the current
kubeconfig (--kubeconfig, --context, -n, as kubectl reads them; exec and OIDC
credentials work). Without --space, the Space is the one governing -n NAMESPACE. Objects that cannot be compiled (a rule
naming a missing group, ...) are printed as warnings on stderr and left out.`

// table lays out tab-separated cells in aligned columns, without trailing
// blanks.
type table struct {
	out io.Writer
	buf bytes.Buffer
	tw  *tabwriter.Writer
}

func newTable(out io.Writer) *table {
	t := &table{out: out}
	t.tw = tabwriter.NewWriter(&t.buf, 0, 0, 2, ' ', 0)
	return t
}

func (t *table) row(cells ...string) { fmt.Fprintln(t.tw, strings.Join(cells, "\t")) }

func (t *table) flush() {
	_ = t.tw.Flush() // into a bytes.Buffer: cannot fail
	for _, line := range strings.SplitAfter(t.buf.String(), "\n") {
		if line == "" {
			continue
		}
		fmt.Fprintln(t.out, strings.TrimRight(line, " \n"))
	}
	t.buf.Reset()
}

// ExitCode is the process's exit code for a command's error, printing its
// message (when it has one) on stderr as "error: MESSAGE": 0 for nil, the
// code an error carries (1 for no or changes, 2 when the command could not
// answer), else 1.
func ExitCode(stderr io.Writer, err error) int {
	if err == nil {
		return 0
	}
	var ec interface{ ExitCode() int }
	if errors.As(err, &ec) {
		if msg := err.Error(); msg != "" {
			fmt.Fprintln(stderr, "error:", msg)
		}
		return ec.ExitCode()
	}
	fmt.Fprintln(stderr, "error:", err)
	return 1
}

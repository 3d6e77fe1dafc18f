package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/spf13/cobra"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/gitref"
	"github.com/governor-dev/governor/internal/gitref/gitserver"
	"github.com/governor-dev/governor/internal/platform/emulator"
)

// devNamespace is Governor's own namespace in `governor dev`: the instances'
// token Secrets live there.
const devNamespace = "governor-system"

// devInstance is an emulated platform instance of one environment, on a
// fixed loopback port so that config/samples can name it.
type devInstance struct {
	env    string
	addr   string
	server *emulator.Server
}

// devEnvironments are the samples' environments and their instances' ports.
var devEnvironments = []struct{ name, addr string }{
	{"development", "127.0.0.1:7001"},
	{"staging", "127.0.0.1:7002"},
	{"production", "127.0.0.1:7003"},
}

// devChildSpaces are the samples' team Spaces; once the hub creates one in an
// instance, dev does what its admin would: mint its API token, store it, and
// sign its people in and add its apps and resources.
var devChildSpaces = []struct {
	name  string
	users []string
	// apps and workflows map names to their folder path ("" for the root):
	// some in sub-folders of the folders the samples' rules grant, which
	// Governor grants as well (Retool's folder grants reach a folder's
	// direct contents only).
	apps, workflows map[string]string
	others          map[string][]string // kind -> names
}{
	{name: "payments",
		users:     []string{"alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com", "erin@example.com"},
		apps:      map[string]string{"payouts": "", "ledger": "finance/reports", "statements": "finance/reports/monthly"},
		workflows: map[string]string{"nightly-close": "oncall/runbooks/nightly"},
		others:    map[string][]string{"resource": {"ledger-db", "pagerduty-api"}}},
}

func devDomain(space, env string) string { return space + "." + env + ".retool.localhost" }

// devSSOSecret is the Secret of the samples' identity provider.
const devSSOSecret = "sso-oidc"

// startDevInstances serves one emulated instance per environment, its admin
// Space the hub's, and stores the hub's tokens. With stateDir, each
// instance is kept in stateDir/<environment> across runs.
func startDevInstances(ctx context.Context, cfg *rest.Config, stateDir string, out io.Writer) ([]devInstance, error) {
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		return nil, err
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: devNamespace}}
	if err := c.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, err
	}
	// The hub's source control credentials: as Retool's GitHub configuration
	// names them (the emulator accepts any token), and as Governor reads the
	// repository with (the token of the dev git server).
	if err := storeSecret(ctx, c, "git-credentials", map[string]string{
		"type": "Personal", "personal_access_token": devGitToken, gitref.KeyToken: devGitToken}); err != nil {
		return nil, err
	}
	// The hub's identity provider's client secret (spec.sso.provider of the
	// samples): the emulated instances store it encrypted, as Retool does.
	if err := storeSecret(ctx, c, devSSOSecret, map[string]string{governorv1alpha1.SSOSecretOIDCClientSecret: "dev-oidc-client-secret"}); err != nil {
		return nil, err
	}
	var instances []devInstance
	for _, e := range devEnvironments {
		// Unlimited: the tour's operator spends a large budget on local
		// instances so that it syncs in seconds.
		// Releases push their branches to the dev git server, as Retool pushes to GitHub.
		opts := emulator.Options{Domain: devDomain("hub", e.name), RequestsPerMinute: -1, GitBaseURL: "http://" + devGitAddr}
		if stateDir != "" {
			opts.StateDir = filepath.Join(stateDir, e.name)
		}
		srv, err := emulator.Open(opts)
		if err != nil {
			return nil, fmt.Errorf("the emulated %s instance: %w", e.name, err)
		}
		ln, err := net.Listen("tcp", e.addr)
		if err != nil {
			return nil, fmt.Errorf("the emulated %s instance: %w", e.name, err)
		}
		hs := &http.Server{Handler: srv, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = hs.Serve(ln) }()
		go func() { <-ctx.Done(); _ = hs.Close() }()
		if err := storeToken(ctx, c, "retool-"+e.name+"-hub", srv.Space("").Token()); err != nil {
			return nil, err
		}
		instances = append(instances, devInstance{env: e.name, addr: e.addr, server: srv})
	}
	go provisionChildSpaces(ctx, c, instances, out)
	return instances, nil
}

// provisionChildSpaces stands in for the people who, once the hub created a
// team's Space in an instance, make its API token and sign in.
func provisionChildSpaces(ctx context.Context, c client.Client, instances []devInstance, out io.Writer) {
	done := map[string]bool{}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		for _, inst := range instances {
			for _, child := range devChildSpaces {
				key := inst.env + "/" + child.name
				sp := inst.server.Space(devDomain(child.name, inst.env))
				if done[key] || sp == nil {
					continue
				}
				for _, u := range child.users {
					sp.AddUser(u)
				}
				for a, folder := range child.apps {
					_, _ = sp.AddApp(a, folder)
				}
				for w, folder := range child.workflows {
					_, _ = sp.AddWorkflow(w, folder)
				}
				for _, r := range child.others["resource"] {
					_, _ = sp.AddResource(r, "")
				}
				if err := storeToken(ctx, c, "retool-"+inst.env+"-"+child.name, sp.Token()); err != nil {
					fmt.Fprintf(out, "dev: storing the %s token: %v\n", key, err)
					continue
				}
				done[key] = true
			}
		}
		deployReleases(ctx, instances)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func storeToken(ctx context.Context, c client.Client, name, token string) error {
	return storeSecret(ctx, c, name, map[string]string{"token": token})
}

func storeSecret(ctx context.Context, c client.Client, name string, data map[string]string) error {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: devNamespace}, StringData: data}
	if err := c.Create(ctx, s); apierrors.IsAlreadyExists(err) {
		return c.Update(ctx, s)
	} else if err != nil {
		return err
	}
	return nil
}

// deployReleases stands in for the read-only instances pulling their
// branches once a release artifact is merged: each team app's live release
// in the writable instance (development), which it has once its branch is
// merged (`governor dev merge`), becomes live in the others.
func deployReleases(ctx context.Context, instances []devInstance) {
	for _, child := range devChildSpaces {
		writable := instances[0].server.Space(devDomain(child.name, instances[0].env))
		if writable == nil {
			continue
		}
		writable.PullReleases(ctx)
		for a := range child.apps {
			v := writable.ReleaseVersion(a)
			if v == "" || v == "latest" {
				continue
			}
			for _, inst := range instances[1:] {
				if sp := inst.server.Space(devDomain(child.name, inst.env)); sp != nil && sp.ReleaseVersion(a) != v {
					sp.Deploy(a, v)
				}
			}
		}
	}
}

// The dev git server: the sample repository of the samples' Space hub.
const (
	devGitAddr  = "127.0.0.1:7010"
	devGitPath  = "/acme/retool-apps.git"
	devGitToken = "dev-token"
	devRepoURL  = "http://" + devGitAddr + devGitPath
)

// serveSampleRepository creates the sample repository in dir (once) and
// serves it over HTTP, behind the dev token; the emulated instances push
// their release branches to it, and `governor dev merge` merges them.
func serveSampleRepository(ctx context.Context, dir string) (string, error) {
	if _, err := gitref.CreateSampleRepository(dir); err != nil {
		return "", err
	}
	ln, err := net.Listen("tcp", devGitAddr)
	if err != nil {
		return "", fmt.Errorf("the dev git server: %w", err)
	}
	srv := gitserver.New(gitserver.Options{Repositories: map[string]string{devGitPath: dir},
		Username: gitref.DefaultTokenUsername, Password: devGitToken, Push: true})
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	go func() { <-ctx.Done(); _ = hs.Close() }()
	return devRepoURL, nil
}

// newDevMergeCommand merges a release branch into main of the dev git
// server: what a reviewer merging the release's pull request does.
func newDevMergeCommand() *cobra.Command {
	var repo, into string
	cmd := &cobra.Command{
		Use:   "merge BRANCH",
		Short: "Merge a release branch into main of governor dev's git repository (stands in for merging its pull request)",
		Long: `Merge BRANCH into --into (main) of the sample repository that governor dev
serves, and push it: what a reviewer does when merging the pull request that
the platform opened for a release. The Release (AwaitingMerge until then) is
Live once Governor sees the branch's commit on main, and the emulated instances
pick the release up. A Release names its branch in status.published.branch.
A fast-forward when main has not moved since the branch was made, else a merge
commit; a file both changed differently is refused.`,
		Example: `  governor dev merge $(kubectl get release payouts-1-4-0 -n payments -o jsonpath='{.status.published.branch}')
  governor dev merge release/payouts/1.4.0`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			creds, err := gitref.CredentialsFromSecret(map[string][]byte{gitref.KeyToken: []byte(devGitToken)})
			if err != nil {
				return err
			}
			m, err := gitref.MergeBranch(cmd.Context(), repo, creds, args[0], into,
				gitref.Signature{Name: "governor dev", Email: "dev@governor.localhost"})
			if err != nil {
				hint := ""
				if repo == devRepoURL {
					hint = " (is governor dev running?)"
				}
				return fmt.Errorf("merging %s into %s of %s: %w%s", args[0], into, repo, err, hint)
			}
			out := cmd.OutOrStdout()
			switch {
			case m.AlreadyMerged:
				fmt.Fprintf(out, "%s is already merged into %s (%s)\n", args[0], into, m.Commit[:7])
			case m.FastForward:
				fmt.Fprintf(out, "merged %s into %s: fast-forward to %s\n", args[0], into, m.Commit[:7])
			default:
				fmt.Fprintf(out, "merged %s into %s: merge commit %s\n", args[0], into, m.Commit[:7])
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&repo, "repo", devRepoURL, "the repository (governor dev's git server)")
	cmd.Flags().StringVar(&into, "into", gitref.SampleBranchMain, "the branch to merge into (the Space's default branch)")
	return cmd
}

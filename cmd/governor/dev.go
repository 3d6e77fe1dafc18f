package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/governor-dev/governor/internal/controller"
	"github.com/governor-dev/governor/internal/controlplane"
	"github.com/governor-dev/governor/internal/operator"
)

func newDevCommand() *cobra.Command {
	var (
		kubeconfigOut string
		stateDir      string
		appsRepoDir   string
		verbose       bool
		populate      bool
		opts          = operator.Options{MetricsAddr: "127.0.0.1:8080", ProbeAddr: "127.0.0.1:8081"}
	)
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run a local control plane with the operator in it",
		Long: `Start etcd, kube-apiserver and kube-controller-manager from the binaries that
hack/build-control-plane.sh builds (KUBEBUILDER_ASSETS), install Governor's
CRDs and ClusterRoles, run the operator in-process, and write a kubeconfig.
The cluster's state is kept in --state-dir across runs, and the emulated
platform instances' beside it (in instances/ next to that directory), so
that stopping and starting again is a restart; --state-dir "" starts afresh
and keeps nothing. Ctrl-C stops everything.`,
		Example: `  make dev
  KUBEBUILDER_ASSETS=$(hack/build-control-plane.sh) governor dev --kubeconfig-out /tmp/gov.kubeconfig`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctrl.SetLogger(zap.New(zap.UseDevMode(true)))
			ctx := ctrl.SetupSignalHandler()
			return runDev(ctx, cmd, devPaths{kubeconfig: kubeconfigOut, state: stateDir, appsRepo: appsRepoDir}, devOptions{verbose: verbose, populate: populate}, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&kubeconfigOut, "kubeconfig-out", ".governor/dev/kubeconfig", "where to write the kubeconfig of the local cluster")
	f.StringVar(&stateDir, "state-dir", ".governor/dev/etcd", `etcd's data directory, kept across runs with the emulated instances' state beside it ("" for a throwaway cluster and instances)`)
	f.StringVar(&appsRepoDir, "apps-repo-dir", ".governor/dev/apps/retool-apps", "where the sample git repository of the samples' releases is created (once), served at http://"+devGitAddr+devGitPath)
	f.BoolVar(&verbose, "verbose", false, "show the control plane's own logs")
	f.BoolVar(&populate, "populate", false, "create the Space "+adoptionSpace+" in the development and production instances, filled by hand as a team would before Governor, for the adoption walkthrough (docs/adoption.md); once, kept across runs")
	f.StringVar(&opts.MetricsAddr, "metrics-bind-address", opts.MetricsAddr, "address of the operator's metrics endpoint")
	f.StringVar(&opts.ProbeAddr, "health-probe-bind-address", opts.ProbeAddr, "address of /healthz and /readyz")
	f.StringVar(&opts.APIAddr, "api-bind-address", "127.0.0.1:9443", `address of the decision API ("" disables it)`)
	cmd.AddCommand(newDevMergeCommand())
	return cmd
}

// devPaths are where governor dev keeps its files.
type devPaths struct{ kubeconfig, state, appsRepo string }

// devOptions are governor dev's switches.
type devOptions struct{ verbose, populate bool }

func runDev(ctx context.Context, cmd *cobra.Command, paths devPaths, dev devOptions, opts operator.Options) error {
	out := cmd.OutOrStdout()
	kubeconfigOut := paths.kubeconfig
	repoURL, err := serveSampleRepository(ctx, paths.appsRepo)
	if err != nil {
		return err
	}
	cpOpts := controlplane.Options{DataDir: paths.state, ControllerManager: true}
	if dev.verbose {
		cpOpts.Output = cmd.ErrOrStderr()
	}
	fmt.Fprintln(out, "Starting etcd, kube-apiserver and kube-controller-manager...")
	cp, err := controlplane.Start(cpOpts)
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(out, "Stopping the control plane...")
		if err := cp.Stop(); err != nil {
			fmt.Fprintln(cmd.ErrOrStderr(), "stopping:", err)
		}
	}()
	kubeconfig, err := cp.KubeConfig()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(kubeconfigOut), 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(kubeconfigOut, kubeconfig, 0o600); err != nil {
		return err
	}
	abs, _ := filepath.Abs(kubeconfigOut)
	instances, err := startDevInstances(ctx, cp.Config, devInstancesDir(paths.state), out)
	if err != nil {
		return err
	}
	if dev.populate {
		c, err := client.New(cp.Config, client.Options{})
		if err != nil {
			return err
		}
		if err := populateAdoption(ctx, c, instances, out); err != nil {
			return err
		}
	}
	opts.Platform.Namespace = devNamespace
	opts.Platform.Resync = 20 * time.Second // releases see the read-only instances pick up a release within it
	opts.Platform.RequestsPerMinute = 6000  // local emulators: the tour syncs in seconds
	// The banner comes after the operator's start-up logs, once it is ready,
	// so that it is the last thing on the screen.
	errc := make(chan error, 1)
	go func() { errc <- operator.Run(ctx, cp.Config, opts, controller.NewModels()) }()
	select {
	case err := <-errc:
		return err
	case <-waitReady(ctx, opts.ProbeAddr, time.Minute):
	}
	printDevBanner(out, cp.Config.Host, abs, repoURL, devInstancesDir(paths.state), instances)
	if dev.populate {
		fmt.Fprintf(out, "The Space %s waits in the development and production instances to be adopted: docs/adoption.md.\n\n", adoptionSpace)
	}
	return <-errc
}

// devInstancesDir is where the emulated instances are kept: beside the
// cluster's state ("" when the cluster is a throwaway one).
func devInstancesDir(clusterState string) string {
	if clusterState == "" {
		return ""
	}
	return filepath.Join(filepath.Dir(filepath.Clean(clusterState)), "instances")
}

// waitReady is closed once the operator's /readyz answers 200, after
// timeout, or when ctx ends (at once when probes are disabled).
func waitReady(ctx context.Context, probeAddr string, timeout time.Duration) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if probeAddr == "" || probeAddr == "0" {
			return
		}
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		hc := &http.Client{Timeout: time.Second}
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+probeAddr+"/readyz", nil)
			if resp, err := hc.Do(req); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return done
}

func printDevBanner(out io.Writer, host, kubeconfig, repoURL, instancesDir string, instances []devInstance) {
	fmt.Fprintf(out, `
Governor is running against %s, with emulated platform instances:
`, host)
	for _, inst := range instances {
		fmt.Fprintf(out, "  %-12s http://%s\n", inst.env, inst.addr)
	}
	if instancesDir != "" {
		fmt.Fprintf(out, "(kept in %s across runs), ", instancesDir)
	}
	fmt.Fprintf(out, "and the sample git repository of the releases at %s.\n", repoURL)
	fmt.Fprintf(out, `
  export KUBECONFIG=%s
  kubectl apply -f config/samples/
  kubectl get spaces                       # Platform: Synced once the instances hold the model
  kubectl get governor -A
  kubectl get releases -n payments          # each release's commit, phase and where it is live
  bin/governor dev merge release/payouts/1.4.0   # merge 1.4.0's pull request: AwaitingMerge, then Live
  bin/governor can-i edit app/ledger --space payments --as carol@example.com --folder finance/reports
  bin/governor platform plan --space payments --env development

Look inside the development instance (the payments Space's groups):
  curl -s -H "Host: %[2]s" -H "Authorization: Bearer $(kubectl get secret -n %[3]s retool-development-payments -o jsonpath='{.data.token}' | base64 -d)" http://%[4]s/api/v2/groups
and its SSO configuration (JIT off, the IdP groups' role mappings):
  curl -s -H "Host: %[2]s" -H "Authorization: Bearer $(kubectl get secret -n %[3]s retool-development-payments -o jsonpath='{.data.token}' | base64 -d)" http://%[4]s/api/v2/sso/config

Press Ctrl-C to stop.
`, kubeconfig, devDomain("payments", "development"), devNamespace, instances[0].addr)

}

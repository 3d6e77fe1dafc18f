package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	ctrl "sigs.k8s.io/controller-runtime"
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
		opts          = operator.Options{MetricsAddr: "127.0.0.1:8080", ProbeAddr: "127.0.0.1:8081"}
	)
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run a local control plane with the operator in it",
		Long: `Start etcd, kube-apiserver and kube-controller-manager from the binaries that
hack/build-control-plane.sh builds (KUBEBUILDER_ASSETS), install Governor's
CRDs and ClusterRoles, run the operator in-process, and write a kubeconfig.
State is kept in --state-dir across runs. Ctrl-C stops everything.`,
		Example: `  make dev
  KUBEBUILDER_ASSETS=$(hack/build-control-plane.sh) governor dev --kubeconfig-out /tmp/gov.kubeconfig`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctrl.SetLogger(zap.New(zap.UseDevMode(true)))
			ctx := ctrl.SetupSignalHandler()
			return runDev(ctx, cmd, devPaths{kubeconfig: kubeconfigOut, state: stateDir, appsRepo: appsRepoDir}, verbose, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&kubeconfigOut, "kubeconfig-out", ".governor/dev/kubeconfig", "where to write the kubeconfig of the local cluster")
	f.StringVar(&stateDir, "state-dir", ".governor/dev/etcd", `etcd's data directory, kept across runs ("" for a throwaway cluster)`)
	f.StringVar(&appsRepoDir, "apps-repo-dir", ".governor/dev/apps/retool-apps", "where the sample git repository of the samples' releases is created (once), served at http://"+devGitAddr+devGitPath)
	f.BoolVar(&verbose, "verbose", false, "show the control plane's own logs")
	f.StringVar(&opts.MetricsAddr, "metrics-bind-address", opts.MetricsAddr, "address of the operator's metrics endpoint")
	f.StringVar(&opts.ProbeAddr, "health-probe-bind-address", opts.ProbeAddr, "address of /healthz and /readyz")
	f.StringVar(&opts.APIAddr, "api-bind-address", "127.0.0.1:9443", `address of the decision API ("" disables it)`)
	cmd.AddCommand(newDevMergeCommand())
	return cmd
}

// devPaths are where governor dev keeps its files.
type devPaths struct{ kubeconfig, state, appsRepo string }

func runDev(ctx context.Context, cmd *cobra.Command, paths devPaths, verbose bool, opts operator.Options) error {
	out := cmd.OutOrStdout()
	kubeconfigOut := paths.kubeconfig
	repoURL, err := serveSampleRepository(ctx, paths.appsRepo)
	if err != nil {
		return err
	}
	cpOpts := controlplane.Options{DataDir: paths.state, ControllerManager: true}
	if verbose {
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
	instances, err := startDevInstances(ctx, cp.Config, out)
	if err != nil {
		return err
	}
	opts.Platform.Namespace = devNamespace
	opts.Platform.Resync = 20 * time.Second // releases see the read-only instances pick up a release within it
	opts.Platform.RequestsPerMinute = 6000  // local emulators: the tour syncs in seconds
	fmt.Fprintf(out, `
Governor is running against %s, with emulated platform instances:
`, cp.Config.Host)
	for _, inst := range instances {
		fmt.Fprintf(out, "  %-12s http://%s\n", inst.env, inst.addr)
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
  curl -s -H "Host: %s" -H "Authorization: Bearer $(kubectl get secret -n %s retool-development-payments -o jsonpath='{.data.token}' | base64 -d)" http://%s/api/v2/groups

Press Ctrl-C to stop.
`, abs, devDomain("payments", "development"), devNamespace, instances[0].addr)
	return operator.Run(ctx, cp.Config, opts, controller.NewModels())
}

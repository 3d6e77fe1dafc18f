package main

import (
	"flag"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/spf13/cobra"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/governor-dev/governor/internal/controller"
	"github.com/governor-dev/governor/internal/operator"
)

func newManagerCommand() *cobra.Command {
	opts := operator.Options{}
	zapOpts := zap.Options{}
	cmd := &cobra.Command{
		Use:   "manager",
		Short: "Run the operator against the current kubeconfig or in-cluster config",
		Long: `Run the operator. Every replica keeps each Space's compiled access model
current; the leader (--leader-elect) alone writes status and provisions.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
			cfg, err := ctrl.GetConfig()
			if err != nil {
				return err
			}
			return operator.Run(ctrl.SetupSignalHandler(), cfg, opts, controller.NewModels())
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.MetricsAddr, "metrics-bind-address", ":8443", `address of the metrics endpoint ("0" disables it)`)
	f.BoolVar(&opts.SecureMetrics, "metrics-secure", true, "serve metrics over HTTPS, authenticated and authorised by the API server")
	f.StringVar(&opts.ProbeAddr, "health-probe-bind-address", ":8081", "address of /healthz and /readyz")
	f.StringVar(&opts.PprofAddr, "pprof-bind-address", "", `address of Go's /debug/pprof profiles, like "127.0.0.1:6060" (unauthenticated: keep it on loopback; "" disables it)`)
	f.BoolVar(&opts.LeaderElect, "leader-elect", false, "elect one writer among replicas")
	f.StringVar(&opts.APIAddr, "api-bind-address", "", `address of the decision API over HTTPS, like ":9443" ("" disables it)`)
	f.StringVar(&opts.APICertDir, "api-cert-dir", "", "directory holding tls.crt and tls.key for the decision API (default: self-signed)")
	f.StringSliceVar(&opts.APIDNSNames, "api-dns-names", nil, "extra DNS names of the decision API's self-signed certificate (the Service's, e.g. governor-api.governor-system.svc)")
	f.StringSliceVar(&opts.APIAuth.Audiences, "api-audience", nil, "accept only bearer tokens minted for this audience (TokenReview spec.audiences); default: any token the API server accepts")
	f.DurationVar(&opts.ModelMaxLag, "ready-max-lag", 30*time.Second, "/readyz fails while a Space's change waits longer than this to be compiled (and until every Space is compiled once)")
	f.StringVar(&opts.LeaderElectionNamespace, "leader-election-namespace", "", "namespace of the leader-election lease (default: the pod's)")
	addPlatformFlags(f, &opts.Platform, os.Getenv("POD_NAMESPACE"))
	addTenancyFlags(f, &opts.Tenancy)
	zapFlags := flag.NewFlagSet("zap", flag.ContinueOnError)
	zapOpts.BindFlags(zapFlags)
	f.AddGoFlagSet(zapFlags)
	return cmd
}

// addTenancyFlags binds what a Space may claim and hold.
func addTenancyFlags(f *pflag.FlagSet, o *controller.TenancyOptions) {
	f.StringSliceVar(&o.ProtectedNamespaces, "protected-namespaces", nil, "namespaces no Space may govern, besides kube-*, default and Governor's own (--namespace)")
	f.IntVar(&o.Limits.Groups, "max-groups-per-space", controller.DefaultMaxGroups, "PermissionGroups a Space may hold; a Space over it has no access model and is Stalled (LimitExceeded)")
	f.IntVar(&o.Limits.Rules, "max-rules-per-space", controller.DefaultMaxRules, "AccessRules a Space may hold")
	f.IntVar(&o.Limits.Members, "max-members-per-space", controller.DefaultMaxMembers, "member entries (spec.members) a Space's groups may list in all (a user in two groups counts twice)")
}

// addPlatformFlags binds the platform sync's settings.
func addPlatformFlags(f *pflag.FlagSet, o *controller.PlatformOptions, namespace string) {
	f.StringVar(&o.Namespace, "namespace", namespace, `Governor's own namespace, holding the instances' token Secrets (default $POD_NAMESPACE; "" disables the platform sync)`)
	f.IntVar(&o.RequestsPerMinute, "platform-requests-per-minute", 45, "request budget of each platform instance (negative: unlimited)")
	f.DurationVar(&o.Resync, "platform-resync", 10*time.Minute, "how often each instance is checked for drift")
	f.DurationVar(&o.PassTimeout, "platform-pass-timeout", 2*time.Minute, "longest sync pass of one environment; a longer sync goes on in the next pass")
	f.DurationVar(&o.TokenGrace, "platform-token-grace", time.Minute, "how long a Space whose token Secret does not exist yet is Reconciling before it is Stalled")
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/controller"
	platformcontroller "github.com/governor-dev/governor/internal/controller/platform"
	"github.com/governor-dev/governor/internal/operator"
	"github.com/governor-dev/governor/internal/platform"
	"github.com/governor-dev/governor/internal/platform/retool"
	"github.com/governor-dev/governor/internal/platform/syncer"
	"github.com/governor-dev/governor/internal/spacemodel"
)

func newPlatformCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "platform",
		Short: "The platform's instances: what a sync would change",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newPlanCommand(), newVerifyCommand(), newImportCommand())
	return cmd
}

type planFlags struct {
	space, env, kubeconfig, context, namespace string
	requestsPerMinute                          int
	quiet                                      bool
}

func newPlanCommand() *cobra.Command {
	var f planFlags
	cmd := &cobra.Command{
		Use:   "plan --space SPACE --env ENVIRONMENT",
		Short: "Print the API calls that would make an environment's instance hold the Space's access model",
		Long: `Read the Space, its groups and rules from the cluster, read what the environment's
instance holds through its API (with the Space's token from Governor's namespace),
and print the calls a sync would make, what is pending, and the drift. It runs the
sync's own pass with its writes turned off: nothing is written, to the instance or
to the cluster. Progress goes to stderr; reads keep to the instance's request
budget (spec.environments[].instance.requestsPerMinute, else the flag). For a
Space in Observe mode it prints the calls switching it to Additive makes (the
whole list behind status.platform[].planned).`,
		Example: `  governor platform plan --space payments --env development`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			progress := cmd.ErrOrStderr()
			if f.quiet {
				progress = io.Discard
			}
			p, err := planFor(cmd.Context(), f, progress)
			if err != nil {
				return err
			}
			p.Format(cmd.OutOrStdout())
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.space, "space", "", "the Space")
	fl.StringVar(&f.env, "env", "", "the environment whose instance is planned")
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "path to the kubeconfig (default $KUBECONFIG or ~/.kube/config)")
	fl.StringVar(&f.context, "context", "", "kubeconfig context")
	fl.StringVar(&f.namespace, "namespace", "governor-system", "Governor's namespace, holding the instances' token Secrets and Governor's records")
	fl.IntVar(&f.requestsPerMinute, "platform-requests-per-minute", 45, "request budget of an instance whose spec sets none (negative: unlimited)")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "print no progress on stderr")
	_ = cmd.MarkFlagRequired("space")
	_ = cmd.MarkFlagRequired("env")
	return cmd
}

// kubeClient connects to the cluster of the kubeconfig, saying which server
// it tried and why when it cannot.
func kubeClient(ctx context.Context, f planFlags) (client.Client, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = f.kubeconfig
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: f.context})
	cfg, err := loader.ClientConfig()
	if err != nil {
		if clientcmd.IsEmptyConfig(err) {
			return nil, fmt.Errorf("no kubeconfig: set $KUBECONFIG or pass --kubeconfig (`governor dev` writes .governor/dev/kubeconfig); looked in %s", strings.Join(rules.Precedence, ", "))
		}
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: operator.Scheme()})
	if err != nil {
		return nil, fmt.Errorf("the cluster at %s: %w", cfg.Host, err)
	}
	// One cheap read tells an unreachable or foreign server from a missing Space.
	if err := c.List(ctx, &governorv1alpha1.SpaceList{}, client.Limit(1)); err != nil {
		return nil, fmt.Errorf("the cluster at %s (%s): %w", cfg.Host, source(rules), err)
	}
	return c, nil
}

// source says where the server's address came from.
func source(rules *clientcmd.ClientConfigLoadingRules) string {
	if rules.ExplicitPath != "" {
		return "from " + rules.ExplicitPath
	}
	if v := os.Getenv("KUBECONFIG"); v != "" {
		return "from $KUBECONFIG=" + v
	}
	return "from " + strings.Join(rules.Precedence, ", ")
}

// platformEnv is a Space's environment as the platform commands read it:
// the cluster client, the loaded Space, the environment, the compiled model
// and a connection to the environment's instance.
type platformEnv struct {
	client client.Client
	loaded *spacemodel.Loaded
	env    *governorv1alpha1.Environment
	snap   *access.Snapshot
	conn   *controller.Connection
	rc     *retool.Client
}

// openEnvironment loads the Space from the cluster, compiles its model and
// connects to the environment's instance with the Space's token.
func openEnvironment(ctx context.Context, f planFlags) (*platformEnv, error) {
	c, err := kubeClient(ctx, f)
	if err != nil {
		return nil, err
	}
	loaded, err := spacemodel.Load(ctx, c, f.space)
	if err != nil {
		return nil, err
	}
	space := loaded.Space
	var env *governorv1alpha1.Environment
	var names []string
	for i := range space.Spec.Environments {
		e := &space.Spec.Environments[i]
		if e.Instance != nil {
			names = append(names, e.Name)
		}
		if e.Name == f.env {
			env = e
		}
	}
	if env == nil || env.Instance == nil {
		return nil, fmt.Errorf("the Space %s has no environment %q with an instance (environments with one: %s)", f.space, f.env, strings.Join(names, ", "))
	}
	snap, _ := loaded.Compile()
	conns := controller.NewConnections(c, controller.PlatformOptions{Namespace: f.namespace, RequestsPerMinute: f.requestsPerMinute})
	conn, err := conns.Connect(ctx, space, *env)
	if err != nil {
		return nil, fmt.Errorf("the %s instance: %w", env.Name, err)
	}
	return &platformEnv{client: c, loaded: loaded, env: env, snap: snap, conn: conn, rc: conn.Client}, nil
}

func planFor(ctx context.Context, f planFlags, progress io.Writer) (platform.Plan, error) {
	pe, err := openEnvironment(ctx, f)
	if err != nil {
		return platform.Plan{}, err
	}
	c, space, env, snap, conn := pe.client, pe.loaded.Space, pe.env, pe.snap, pe.conn
	recorded, err := platformcontroller.LoadRecorded(ctx, c, f.namespace, space.Name, env.Name)
	if err != nil {
		return platform.Plan{}, err
	}
	var creds syncer.Credentials
	if sc := space.EffectiveSourceControl(); sc != nil && sc.CredentialsSecretRef != nil {
		secret := &corev1.Secret{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: f.namespace, Name: sc.CredentialsSecretRef.Name}, secret); err == nil {
			if creds, err = controller.SourceControlCredentials(space, secret); err != nil {
				return platform.Plan{}, fmt.Errorf("source control credentials: %w", err)
			}
		}
	}
	sso, err := controller.LoadSSOProvider(ctx, c, f.namespace, space)
	if err != nil {
		return platform.Plan{}, err
	}
	start := time.Now()
	budget := "unlimited"
	if conn.RequestsPerMinute > 0 {
		budget = fmt.Sprintf("%d requests a minute", conn.RequestsPerMinute)
	}
	fmt.Fprintf(progress, "reading the %s instance (%s, %s)\n", env.Name, env.Instance.URL, budget)
	in := syncer.Input{
		Model:       snap,
		Environment: platform.Environment{Name: env.Name, ReadOnly: env.ReadOnly, Branch: env.Branch},
		Source:      controller.PlatformSource(space),
		Recorded:    recorded,
		Credentials: creds,
		SSO:         sso,
		GrantReads:  -1,
		// Every user's direct grants: the plan shows them as drift, or the
		// revocations Authoritative mode makes.
		UserGrantReads: -1,
		Progress: func(step string) {
			fmt.Fprintf(progress, "  %5.1fs %s\n", time.Since(start).Seconds(), step)
		},
	}
	in.Mode = platform.Mode(space.EffectivePlatformMode())
	if p := space.Spec.Platform; p != nil {
		in.InviteMissingMembers = p.InviteMissingMembers
	}
	res := syncer.Pass(ctx, conn.Client, in)
	if res.Err != nil {
		var e *syncer.Error
		if errors.As(res.Err, &e) && e.Reason == syncer.ReasonUnauthorized {
			return platform.Plan{}, fmt.Errorf("the %s instance refused the token of Secret %s: %w", env.Name, conn.Secret, res.Err)
		}
		return platform.Plan{}, fmt.Errorf("the %s instance: %w", env.Name, res.Err)
	}
	for _, g := range res.Gone {
		fmt.Fprintf(progress, "  recorded but gone from the instance (a sync creates it again): %s\n", g)
	}
	return res.Plan, nil
}

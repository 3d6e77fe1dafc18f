package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/controller"
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
	cmd.AddCommand(newPlanCommand(), newVerifyCommand())
	return cmd
}

type planFlags struct {
	space, env, kubeconfig, context, namespace string
	requestsPerMinute                          int
}

func newPlanCommand() *cobra.Command {
	var f planFlags
	cmd := &cobra.Command{
		Use:   "plan --space SPACE --env ENVIRONMENT",
		Short: "Print the API calls that would make an environment's instance hold the Space's access model",
		Long: `Read the Space, its groups and rules from the cluster, read what the environment's
instance holds through its API (with the Space's token from Governor's namespace),
and print the calls a sync would make, what is pending, and the drift. Nothing is
written, to the instance or to the cluster.`,
		Example: `  governor platform plan --space payments --env development`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := planFor(cmd.Context(), f)
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
	fl.StringVar(&f.namespace, "namespace", "governor-system", "Governor's namespace, holding the instances' token Secrets")
	fl.IntVar(&f.requestsPerMinute, "platform-requests-per-minute", retool.DefaultRequestsPerMinute, "request budget of the instance (negative: unlimited)")
	_ = cmd.MarkFlagRequired("space")
	_ = cmd.MarkFlagRequired("env")
	return cmd
}

// platformEnv is a Space's environment as the platform commands read it:
// the cluster client, the loaded Space, the environment, the compiled model
// and a connection to the environment's instance.
type platformEnv struct {
	client client.Client
	loaded *spacemodel.Loaded
	env    *governorv1alpha1.Environment
	snap   *access.Snapshot
	rc     *retool.Client
}

// openEnvironment loads the Space from the cluster, compiles its model and
// connects to the environment's instance with the Space's token.
func openEnvironment(ctx context.Context, f planFlags) (*platformEnv, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = f.kubeconfig
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: f.context}).ClientConfig()
	if err != nil {
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: operator.Scheme()})
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
	conn, err := controller.NewConnections(c, controller.PlatformOptions{Namespace: f.namespace, RequestsPerMinute: f.requestsPerMinute}).Connect(ctx, space, *env)
	if err != nil {
		return nil, fmt.Errorf("the %s instance: %w", env.Name, err)
	}
	return &platformEnv{client: c, loaded: loaded, env: env, snap: snap, rc: conn.Client}, nil
}

func planFor(ctx context.Context, f planFlags) (platform.Plan, error) {
	pe, err := openEnvironment(ctx, f)
	if err != nil {
		return platform.Plan{}, err
	}
	c, loaded, env, snap, rc := pe.client, pe.loaded, pe.env, pe.snap, pe.rc
	space := loaded.Space
	// What Governor recorded of the instance is on every group and rule,
	// those being deleted included (the loader leaves those out).
	var groups governorv1alpha1.PermissionGroupList
	if err := c.List(ctx, &groups, client.InNamespace(loaded.Namespace)); err != nil {
		return platform.Plan{}, err
	}
	var accessRules governorv1alpha1.AccessRuleList
	if err := c.List(ctx, &accessRules, client.InNamespace(loaded.Namespace)); err != nil {
		return platform.Plan{}, err
	}
	desired, err := platform.Project(snap, platform.Environment{Name: env.Name, ReadOnly: env.ReadOnly, Branch: env.Branch}, controller.PlatformSource(space))
	if err != nil {
		return platform.Plan{}, err
	}
	observed, err := syncer.Observe(ctx, rc, desired, syncer.NewMemory(), syncer.ObserveOptions{GrantReads: -1})
	if err != nil {
		return platform.Plan{}, fmt.Errorf("reading the %s instance: %w", env.Name, err)
	}
	opts := platform.Options{Ownership: controller.PlatformOwnership(env.Name, groups.Items, accessRules.Items)}
	if p := space.Spec.Platform; p != nil {
		opts.Mode, opts.InviteMissingMembers = platform.Mode(p.Mode), p.InviteMissingMembers
	}
	return platform.NewPlan(desired, observed, opts), nil
}

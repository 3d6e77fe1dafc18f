package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/platform/importer"
	"github.com/governor-dev/governor/internal/platform/retool"
	"github.com/governor-dev/governor/internal/platform/syncer"
)

type importFlags struct {
	planFlags
	envs   []string
	output string
}

func newImportCommand() *cobra.Command {
	var f importFlags
	cmd := &cobra.Command{
		Use:   "import --space SPACE --env ENVIRONMENT [--env ENVIRONMENT ...]",
		Short: "Write the PermissionGroups and AccessRules that reproduce what an environment's instance holds",
		Long: `Read everything the environment's instance holds of the Space (its groups with
their levels, flags, members and grants, its users, invitations, folders, apps,
resources and grants to single users) through its API, with the Space's token
from Governor's namespace, and print the PermissionGroups and AccessRules that
reproduce it as YAML on stdout, for review before they are committed. Nothing is
written, to the instance or to the cluster.

Retool's default groups become the built-in roles (all-users, viewer, editor,
admin); other groups get a name from theirs ("Finance Team" -> finance-team,
the instance name kept as displayName). Grants become one AccessRule per group
and level. What the model cannot hold, and the calls a sync makes once the
objects are applied, are comments naming each item.

With --env repeated, the first environment is the reference: a resource whose
level differs between the instances gets environments: levels; anything else
that differs keeps the first environment's value, and a comment says so.
Reads keep to the instance's request budget (spec.environments[].instance.
requestsPerMinute, else the flag); a group costs four requests and an active
user two (their grants; deactivated accounts reach nothing and are skipped). docs/adoption.md walks through adopting an instance.`,
		Example: `  governor platform import --space payments --env development > payments.yaml
  governor platform import --space payments --env production --env development -o yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.output != "yaml" {
				return fmt.Errorf("-o %s: the only output is yaml", f.output)
			}
			progress := cmd.ErrOrStderr()
			if f.quiet {
				progress = io.Discard
			}
			res, header, err := importSpace(cmd.Context(), f, progress)
			if err != nil {
				return err
			}
			return importer.Write(cmd.OutOrStdout(), res, header)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.space, "space", "", "the Space")
	fl.StringArrayVar(&f.envs, "env", nil, "an environment whose instance is read; repeatable (the first is the reference)")
	fl.StringVarP(&f.output, "output", "o", "yaml", "output format (yaml)")
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "path to the kubeconfig (default $KUBECONFIG or ~/.kube/config)")
	fl.StringVar(&f.context, "context", "", "kubeconfig context")
	fl.StringVar(&f.namespace, "namespace", "governor-system", "Governor's namespace, holding the instances' token Secrets")
	fl.IntVar(&f.requestsPerMinute, "platform-requests-per-minute", retool.DefaultRequestsPerMinute, "request budget of an instance whose spec sets none (negative: unlimited)")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "print no progress on stderr")
	_ = cmd.MarkFlagRequired("space")
	_ = cmd.MarkFlagRequired("env")
	return cmd
}

// importSpace reads each environment's instance and imports them, with the
// header lines the YAML starts with. Warnings about the Space as it is
// declared go to progress.
func importSpace(ctx context.Context, f importFlags, progress io.Writer) (importer.Result, []string, error) {
	var envs []importer.Environment
	var namespace string
	var existing []governorv1alpha1.PermissionGroup
	var existingRules []governorv1alpha1.AccessRule
	var space *governorv1alpha1.Space
	header := []string{fmt.Sprintf("Imported by `governor platform import --space %s --env %s`.", f.space, strings.Join(f.envs, " --env "))}
	for i, name := range f.envs {
		if slices.Contains(f.envs[:i], name) {
			return importer.Result{}, nil, fmt.Errorf("--env %s: given twice", name)
		}
	}
	for i, name := range f.envs {
		pf := f.planFlags
		pf.env = name
		pe, err := openEnvironment(ctx, pf)
		if err != nil {
			return importer.Result{}, nil, err
		}
		if i == 0 {
			space, namespace = pe.loaded.Effective, pe.loaded.Namespace
			existing, existingRules = pe.loaded.Groups, pe.loaded.Rules
		}
		start := time.Now()
		budget := "unlimited"
		if pe.conn.RequestsPerMinute > 0 {
			budget = fmt.Sprintf("%d requests a minute", pe.conn.RequestsPerMinute)
		}
		fmt.Fprintf(progress, "reading the %s instance (%s, %s)\n", name, pe.env.Instance.URL, budget)
		o, err := syncer.ObserveAll(ctx, pe.rc, syncer.ObserveOptions{Progress: func(step string) {
			fmt.Fprintf(progress, "  %5.1fs %s\n", time.Since(start).Seconds(), step)
		}})
		if err != nil {
			if retool.IsUnauthorized(err) {
				return importer.Result{}, nil, fmt.Errorf("the %s instance refused the token of Secret %s: %w", name, pe.conn.Secret, err)
			}
			return importer.Result{}, nil, fmt.Errorf("the %s instance: %w", name, err)
		}
		envs = append(envs, importer.Environment{Name: name, Observed: o})
		header = append(header, fmt.Sprintf("%s: %s (%d groups, %d users, %d folders, %d apps, %d resources).",
			name, pe.env.Instance.URL, len(o.Groups), len(o.Users), len(o.Folders), len(o.Apps), len(o.Resources)))
	}
	res, err := importer.Import(envs, importer.Options{Namespace: namespace})
	if err != nil {
		return res, nil, err
	}
	header = append(header, "Review every comment before committing; docs/adoption.md says what applying changes and how to keep the instance as it is.")
	for _, w := range importWarnings(res, space, existing, existingRules) {
		fmt.Fprintln(progress, "warning:", w)
	}
	return res, header, nil
}

// importWarnings says where the Space as declared would change the meaning
// of the imported objects: groups and rules it declares already, and the
// just-in-time provisioning that the users in All Users only need.
func importWarnings(res importer.Result, space *governorv1alpha1.Space, groups []governorv1alpha1.PermissionGroup, rules []governorv1alpha1.AccessRule) []string {
	var out []string
	imported := map[string]bool{}
	for _, g := range res.Groups {
		imported["PermissionGroup/"+g.Name] = true
	}
	for _, r := range res.Rules {
		imported["AccessRule/"+r.Name] = true
	}
	var replaced, kept []string
	for _, g := range groups {
		if g.Labels[governorv1alpha1.LabelManagedBy] == governorv1alpha1.ManagedByGovernor {
			continue // a default group Governor created: applying adopts it
		}
		if imported["PermissionGroup/"+g.Name] {
			replaced = append(replaced, "PermissionGroup/"+g.Name)
		} else {
			kept = append(kept, "PermissionGroup/"+g.Name)
		}
	}
	for _, r := range rules {
		if imported["AccessRule/"+r.Name] {
			replaced = append(replaced, "AccessRule/"+r.Name)
		} else {
			kept = append(kept, "AccessRule/"+r.Name)
		}
	}
	if len(replaced) > 0 {
		out = append(out, fmt.Sprintf("the Space declares %s already: applying the import replaces their spec", strings.Join(replaced, ", ")))
	}
	if len(kept) > 0 {
		out = append(out, fmt.Sprintf("the Space also declares %s, which the import does not hold: the plan after applying includes them", strings.Join(kept, ", ")))
	}
	if len(res.JITDomains) > 0 && space != nil {
		jit := space.Spec.SSO != nil && space.Spec.SSO.JIT != nil && space.Spec.SSO.JIT.Enabled
		var missing []string
		for _, d := range res.JITDomains {
			if !jit || len(space.Spec.SSO.JIT.AllowedDomains) > 0 && !slices.Contains(space.Spec.SSO.JIT.AllowedDomains, d) {
				missing = append(missing, d)
			}
		}
		if len(missing) > 0 {
			out = append(out, fmt.Sprintf("users of %s are in no group but All Users, and the Space's spec.sso.jit does not admit them: the model gives them nothing (see the Space's note in the YAML)", strings.Join(missing, ", ")))
		}
	}
	return out
}

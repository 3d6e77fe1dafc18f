package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/controller"
	"github.com/governor-dev/governor/internal/platform"
	"github.com/governor-dev/governor/internal/platform/retool"
	"github.com/governor-dev/governor/internal/platform/syncer"
)

// differencesFound makes verify exit 1 when the instance and the model
// differ (the differences are printed on stdout already).
type differencesFound struct{ n int }

func (e *differencesFound) Error() string {
	return fmt.Sprintf("%d difference(s) between the instance and the model", e.n)
}
func (e *differencesFound) ExitCode() int { return 1 }

type verifyFlags struct {
	planFlags
	objects []string
}

func newVerifyCommand() *cobra.Command {
	var f verifyFlags
	cmd := &cobra.Command{
		Use:   "verify --space SPACE --env ENVIRONMENT [--object TYPE/NAME ...]",
		Short: "Compare every user's level in an environment's instance with the Space's access model",
		Long: `Read Retool's own account of who can access every app, folder, resource and
workflow of the environment's instance (its accessList, one request per object,
within the request budget) and compare each active user's level with the level
the Space's access model gives them there. Print each difference: the user, the
object, the instance's level and where the instance says it comes from, the
model's level and what decided it. Then compare the instance's SSO
configuration (JIT, allowed domains, role mappings, the provider's settings)
with the Space's, secrets aside. Exit 1 when there is any difference.

Items in the archive or in a user's drafts are not part of the model and are
not compared. Users who are members through an IdP group are checked with the
IdP groups of the instance groups they are in.`,
		Example: `  governor platform verify --space payments --env production
  governor platform verify --space payments --env development --object app/payouts --object appfolder/finance`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := verify(cmd.Context(), f, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			res.Format(cmd.OutOrStdout())
			if n := len(res.Differences) + len(res.SSO); n > 0 {
				return &differencesFound{n: n}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.space, "space", "", "the Space")
	fl.StringVar(&f.env, "env", "", "the environment whose instance is verified")
	fl.StringArrayVar(&f.objects, "object", nil, "verify only this object (app/NAME, workflow/NAME, resource/NAME, appfolder/PATH, workflowfolder/PATH, resourcefolder/PATH); repeatable")
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "path to the kubeconfig (default $KUBECONFIG or ~/.kube/config)")
	fl.StringVar(&f.context, "context", "", "kubeconfig context")
	fl.StringVar(&f.namespace, "namespace", "governor-system", "Governor's namespace, holding the instances' token Secrets")
	fl.IntVar(&f.requestsPerMinute, "platform-requests-per-minute", retool.DefaultRequestsPerMinute, "request budget of the instance (negative: unlimited)")
	_ = cmd.MarkFlagRequired("space")
	_ = cmd.MarkFlagRequired("env")
	return cmd
}

func verify(ctx context.Context, f verifyFlags, progress io.Writer) (platform.VerifyResult, error) {
	var only []access.Target
	for _, o := range f.objects {
		t, err := access.ParseTarget(o)
		if err != nil {
			return platform.VerifyResult{}, fmt.Errorf("--object: %w", err)
		}
		if _, ok := verifyObjectType(t); !ok {
			return platform.VerifyResult{}, fmt.Errorf("--object %s: want an app, workflow, resource or folder", o)
		}
		only = append(only, t)
	}
	pe, err := openEnvironment(ctx, f.planFlags)
	if err != nil {
		return platform.VerifyResult{}, err
	}
	start := time.Now()
	in := syncer.VerifyInput{Model: pe.snap, Space: pe.loaded.Input, Environment: pe.env.Name,
		Progress: func(read, of int) {
			if read%50 == 0 {
				fmt.Fprintf(progress, "read %d of %d access lists (%s)\n", read, of, time.Since(start).Round(time.Second))
			}
		}}
	if len(only) > 0 {
		in.Select = func(objects []platform.InstanceObject) []platform.InstanceObject { return selectObjects(objects, only) }
	}
	v, err := syncer.Verify(ctx, pe.rc, in)
	if err != nil {
		return platform.VerifyResult{}, fmt.Errorf("the %s instance: %w", pe.env.Name, err)
	}
	res := v.VerifyResult
	if len(only) == 0 {
		provider, err := controller.LoadSSOProvider(ctx, pe.client, f.namespace, pe.loaded.Space)
		if err != nil {
			return platform.VerifyResult{}, err
		}
		if res.SSO, err = syncer.VerifySSO(ctx, pe.rc, pe.snap, pe.env.Name, provider); err != nil {
			return platform.VerifyResult{}, fmt.Errorf("the %s instance: %w", pe.env.Name, err)
		}
	}
	if len(only) > 0 && res.Objects < len(only) {
		return platform.VerifyResult{}, fmt.Errorf("--object: %d of the %d objects named are not in the %s instance", len(only)-res.Objects, len(only), pe.env.Name)
	}
	if v.Outside > 0 && len(only) == 0 {
		res.Skipped = append(res.Skipped, fmt.Sprintf("%d item(s) in the archive or in users' drafts, which no Space's model covers", v.Outside))
	}
	return res, nil
}

// verifyObjectType is the instance object type a check target names.
func verifyObjectType(t access.Target) (platform.ObjectType, bool) {
	switch t.Type {
	case access.TargetApp:
		return platform.ObjectApp, true
	case access.TargetWorkflow:
		return platform.ObjectWorkflow, true
	case access.TargetResource:
		return platform.ObjectResource, true
	case access.TargetAppFolder, access.TargetWorkflowFolder, access.TargetResourceFolder:
		return platform.ObjectFolder, true
	}
	return "", false
}

// selectObjects keeps the objects the targets name.
func selectObjects(objects []platform.InstanceObject, only []access.Target) []platform.InstanceObject {
	var out []platform.InstanceObject
	for _, o := range objects {
		for _, t := range only {
			typ, _ := verifyObjectType(t)
			if o.Type != typ || o.Name != t.Name {
				continue
			}
			if typ == platform.ObjectFolder && string(t.Type) != platform.FolderType(o.Kind)+"folder" {
				continue
			}
			out = append(out, o)
			break
		}
	}
	return out
}

package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/spacemodel"
)

// This file is the one place that loads a Space's access model. Every command
// goes through an answerer (can-i, explain, who-can, permissions) or a source
// (diff):
//
//   - source compiles a Space's snapshot: manifestSource from -f files,
//     clusterSource from the cluster of the current kubeconfig.
//   - answerer answers checks. localAnswerer answers from a source's snapshot;
//     a later --server-side mode asks the operator's decision API instead by
//     implementing answerer over HTTP, with no change to the commands.

// source gives the compiled access model of a Space.
type source interface {
	// Snapshot compiles the named Space. The problems are the objects left
	// out of the model (warnings, not errors). A Space that does not exist
	// is a *spaceNotFoundError.
	Snapshot(ctx context.Context, space string) (*access.Snapshot, []access.Problem, error)
	// String describes the source for messages.
	String() string
}

// answerer answers the questions of can-i, who-can and permissions.
type answerer interface {
	Check(ctx context.Context, space string, req access.Request) (access.Decision, error)
	WhoCan(ctx context.Context, space string, req access.Request) (access.WhoCanResult, error)
	Permissions(ctx context.Context, space, user string, idpGroups []string) (access.PermissionsResult, error)
	// Environments are the Space's declared environments (for explanations).
	Environments(ctx context.Context, space string) ([]access.Environment, error)
}

// spaceNotFoundError is a Space missing from the manifests or the cluster.
type spaceNotFoundError struct{ msg string }

func (e *spaceNotFoundError) Error() string { return e.msg }

// loadSnapshot compiles space from src and prints its compile problems as
// warnings on warn. They do not fail the command: the rest of the Space
// compiles and answers, as it does in the operator.
func loadSnapshot(ctx context.Context, src source, space string, warn io.Writer) (*access.Snapshot, error) {
	snap, problems, err := src.Snapshot(ctx, space)
	if err != nil {
		return nil, err
	}
	for _, p := range problems {
		fmt.Fprintf(warn, "warning: %s\n", p)
	}
	return snap, nil
}

// localAnswerer answers from a snapshot compiled on this machine. It compiles
// once per Space and remembers the result.
type localAnswerer struct {
	src  source
	warn io.Writer

	mu    sync.Mutex
	snaps map[string]*access.Snapshot
}

func newLocalAnswerer(src source, warn io.Writer) *localAnswerer {
	return &localAnswerer{src: src, warn: warn, snaps: map[string]*access.Snapshot{}}
}

func (a *localAnswerer) snapshot(ctx context.Context, space string) (*access.Snapshot, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if s, ok := a.snaps[space]; ok {
		return s, nil
	}
	s, err := loadSnapshot(ctx, a.src, space, a.warn)
	if err != nil {
		return nil, err
	}
	a.snaps[space] = s
	return s, nil
}

func (a *localAnswerer) Check(ctx context.Context, space string, req access.Request) (access.Decision, error) {
	s, err := a.snapshot(ctx, space)
	if err != nil {
		return access.Decision{}, err
	}
	return s.Check(req)
}

func (a *localAnswerer) WhoCan(ctx context.Context, space string, req access.Request) (access.WhoCanResult, error) {
	s, err := a.snapshot(ctx, space)
	if err != nil {
		return access.WhoCanResult{}, err
	}
	return s.WhoCan(req)
}

func (a *localAnswerer) Permissions(ctx context.Context, space, user string, idpGroups []string) (access.PermissionsResult, error) {
	s, err := a.snapshot(ctx, space)
	if err != nil {
		return access.PermissionsResult{}, err
	}
	return s.Permissions(user, idpGroups)
}

func (a *localAnswerer) Environments(ctx context.Context, space string) ([]access.Environment, error) {
	s, err := a.snapshot(ctx, space)
	if err != nil {
		return nil, err
	}
	return s.Environments(), nil
}

// manifestSource compiles from files or directories of multi-document YAML.
type manifestSource struct {
	paths []string

	once sync.Once
	objs *spacemodel.Objects
	err  error
}

func newManifestSource(paths []string) *manifestSource { return &manifestSource{paths: paths} }

func (m *manifestSource) String() string { return "manifests " + strings.Join(m.paths, ", ") }

func (m *manifestSource) Snapshot(_ context.Context, space string) (*access.Snapshot, []access.Problem, error) {
	m.once.Do(func() { m.objs, m.err = spacemodel.LoadManifests(m.paths...) })
	if m.err != nil {
		return nil, nil, fmt.Errorf("reading manifests: %w", m.err)
	}
	if !m.hasSpace(space) {
		names := make([]string, 0, len(m.objs.Spaces))
		for _, s := range m.objs.Spaces {
			names = append(names, s.Name)
		}
		found := strings.Join(names, ", ")
		if found == "" {
			found = "none"
		}
		return nil, nil, &spaceNotFoundError{fmt.Sprintf("no Space %q in %s (Spaces found: %s)", space, m, found)}
	}
	sp, groups, rules, err := m.objs.Space(space)
	if err != nil {
		return nil, nil, err
	}
	snap, problems := access.Compile(spacemodel.Input(sp, groups, rules))
	return snap, problems, nil
}

func (m *manifestSource) hasSpace(name string) bool {
	for _, s := range m.objs.Spaces {
		if s.Name == name {
			return true
		}
	}
	return false
}

// clusterSource reads a Space, its groups and its rules from a cluster.
type clusterSource struct {
	kubeconfig, context string

	once sync.Once
	c    client.Client
	desc string
	err  error
}

func newClusterSource(kubeconfig, kubeContext string) *clusterSource {
	return &clusterSource{kubeconfig: kubeconfig, context: kubeContext}
}

func (c *clusterSource) String() string {
	if c.desc != "" {
		return c.desc
	}
	return "the cluster"
}

// client builds the client once, from --kubeconfig and --context as kubectl
// reads them (KUBECONFIG and ~/.kube/config when --kubeconfig is unset).
func (c *clusterSource) client() (client.Client, error) {
	c.once.Do(func() {
		rules := clientcmd.NewDefaultClientConfigLoadingRules()
		rules.ExplicitPath = c.kubeconfig
		overrides := &clientcmd.ConfigOverrides{CurrentContext: c.context}
		cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
		cfg, err := cc.ClientConfig()
		if err != nil {
			c.err = fmt.Errorf("no cluster to read from (use -f PATH to read manifests instead): %w", err)
			return
		}
		c.desc = "the cluster at " + cfg.Host
		if raw, err := cc.RawConfig(); err == nil {
			ctx := c.context
			if ctx == "" {
				ctx = raw.CurrentContext
			}
			if ctx != "" {
				c.desc = fmt.Sprintf("the cluster of context %s (%s)", ctx, cfg.Host)
			}
		}
		scheme := runtime.NewScheme()
		if err := governorv1alpha1.AddToScheme(scheme); err != nil {
			c.err = err
			return
		}
		c.c, c.err = client.New(cfg, client.Options{Scheme: scheme})
	})
	return c.c, c.err
}

func (c *clusterSource) Snapshot(ctx context.Context, space string) (*access.Snapshot, []access.Problem, error) {
	cl, err := c.client()
	if err != nil {
		return nil, nil, err
	}
	sp, err := c.getSpace(ctx, cl, space)
	if err != nil {
		return nil, nil, err
	}
	if from := sp.Spec.InheritFrom; from != "" {
		src, err := c.getSpace(ctx, cl, from)
		var nf *spaceNotFoundError
		switch {
		case errors.As(err, &nf):
			// The operator reports a missing inheritFrom on the Space; compile
			// with the Space's own settings, as it does.
		case err != nil:
			return nil, nil, err
		default:
			sp = spacemodel.Inherit(sp, src)
		}
	}
	ns := sp.Status.Namespace
	if ns == "" {
		ns = sp.TargetNamespace()
	}
	var groups governorv1alpha1.PermissionGroupList
	if err := cl.List(ctx, &groups, client.InNamespace(ns)); err != nil {
		return nil, nil, fmt.Errorf("listing PermissionGroups in namespace %s: %w", ns, err)
	}
	var rules governorv1alpha1.AccessRuleList
	if err := cl.List(ctx, &rules, client.InNamespace(ns)); err != nil {
		return nil, nil, fmt.Errorf("listing AccessRules in namespace %s: %w", ns, err)
	}
	snap, problems := access.Compile(spacemodel.Input(sp, groups.Items, rules.Items))
	return snap, problems, nil
}

func (c *clusterSource) getSpace(ctx context.Context, cl client.Client, name string) (*governorv1alpha1.Space, error) {
	var sp governorv1alpha1.Space
	if err := cl.Get(ctx, client.ObjectKey{Name: name}, &sp); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, &spaceNotFoundError{fmt.Sprintf("no Space %q in %s", name, c)}
		}
		return nil, fmt.Errorf("getting Space %s: %w", name, err)
	}
	return &sp, nil
}

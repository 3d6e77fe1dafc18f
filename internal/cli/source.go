package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
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
	// SpaceFor names the Space that governs a namespace (-n without --space).
	SpaceFor(ctx context.Context, namespace string) (string, error)
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
	// at is the instant to answer for (zero: when compiled, now).
	at time.Time

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
	if !a.at.IsZero() {
		s = s.AsOf(a.at)
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

// compileSpace loads a Space from r with spacemodel.Load, the loader the
// operator uses too, and compiles it.
func compileSpace(ctx context.Context, r client.Reader, space string, where fmt.Stringer) (*access.Snapshot, []access.Problem, error) {
	l, err := spacemodel.Load(ctx, r, space)
	var nf *spacemodel.NotFoundError
	if errors.As(err, &nf) {
		msg := fmt.Sprintf("no Space %q in %s", space, where)
		if objs, ok := r.(*spacemodel.Objects); ok {
			msg += fmt.Sprintf(" (Spaces found: %s)", joinOr(objs.SpaceNames(), "none"))
		}
		return nil, nil, &spaceNotFoundError{msg}
	}
	var no *spacemodel.NotOwnedError
	if errors.As(err, &no) {
		// The operator compiles no model for it: it answers for nothing.
		return nil, nil, &spaceNotFoundError{fmt.Sprintf("%s in %s", no.Error(), where)}
	}
	if err != nil {
		return nil, nil, err
	}
	snap, problems := l.Compile()
	return snap, problems, nil
}

// spaceFor is the Space that governs namespace ns among those r holds.
func spaceFor(ctx context.Context, r client.Reader, ns string, where fmt.Stringer) (string, error) {
	var spaces governorv1alpha1.SpaceList
	if objs, ok := r.(*spacemodel.Objects); ok {
		spaces.Items = objs.Spaces
	} else if err := r.List(ctx, &spaces); err != nil {
		return "", fmt.Errorf("listing Spaces: %w", err)
	}
	for i := range spaces.Items {
		// A Space whose status says it does not own the namespace does not govern it.
		if spaces.Items[i].TargetNamespace() == ns && spacemodel.NotOwned(&spaces.Items[i]) == nil {
			return spaces.Items[i].Name, nil
		}
	}
	return "", invalidf("no Space governs namespace %s in %s: give --space", ns, where)
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

func (m *manifestSource) reader() (client.Reader, error) {
	m.once.Do(func() { m.objs, m.err = spacemodel.LoadManifests(m.paths...) })
	if m.err != nil {
		return nil, fmt.Errorf("reading manifests: %w", m.err)
	}
	return m.objs, nil
}

func (m *manifestSource) Snapshot(ctx context.Context, space string) (*access.Snapshot, []access.Problem, error) {
	r, err := m.reader()
	if err != nil {
		return nil, nil, err
	}
	return compileSpace(ctx, r, space, m)
}

func (m *manifestSource) SpaceFor(ctx context.Context, ns string) (string, error) {
	r, err := m.reader()
	if err != nil {
		return "", err
	}
	return spaceFor(ctx, r, ns, m)
}

// clusterSource reads a Space, its groups and its rules from a cluster.
type clusterSource struct {
	flags *genericclioptions.ConfigFlags

	once sync.Once
	c    client.Client
	desc string
	err  error
}

func newClusterSource(flags *genericclioptions.ConfigFlags) *clusterSource {
	return &clusterSource{flags: flags}
}

func (c *clusterSource) String() string {
	if c.desc != "" {
		return c.desc
	}
	return "the cluster"
}

// client builds the client once, from the kubeconfig flags as kubectl reads
// them (--kubeconfig, else $KUBECONFIG, else ~/.kube/config; --context;
// exec and OIDC credentials).
func (c *clusterSource) client() (client.Client, error) {
	c.once.Do(func() {
		cfg, err := c.flags.ToRESTConfig()
		if err != nil {
			c.err = fmt.Errorf("no cluster to read from (use -f PATH to read manifests instead): %w", err)
			return
		}
		c.desc = "the cluster at " + cfg.Host
		if raw, err := c.flags.ToRawKubeConfigLoader().RawConfig(); err == nil {
			ctx := raw.CurrentContext
			if c.flags.Context != nil && *c.flags.Context != "" {
				ctx = *c.flags.Context
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
	return compileSpace(ctx, cl, space, c)
}

func (c *clusterSource) SpaceFor(ctx context.Context, ns string) (string, error) {
	cl, err := c.client()
	if err != nil {
		return "", err
	}
	return spaceFor(ctx, cl, ns, c)
}

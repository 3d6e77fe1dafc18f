// Package controlplane runs a real, local Kubernetes control plane (etcd,
// kube-apiserver and optionally kube-controller-manager) from binaries built
// by hack/build-control-plane.sh, with Governor's CRDs installed. Tests and
// `governor dev` both start it from here.
package controlplane

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/governor-dev/governor/config"
)

// AssetsEnv names the directory holding kube-apiserver, etcd and
// kube-controller-manager, as envtest expects it.
const AssetsEnv = "KUBEBUILDER_ASSETS"

// Options configure a control plane.
type Options struct {
	// AssetsDir holds the binaries; defaults to $KUBEBUILDER_ASSETS.
	AssetsDir string
	// DataDir keeps etcd's state across runs; empty means a temporary directory.
	DataDir string
	// ControllerManager also runs kube-controller-manager with the namespace
	// and garbage-collector controllers, so namespaces finish deleting and
	// owned objects are collected as in a cluster.
	ControllerManager bool
	// Output receives the processes' logs; nil discards them.
	Output io.Writer
}

// ControlPlane is a running local control plane.
type ControlPlane struct {
	// Config authenticates as a cluster admin (system:masters).
	Config *rest.Config
	// Env is the underlying envtest environment (to add users, for example).
	Env *envtest.Environment

	kcm     *exec.Cmd
	kcmDone chan struct{} // closed when kube-controller-manager has exited
	kcmErr  error         // its exit status, once kcmDone is closed
	tmpDir  string
}

// Start starts etcd and kube-apiserver, installs the CRDs and, if asked,
// starts kube-controller-manager. Stop it when done.
func Start(opts Options) (*ControlPlane, error) {
	assets := opts.AssetsDir
	if assets == "" {
		assets = os.Getenv(AssetsEnv)
	}
	if assets == "" {
		return nil, fmt.Errorf("%s is not set: run `make test` or `make dev`, or set it to the output of hack/build-control-plane.sh", AssetsEnv)
	}
	if _, err := os.Stat(filepath.Join(assets, "kube-apiserver")); err != nil {
		return nil, fmt.Errorf("no kube-apiserver in %s (%s): run hack/build-control-plane.sh", assets, AssetsEnv)
	}
	crds, err := config.CRDs()
	if err != nil {
		return nil, err
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory:    assets,
		CRDs:                     crds,
		ControlPlaneStartTimeout: 2 * time.Minute,
		ControlPlaneStopTimeout:  time.Minute,
	}
	if opts.Output != nil {
		env.AttachControlPlaneOutput = true
		env.ControlPlane.APIServer = &envtest.APIServer{Out: opts.Output, Err: opts.Output}
		env.ControlPlane.Etcd = &envtest.Etcd{Out: opts.Output, Err: opts.Output}
	}
	if opts.DataDir != "" {
		if env.ControlPlane.Etcd == nil {
			env.ControlPlane.Etcd = &envtest.Etcd{}
		}
		if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
			return nil, err
		}
		env.ControlPlane.Etcd.DataDir = opts.DataDir
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("starting the control plane from %s: %w", assets, err)
	}
	cp := &ControlPlane{Config: cfg, Env: env}
	if err := cp.applyPersonaRoles(); err != nil {
		_ = cp.Stop()
		return nil, err
	}
	if opts.ControllerManager {
		if err := cp.startControllerManager(assets, opts.Output); err != nil {
			_ = cp.Stop()
			return nil, err
		}
	}
	return cp, nil
}

// applyPersonaRoles installs the ClusterRoles the operator binds and users are
// given (config/rbac/personas.yaml) and the group-admin admission policy
// (config/admission), as the Helm chart does in a cluster.
func (c *ControlPlane) applyPersonaRoles() error {
	roles, err := config.PersonaRoles()
	if err != nil {
		return err
	}
	policies, err := config.AdmissionPolicies()
	if err != nil {
		return err
	}
	roles = append(roles, policies...)
	cl, err := client.New(c.Config, client.Options{})
	if err != nil {
		return err
	}
	for _, role := range roles {
		err := cl.Patch(context.Background(), role, client.Apply, client.FieldOwner("governor-dev"), client.ForceOwnership) //nolint:staticcheck // unstructured apply
		if err != nil {
			return fmt.Errorf("applying %s %s: %w", role.GetKind(), role.GetName(), err)
		}
	}
	return nil
}

// KubeConfig returns a kubeconfig for a cluster admin of this control plane.
func (c *ControlPlane) KubeConfig() ([]byte, error) {
	user, err := c.Env.AddUser(envtest.User{Name: "governor-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return nil, err
	}
	return user.KubeConfig()
}

func (c *ControlPlane) startControllerManager(assets string, out io.Writer) error {
	kubeconfig, err := c.KubeConfig()
	if err != nil {
		return fmt.Errorf("kubeconfig for kube-controller-manager: %w", err)
	}
	c.tmpDir, err = os.MkdirTemp("", "governor-kcm-")
	if err != nil {
		return err
	}
	path := filepath.Join(c.tmpDir, "kubeconfig")
	if err := os.WriteFile(path, kubeconfig, 0o600); err != nil {
		return err
	}
	if out == nil {
		out = io.Discard
	}
	c.kcm = exec.Command(filepath.Join(assets, "kube-controller-manager"),
		"--kubeconfig="+path,
		"--controllers=namespace-controller,garbage-collector-controller",
		"--leader-elect=false",
		"--secure-port=0",
		"--concurrent-namespace-syncs=5",
		"--concurrent-gc-syncs=5",
		"--v=1",
	)
	c.kcm.Stdout, c.kcm.Stderr = out, out
	if err := c.kcm.Start(); err != nil {
		return fmt.Errorf("starting kube-controller-manager: %w", err)
	}
	c.kcmDone = make(chan struct{})
	go func() {
		c.kcmErr = c.kcm.Wait()
		close(c.kcmDone)
	}()
	return nil
}

// Stop stops every process and removes temporary state.
func (c *ControlPlane) Stop() error {
	var errs []error
	if c.kcm != nil && c.kcm.Process != nil {
		_ = c.kcm.Process.Signal(os.Interrupt)
		select {
		case <-c.kcmDone:
			errs = append(errs, ignoreSignalExit(c.kcmErr))
		case <-time.After(10 * time.Second):
			_ = c.kcm.Process.Kill()
			<-c.kcmDone
		}
	}
	if c.tmpDir != "" {
		errs = append(errs, os.RemoveAll(c.tmpDir))
	}
	errs = append(errs, c.Env.Stop())
	return errors.Join(errs...)
}

// ignoreSignalExit drops the error of a process that exited because it was
// asked to (interrupted).
func ignoreSignalExit(err error) error {
	var exit *exec.ExitError
	if errors.As(err, &exit) && !exit.Exited() {
		return nil
	}
	return err
}

// RepoRoot finds the repository root (the directory holding go.mod) from the
// working directory, so tests in any package find config/crd/bases.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "api", "v1alpha1")); err == nil {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("repository root (go.mod beside api/v1alpha1) not found above the working directory")
		}
		dir = parent
	}
}

// Package testenv starts one real control plane per test package, with
// Governor's CRDs installed and a client for the tests.
//
//	var env *testenv.Env
//
//	func TestMain(m *testing.M) { os.Exit(testenv.Run(m, &env, testenv.Options{})) }
package testenv

import (
	"fmt"
	"os"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/controlplane"
)

// Options choose what the control plane runs.
type Options struct {
	// ControllerManager also runs kube-controller-manager (namespace deletion,
	// garbage collection).
	ControllerManager bool
	// Verbose attaches the processes' output to stderr (as does
	// GOVERNOR_CONTROL_PLANE_LOGS=1).
	Verbose bool
}

// Env is a running control plane with a cluster-admin client.
type Env struct {
	*controlplane.ControlPlane
	// Root is the repository root.
	Root   string
	Scheme *runtime.Scheme
	Client client.Client
}

// NewScheme returns a scheme with the built-in kinds and Governor's.
func NewScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := governorv1alpha1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}

// Start starts a control plane from $KUBEBUILDER_ASSETS with the CRDs of config/crd/bases.
func Start(opts Options) (*Env, error) {
	root, err := controlplane.RepoRoot()
	if err != nil {
		return nil, err
	}
	cpOpts := controlplane.Options{
		ControllerManager: opts.ControllerManager,
	}
	if opts.Verbose || os.Getenv("GOVERNOR_CONTROL_PLANE_LOGS") != "" {
		cpOpts.Output = os.Stderr
	}
	cp, err := controlplane.Start(cpOpts)
	if err != nil {
		return nil, err
	}
	scheme := NewScheme()
	c, err := client.New(cp.Config, client.Options{Scheme: scheme})
	if err != nil {
		_ = cp.Stop()
		return nil, err
	}
	return &Env{ControlPlane: cp, Root: root, Scheme: scheme, Client: c}, nil
}

// Run starts the control plane into *env, runs each setup (which may start
// what the tests need, an operator for example, and returns its teardown),
// runs the package's tests and stops everything, returning the exit code for
// os.Exit. A control plane that cannot start fails the package: these tests
// must not pass without a real API server.
func Run(m *testing.M, env **Env, opts Options, setups ...func(*Env) (teardown func())) int {
	e, err := Start(opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "testenv: %v\n", err)
		return 1
	}
	*env = e
	var teardowns []func()
	for _, setup := range setups {
		teardowns = append(teardowns, setup(e))
	}
	code := m.Run()
	for i := len(teardowns) - 1; i >= 0; i-- {
		teardowns[i]()
	}
	if err := e.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "testenv: stopping the control plane: %v\n", err)
	}
	return code
}

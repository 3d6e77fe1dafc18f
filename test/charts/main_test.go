// Package charts tests the Helm charts (charts/governor, charts/instances)
// and the Argo CD health checks (config/argocd): helm lint, golden renders,
// schema rejections, an install of every rendered object into a real API
// server, and the Lua health scripts run the way Argo CD runs them.
//
// Helm comes from $HELM (hack/install-helm.sh, set by `make test`) and the API
// server from $KUBEBUILDER_ASSETS (hack/build-control-plane.sh). Without them
// the package fails, unless -short, which runs only what needs neither. The
// API server also serves the third-party kinds the charts render when asked
// (ServiceMonitor and PrometheusRule, HTTPRoute), from the CRDs their
// projects publish in their Go modules (thirdPartyCRDs, fetched with
// `go mod download` into the module cache, never copied here).
//
// Regenerate the golden renders with:
//
//	HELM=$(hack/install-helm.sh) go test ./test/charts/ -run TestGolden -update
package charts_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

var (
	update = flag.Bool("update", false, "rewrite the golden renders in testdata/")

	// root is the repository root.
	root string
	// helmBin is the Helm v4 binary ($HELM).
	helmBin string
	// promtoolBin is Prometheus' promtool ($PROMTOOL), for the alerts' unit tests.
	promtoolBin string
	// apiServer is the test API server (nil under -short).
	apiServer *rest.Config
	// kubeconfig is a kubeconfig file for apiServer, for Helm's --kubeconfig.
	kubeconfig string
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	if root, err = repoRoot(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	helmBin = os.Getenv("HELM")
	promtoolBin = os.Getenv("PROMTOOL")
	if testing.Short() {
		return m.Run()
	}
	if promtoolBin == "" {
		fmt.Fprintln(os.Stderr, "test/charts: PROMTOOL is not set. Run `make test`, or\n"+
			"  PROMTOOL=$(hack/install-promtool.sh) HELM=$(hack/install-helm.sh) KUBEBUILDER_ASSETS=$(hack/build-control-plane.sh) go test ./test/charts/\n"+
			"(-short runs only the tests that need neither Helm, promtool nor an API server)")
		return 1
	}
	if helmBin == "" {
		fmt.Fprintln(os.Stderr, "test/charts: HELM is not set. Run `make test`, or\n"+
			"  HELM=$(hack/install-helm.sh) KUBEBUILDER_ASSETS=$(hack/build-control-plane.sh) go test ./test/charts/\n"+
			"(-short runs only the tests that need neither Helm nor an API server)")
		return 1
	}
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		fmt.Fprintln(os.Stderr, "test/charts: KUBEBUILDER_ASSETS is not set. Run `make test`, or\n"+
			"  KUBEBUILDER_ASSETS=$(hack/build-control-plane.sh) go test ./test/charts/\n"+
			"(-short runs only the tests that need neither Helm nor an API server)")
		return 1
	}
	crds, err := thirdPartyCRDPaths()
	if err != nil {
		fmt.Fprintf(os.Stderr, "test/charts: %v\n", err)
		return 1
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:     append([]string{filepath.Join(root, "config", "crd", "bases")}, crds...),
		ErrorIfCRDPathMissing: true,
	}
	if apiServer, err = env.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "test/charts: starting the API server: %v\n", err)
		return 1
	}
	defer func() {
		if err := env.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "test/charts: stopping the API server: %v\n", err)
		}
	}()
	admin, err := env.AddUser(envtest.User{Name: "chart-test-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		fmt.Fprintf(os.Stderr, "test/charts: adding a user: %v\n", err)
		return 1
	}
	kc, err := admin.KubeConfig()
	if err != nil {
		fmt.Fprintf(os.Stderr, "test/charts: kubeconfig: %v\n", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "governor-chart-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, kc, 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// thirdPartyCRDs are the CRDs of kinds the charts render that Kubernetes does
// not serve, by Go module (at a version) and path inside it: the Prometheus
// Operator's (the operator chart's monitoring objects) and Gateway API's (the
// instances chart's HTTPRoute).
var thirdPartyCRDs = []struct{ module, version, path string }{
	{"github.com/prometheus-operator/prometheus-operator", "v0.85.0", "example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml"},
	{"github.com/prometheus-operator/prometheus-operator", "v0.85.0", "example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml"},
	{"sigs.k8s.io/gateway-api", "v1.6.3", "config/crd/standard/gateway.networking.k8s.io_httproutes.yaml"},
}

// thirdPartyCRDPaths downloads the modules of thirdPartyCRDs into the module
// cache (a no-op once there) and returns the CRD files' paths.
func thirdPartyCRDPaths() ([]string, error) {
	dirs := map[string]string{}
	var paths []string
	for _, c := range thirdPartyCRDs {
		key := c.module + "@" + c.version
		if _, ok := dirs[key]; !ok {
			cmd := exec.Command("go", "mod", "download", "-json", key)
			cmd.Dir = os.TempDir() // outside this module: its go.mod does not take part
			cmd.Env = append(os.Environ(), "GOFLAGS=")
			out, err := cmd.Output()
			if err != nil {
				return nil, fmt.Errorf("go mod download %s (for its CRDs): %v\n%s", key, err, out)
			}
			var m struct{ Dir, Error string }
			if err := json.Unmarshal(out, &m); err != nil || m.Dir == "" {
				return nil, fmt.Errorf("go mod download %s: no directory (%v %s)", key, err, m.Error)
			}
			dirs[key] = m.Dir
		}
		paths = append(paths, filepath.Join(dirs[key], c.path))
	}
	return paths, nil
}

// repoRoot walks up from the working directory to the directory holding go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("test/charts: no go.mod above the working directory")
		}
		dir = parent
	}
}

// requireHelm skips a test that needs Helm; only reachable under -short
// (TestMain fails the package when $HELM is unset otherwise).
func requireHelm(t *testing.T) {
	t.Helper()
	if helmBin == "" {
		t.Skip("-short without $HELM: skipping a test that runs Helm")
	}
}

// requireAPIServer skips a test that needs the API server under -short.
func requireAPIServer(t *testing.T) {
	t.Helper()
	requireHelm(t)
	if apiServer == nil {
		t.Skip("-short: skipping a test that needs the API server")
	}
}

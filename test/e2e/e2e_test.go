// Package e2e drives the built governor binary and kubectl against a real
// control plane, as a user would: `governor dev`, `kubectl apply` of the
// samples, `governor can-i` in cluster mode, a rule change, a deletion.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// run runs a command and returns its combined output and exit code.
func run(t *testing.T, name string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return strings.TrimSpace(out.String()), code
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// ssoConfig reads the payments Space's SSO configuration in env's instance
// with the Space's token, as curl in the dev banner does.
func ssoConfig(t *testing.T, kubectl func(args ...string) (string, int), env string) map[string]any {
	t.Helper()
	url, _ := kubectl("get", "space", "payments", "-o", fmt.Sprintf(`jsonpath={.spec.environments[?(@.name=="%s")].instance.url}`, env))
	domain, _ := kubectl("get", "space", "payments", "-o", fmt.Sprintf(`jsonpath={.spec.environments[?(@.name=="%s")].instance.domain}`, env))
	token, _ := kubectl("get", "secret", "-n", "governor-system", "retool-"+env+"-payments", "-o", "jsonpath={.data.token}")
	raw, err := base64.StdEncoding.DecodeString(token)
	if err != nil {
		t.Fatalf("%s: the payments token Secret: %v", env, err)
	}
	req, err := http.NewRequest(http.MethodGet, url+"/api/v2/sso/config", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = domain
	req.Header.Set("Authorization", "Bearer "+string(raw))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: GET /sso/config: %v", env, err)
	}
	defer resp.Body.Close()
	var body struct {
		Data map[string]any `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: GET /sso/config: %d %v", env, resp.StatusCode, err)
	}
	return body.Data
}

func repoRoot(t *testing.T) string {
	t.Helper()
	wd, _ := os.Getwd()
	return filepath.Clean(filepath.Join(wd, "..", ".."))
}

// buildGovernor checks what an end-to-end test needs (the control plane,
// kubectl) and builds the governor binary into a temporary directory; it
// returns the repository's root, that directory and the binary.
func buildGovernor(t *testing.T) (root, dir, bin string) {
	t.Helper()
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run `make test` (it builds the control plane)")
	}
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Fatal("kubectl is not on the PATH; the end-to-end test drives it as a user would")
	}
	root = repoRoot(t)
	dir = t.TempDir()
	bin = filepath.Join(dir, "governor")
	if out, code := run(t, "go", "build", "-o", bin, filepath.Join(root, "cmd", "governor")); code != 0 {
		t.Fatalf("building governor: %s", out)
	}
	return root, dir, bin
}

// startDev runs `governor dev` with args from the repository's root until
// the end of the test (then Ctrl-C, and it must stop cleanly within a
// minute), waits for it to print its kubeconfig, and returns its output.
func startDev(t *testing.T, root, bin string, args ...string) *syncBuffer {
	t.Helper()
	dev := exec.Command(bin, append([]string{"dev"}, args...)...)
	dev.Dir = root
	logs := &syncBuffer{}
	dev.Stdout, dev.Stderr = logs, logs
	if err := dev.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- dev.Wait() }()
	t.Cleanup(func() {
		_ = dev.Process.Signal(syscall.SIGINT)
		select {
		case err := <-stopped:
			if err != nil {
				t.Errorf("governor dev did not shut down cleanly: %v\n%s", err, logs.String())
			}
		case <-time.After(time.Minute):
			_ = dev.Process.Kill()
			t.Errorf("governor dev did not stop within a minute of Ctrl-C")
		}
	})
	waitFor(t, 3*time.Minute, "governor dev to print its kubeconfig", func() bool {
		return strings.Contains(logs.String(), "export KUBECONFIG=")
	}, logs)
	return logs
}

func TestDevClusterSamplesCanIAndDeletion(t *testing.T) {
	root, dir, bin := buildGovernor(t)
	kubeconfig := filepath.Join(dir, "kubeconfig")

	// governor dev, until Ctrl-C (SIGINT) at the end of the test.
	apiAddr := freePort(t)
	logs := startDev(t, root, bin, "--kubeconfig-out", kubeconfig, "--state-dir", "", "--apps-repo-dir", filepath.Join(dir, "apps"),
		"--metrics-bind-address", "0", "--health-probe-bind-address", "0", "--api-bind-address", apiAddr)
	kubectl := func(args ...string) (string, int) {
		return run(t, "kubectl", append([]string{"--kubeconfig", kubeconfig}, args...)...)
	}
	if out, code := kubectl("apply", "-f", filepath.Join(root, "config", "samples")); code != 0 {
		t.Fatalf("kubectl apply -f config/samples: %s", out)
	}
	if out, code := kubectl("wait", "space/hub", "space/payments", "--for=condition=Ready", "--timeout=90s"); code != 0 {
		t.Fatalf("Spaces not Ready: %s\n%s", out, logs.String())
	}
	if out, code := kubectl("wait", "-n", "payments", "permissiongroups,accessrules", "--all", "--for=condition=Ready", "--timeout=60s"); code != 0 {
		t.Fatalf("groups and rules not Ready: %s", out)
	}
	// The emulated instances hold the model: every environment synced, and a
	// plan against the live instance has nothing left to do.
	if out, code := kubectl("wait", "space/hub", "space/payments", "--for=condition=PlatformSynced", "--timeout=90s"); code != 0 {
		t.Fatalf("Spaces not synced into their instances: %s\n%s", out, tail(logs.String(), 60))
	}
	for _, env := range []string{"development", "staging", "production"} {
		out, code := run(t, bin, "platform", "plan", "--kubeconfig", kubeconfig, "--space", "payments", "--env", env)
		if code != 0 || !strings.Contains(out, "No changes") || !strings.Contains(out, "frank@example.com has no account") {
			t.Errorf("governor platform plan --env %s (exit %d) should show nothing to do and frank pending:\n%s", env, code, out)
		}
	}
	// Each instance's payments Space holds the hub's identity provider with
	// payments' own JIT (off) and the role mappings of its IdP groups.
	for _, env := range []string{"development", "staging", "production"} {
		sso := ssoConfig(t, kubectl, env)
		if sso["config_type"] != "oidc" || sso["jit_enabled"] != false || !strings.Contains(fmt.Sprint(sso["oidc_client_secret"]), "__RETOOL_ENCRYPTED_JSON__") {
			t.Errorf("%s: the payments Space's SSO configuration should be the hub's OIDC provider with JIT off: %v", env, sso)
		}
		want := "finance-team->Finance,payments-admins->admin,payments-developers->editor,payments-oncall->Payments on-call"
		if sso["roles_mapping"] != want {
			t.Errorf("%s: roles_mapping = %q, want %q", env, sso["roles_mapping"], want)
		}
	}
	out, _ := kubectl("get", "spaces")
	if !strings.Contains(out, "PLATFORM") || strings.Count(out, "Synced") < 2 {
		t.Errorf("kubectl get spaces should show both Spaces synced:\n%s", out)
	}

	out, _ = kubectl("get", "accessrules", "-n", "payments")
	for _, col := range []string{"GROUP", "LEVEL", "READY", "finance-apps", "Edit"} {
		if !strings.Contains(out, col) {
			t.Errorf("kubectl get accessrules lacks %q:\n%s", col, out)
		}
	}
	// The live release is created in the development instance, which pushes
	// its branch to the dev git server: AwaitingMerge until the pull request
	// is merged (governor dev merge stands in for it), then Live.
	if out, code := kubectl("wait", "-n", "payments", "release/payouts-1-4-0", "--for=jsonpath={.status.phase}=AwaitingMerge", "--timeout=90s"); code != 0 {
		t.Fatalf("payouts 1.4.0 not AwaitingMerge: %s\n%s", out, tail(logs.String(), 60))
	}
	branch, _ := kubectl("get", "-n", "payments", "release/payouts-1-4-0", "-o", "jsonpath={.status.published.branch}")
	merged := time.Now()
	if out, code := run(t, bin, "dev", "merge", strings.TrimSpace(branch)); code != 0 || !strings.Contains(out, "merged") {
		t.Fatalf("governor dev merge %s (exit %d): %s", branch, code, out)
	}
	if out, code := kubectl("wait", "-n", "payments", "release/payouts-1-4-0", "--for=jsonpath={.status.phase}=Live", "--timeout=90s"); code != 0 {
		t.Errorf("payouts 1.4.0 not Live after the merge: %s", out)
	}
	t.Logf("payouts 1.4.0 Live %s after governor dev merge", time.Since(merged).Round(time.Second))
	if out, code := kubectl("wait", "-n", "payments", "release/payouts-1-4-0", "--for=jsonpath={.status.liveIn}=development,staging,production", "--timeout=120s"); code != 0 {
		t.Errorf("payouts 1.4.0 not live in every environment after the merge: %s", out)
	}
	t.Logf("payouts 1.4.0 live in development, staging and production %s after governor dev merge", time.Since(merged).Round(time.Second))
	out, _ = kubectl("get", "releases", "-n", "payments")
	if !strings.Contains(out, "Live") || !strings.Contains(out, "Superseded") {
		t.Errorf("releases should show Live and Superseded phases:\n%s", out)
	}

	canI := func(args ...string) (string, int) {
		return run(t, bin, append([]string{"can-i", "--kubeconfig", kubeconfig, "--space", "payments"}, args...)...)
	}
	if out, code := canI("edit", "app/ledger", "--as", "carol@example.com", "--folder", "finance/reports"); code != 0 || out != "yes" {
		t.Fatalf("can-i edit app/ledger (folder rule Edit) = %q (exit %d), want yes", out, code)
	}
	if out, code := canI("edit", "app/payouts", "--as", "carol@example.com", "--folder", "finance"); code != 1 || out != "no" {
		t.Fatalf("can-i edit app/payouts (object rule Use) = %q (exit %d), want no", out, code)
	}
	if out, code := canI("fly", "app/payouts", "--as", "carol@example.com"); code != 2 {
		t.Fatalf("an unknown action must exit 2, got %d: %s", code, out)
	}

	// Raise the object rule: the answer changes.
	if out, code := kubectl("patch", "accessrule", "finance-payouts", "-n", "payments", "--type=merge", "-p", `{"spec":{"level":"Edit"}}`); code != 0 {
		t.Fatalf("patching the rule: %s", out)
	}
	// The operator recompiles: its decision API (not a local compile) says so,
	// to a caller granted check on this Space alone.
	for _, args := range [][]string{
		{"create", "serviceaccount", "e2e-caller", "-n", "default"},
		{"create", "clusterrole", "e2e-payments-check", "--verb=create", "--resource=spaces/check", "--resource-name=payments"},
		{"create", "clusterrolebinding", "e2e-payments-check", "--clusterrole=e2e-payments-check", "--serviceaccount=default:e2e-caller"},
	} {
		if out, code := kubectl(args...); code != 0 {
			t.Fatalf("kubectl %s: %s", strings.Join(args, " "), out)
		}
	}
	token, code := kubectl("create", "token", "e2e-caller", "-n", "default")
	if code != 0 {
		t.Fatalf("kubectl create token: %s", token)
	}
	askAPI := func() (string, int) {
		return run(t, bin, "can-i", "edit", "app/payouts", "--as", "carol@example.com", "--folder", "finance", "--space", "payments",
			"--server-side", "--server", "https://"+apiAddr, "--token", strings.TrimSpace(token), "--insecure-skip-tls-verify")
	}
	waitFor(t, 30*time.Second, "the rule change to reach the decision API", func() bool {
		out, code := askAPI()
		return code == 0 && out == "yes"
	}, logs)

	// Delete the Space: it removes what it created; its adopted namespace stays.
	if out, code := kubectl("delete", "space", "payments", "--timeout=60s"); code != 0 {
		t.Fatalf("deleting the Space: %s", out)
	}
	if out, code := kubectl("get", "space", "payments"); code == 0 {
		t.Fatalf("the Space is still there: %s", out)
	}
	out, _ = kubectl("get", "namespace", "payments", "-o", "jsonpath={.metadata.labels}")
	if strings.Contains(out, "governor.dev/space") {
		t.Errorf("the adopted namespace keeps the Space label after deletion: %s", out)
	}
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool, logs *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s\n--- governor dev output ---\n%s", what, tail(logs.String(), 60))
}

func tail(s string, lines int) string {
	sc := bufio.NewScanner(strings.NewReader(s))
	var all []string
	for sc.Scan() {
		all = append(all, sc.Text())
	}
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// syncBuffer is a bytes.Buffer safe for the process's writes and the test's reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

package decisionapi_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/governor-dev/governor/internal/cli"
)

// runCLI runs the governor CLI in-process and returns stdout and the exit code.
func runCLI(t *testing.T, args ...string) (string, int) {
	t.Helper()
	root := &cobra.Command{Use: "governor", SilenceUsage: true, SilenceErrors: true}
	root.AddCommand(cli.NewCommands()...)
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.Execute()
	code := 0
	var ec interface{ ExitCode() int }
	switch {
	case errors.As(err, &ec):
		code = ec.ExitCode()
	case err != nil:
		t.Fatalf("governor %v: %v", args, err)
	}
	return out.String(), code
}

// The CLI answers the same whether it compiles the cluster's objects itself
// or asks the operator's decision API (--server-side).
func TestCLIServerSideAgreesWithLocalCompile(t *testing.T) {
	kubeconfig, err := env.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kc, kubeconfig, 0o600); err != nil {
		t.Fatal(err)
	}
	local := []string{"--space", "payments", "--kubeconfig", kc}
	remote := []string{"--space", "payments", "--server-side", "--server", apiURL, "--token", tokens["instance"], "--insecure-skip-tls-verify"}
	cases := [][]string{
		{"can-i", "edit", "app/ledger", "--as", "carol@example.com", "--folder", "finance/reports"},
		{"can-i", "edit", "app/payouts", "--as", "carol@example.com", "--folder", "finance"},
		{"can-i", "use", "resource/ledger-db", "--as", "frank@example.com", "--env", "production"},
		{"can-i", "use", "app/ledger", "--as", "stranger@elsewhere.org"},
		{"can-i", "use", "app/ledger", "--as", "x@example.com", "--as-group", "payments-developers", "-o", "json"},
		{"can-i", "fly", "app/ledger", "--as", "bob@example.com"},
		{"can-i", "use", "app/ledger", "--as", "bob@example.com", "--env", "qa"},
		{"who-can", "edit", "app/ledger", "--folder", "finance/reports", "-o", "json"},
		{"permissions", "--as", "carol@example.com", "-o", "json"},
	}
	for _, args := range cases {
		t.Run(args[0]+" "+args[1], func(t *testing.T) {
			wantOut, wantCode := runCLI(t, append(args, local...)...)
			gotOut, gotCode := runCLI(t, append(args, remote...)...)
			if gotCode != wantCode || gotOut != wantOut {
				t.Fatalf("--server-side answered %q (exit %d); the local compile %q (exit %d)", gotOut, gotCode, wantOut, wantCode)
			}
		})
	}
	if out, code := runCLI(t, append([]string{"can-i", "use", "app/ledger", "--as", "bob@example.com", "--explain"}, local...)...); code != 0 || !strings.HasPrefix(out, "yes\n") {
		t.Fatalf("sanity: bob may use app/ledger: %q %d", out, code)
	}
}

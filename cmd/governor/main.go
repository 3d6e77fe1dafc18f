// Command governor is Governor's one binary: the operator (`manager`), a
// local control plane with the operator in it (`dev`), and the access CLI
// (`can-i`, `who-can`, `explain`, `permissions`, `diff`). Installed as
// kubectl-governor it is also a kubectl plugin: `kubectl governor can-i ...`.
package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

// version is stamped at build time (-ldflags "-X main.version=...").
var version = "dev"

func main() {
	root := newRootCommand()
	err := root.Execute()
	os.Exit(exitCode(err))
}

func newRootCommand() *cobra.Command {
	name := "governor"
	if strings.HasPrefix(filepath.Base(os.Args[0]), "kubectl-") {
		name = "kubectl governor"
	}
	root := &cobra.Command{
		Use:           name,
		Short:         "Governance of an internal-tools platform on Kubernetes",
		Long:          "Governor keeps Spaces, PermissionGroups, AccessRules and Releases true in a cluster,\nand answers who may do what in a Space.",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newManagerCommand(), newDevCommand(), newPlatformCommand(), newPlatformEmulatorCommand())
	root.AddCommand(cliCommands()...)
	return root
}

// exitCoder is an error that carries the process's exit code (the CLI exits 1
// for "no" and 2 for invalid input, as kubectl auth can-i does).
type exitCoder interface{ ExitCode() int }

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ec exitCoder
	if errors.As(err, &ec) {
		if msg := err.Error(); msg != "" {
			fmt.Fprintln(os.Stderr, "error:", msg)
		}
		return ec.ExitCode()
	}
	fmt.Fprintln(os.Stderr, "error:", err)
	return 1
}

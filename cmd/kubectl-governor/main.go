// Command kubectl-governor is Governor's access CLI as a kubectl plugin
// (`kubectl governor can-i ...`): the commands of `governor` that answer
// questions (can-i, explain, who-can, permissions, diff, review), without the
// operator, the local control plane and the platform emulator.
package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/governor-dev/governor/internal/cli"
)

// version is stamped at build time (-ldflags "-X main.version=...").
var version = "dev"

func main() {
	os.Exit(cli.ExitCode(os.Stderr, newRootCommand().Execute()))
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "kubectl-governor",
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl governor"},
		Short:         "Answer who may do what in a Governor Space",
		Long:          "Answer who may do what in a Governor Space, from the cluster or offline from manifests.",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(cli.NewCommands()...)
	return root
}

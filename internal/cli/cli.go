// Package cli is the access CLI: can-i, who-can, explain, permissions, diff.
package cli

import "github.com/spf13/cobra"

// NewCommands returns the CLI's commands for the governor root command.
func NewCommands() []*cobra.Command { return nil }

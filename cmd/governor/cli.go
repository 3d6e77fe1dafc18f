package main

import (
	"github.com/spf13/cobra"

	"github.com/governor-dev/governor/internal/cli"
)

func cliCommands() []*cobra.Command { return cli.NewCommands() }

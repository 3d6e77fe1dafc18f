package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/governor-dev/governor/internal/platform/emulator"
)

func newPlatformEmulatorCommand() *cobra.Command {
	var (
		listen string
		opts   emulator.Options
	)
	cmd := &cobra.Command{
		Use:   "platform-emulator",
		Short: "Serve an in-memory Retool instance (API v2) for development and tests",
		Long: `Serve an emulated Retool instance: the endpoints of Retool's API v2 Governor
uses, under /api/v2, with the admin Space at --domain and its token. A child
Space (POST /api/v2/spaces) is reached with its domain in the Host header and
its own token, minted with POST /emulator/v1/spaces/{domain}/tokens. Apps,
workflows, resources and users (signed in, or inactive with "active": false)
are created under /emulator/v1 too; GET /emulator/v1/stats counts the
requests served.

It behaves as a recorded self-hosted instance does: system folders, Retool's
default groups, All Users' members and the admin group's levels fixed,
invites that expire after 7 days, a rate limit of 300 requests a minute, and
folder grants that reach a folder's direct contents only (--folder-grants
nested for instances that pass them further down). With --state-dir, the
instance is saved there after every change and loaded at start.`,
		Example: `  governor platform-emulator --listen 127.0.0.1:8500 --token dev-token
  governor platform-emulator --state-dir .governor/emulator --folder-grants nested
  curl -H 'Authorization: Bearer dev-token' http://127.0.0.1:8500/api/v2/groups`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if u, err := url.Parse(opts.GitBaseURL); opts.GitBaseURL != "" && (err != nil || !slices.Contains([]string{"file", "http", "https"}, u.Scheme)) {
				return fmt.Errorf("--git-base-url %q: want a file://, http:// or https:// URL", opts.GitBaseURL)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return runPlatformEmulator(ctx, cmd, listen, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:0", "address to serve on (port 0: any free port)")
	f.StringVar(&opts.Domain, "domain", "retool.localhost", "the admin Space's domain")
	f.StringVar(&opts.Token, "token", "", "the admin Space's API token (random when empty)")
	f.IntVar(&opts.RequestsPerMinute, "requests-per-minute", emulator.DefaultRequestsPerMinute, "rate limit of the instance (a negative number: unlimited)")
	f.StringVar(&opts.FolderGrants, "folder-grants", emulator.FolderGrantsDirect,
		"how far a folder grant reaches: direct (the folder's direct contents, Retool's documented behaviour) or nested (everything beneath it)")
	f.StringVar(&opts.StateDir, "state-dir", "", `directory the instance is saved to after every change and loaded from at start ("": in memory only)`)
	f.StringVar(&opts.GitBaseURL, "git-base-url", "", "where the Spaces' repositories are: a release pushes its branch to "+
		"<url>/<org>/<repo>.git of the Space's source control configuration (file:///srv/git, http://127.0.0.1:7010); empty: releases are refused")
	return cmd
}

func runPlatformEmulator(ctx context.Context, cmd *cobra.Command, listen string, opts emulator.Options) error {
	if opts.RequestsPerMinute == 0 {
		return fmt.Errorf("--requests-per-minute 0: want a positive limit, or a negative number for none")
	}
	srv, err := emulator.Open(opts)
	if err != nil {
		return fmt.Errorf("--state-dir %q, --folder-grants %q: %w", opts.StateDir, opts.FolderGrants, err)
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", listen, err)
	}
	admin := srv.Space("")
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "Retool emulator on http://%s (admin Space %s)\n", ln.Addr(), admin.Domain())
	fmt.Fprintf(out, "token: %s\n", admin.Token())
	fmt.Fprintf(out, "try:   curl -H 'Authorization: Bearer %s' http://%s/api/v2/groups\n", admin.Token(), ln.Addr())
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/governor-dev/governor/internal/access"
)

// serverOptions choose the operator's decision API instead of a local compile.
type serverOptions struct {
	enabled  bool
	url      string
	token    string
	caFile   string
	insecure bool
}

func (s *serverOptions) addFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&s.enabled, "server-side", false, "ask the operator's decision API instead of compiling locally (needs --server)")
	fs.StringVar(&s.url, "server", os.Getenv("GOVERNOR_SERVER"), "URL of the decision API, like https://governor-api.governor-system.svc:9443 (default $GOVERNOR_SERVER)")
	fs.StringVar(&s.token, "token", "", "bearer token for the decision API (default: the kubeconfig's token)")
	fs.StringVar(&s.caFile, "certificate-authority", "", "CA bundle to verify the decision API's certificate")
	fs.BoolVar(&s.insecure, "insecure-skip-tls-verify", false, "do not verify the decision API's certificate (a self-signed development server)")
}

// serverAnswerer answers over the decision API (docs/api.md); it maps the
// API's errors to the CLI's own, so both modes print and exit alike.
type serverAnswerer struct {
	base  string
	token string
	http  *http.Client
	// at is --at, RFC 3339 ("": now).
	at string
}

func newServerAnswerer(o *options) (*serverAnswerer, error) {
	s := o.server
	if s.url == "" {
		return nil, invalidf("--server-side needs --server (or $GOVERNOR_SERVER): the decision API's URL")
	}
	token := s.token
	if token == "" {
		cfg, err := o.kube.ToRawKubeConfigLoader().ClientConfig()
		if err == nil {
			token = cfg.BearerToken
		}
	}
	if token == "" {
		return nil, invalidf("--server-side needs a bearer token: --token, or a kubeconfig user with a token (kubectl create token SERVICE-ACCOUNT)")
	}
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: s.insecure} //nolint:gosec // only when asked for
	if s.caFile != "" {
		pem, err := os.ReadFile(s.caFile)
		if err != nil {
			return nil, invalidf("--certificate-authority: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, invalidf("--certificate-authority: no PEM certificate in %s", s.caFile)
		}
		tlsConfig.RootCAs = pool
	}
	return &serverAnswerer{
		base:  strings.TrimSuffix(s.url, "/"),
		token: token,
		http:  &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsConfig}},
	}, nil
}

// apiError is the decision API's error body.
type apiError struct {
	Error struct {
		Reason  string `json:"reason"`
		Message string `json:"message"`
	} `json:"error"`
}

func (a *serverAnswerer) do(ctx context.Context, method, path string, body, out any) error {
	var reader io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, reader)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := a.http.Do(req)
	if err != nil {
		return fmt.Errorf("the decision API at %s: %w", a.base, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		var e apiError
		if json.Unmarshal(data, &e) != nil || e.Error.Reason == "" {
			return fmt.Errorf("the decision API answered %s", res.Status)
		}
		switch e.Error.Reason {
		case access.ReasonUnknownAction, access.ReasonUnknownTarget, access.ReasonUnknownEnvironment, access.ReasonInvalidUser:
			return &access.InvalidInputError{Reason: e.Error.Reason, Message: e.Error.Message}
		case "UnknownSpace":
			return &spaceNotFoundError{msg: e.Error.Message}
		case "ContinueExpired":
			return fmt.Errorf("%w: %s", errContinueExpired, e.Error.Message)
		}
		return errors.New(e.Error.Reason + ": " + e.Error.Message)
	}
	return json.Unmarshal(data, out)
}

func spacePath(space string) string { return "/v1/spaces/" + url.PathEscape(space) }

func (a *serverAnswerer) Check(ctx context.Context, space string, req access.Request) (access.Decision, error) {
	var d access.Decision
	err := a.do(ctx, http.MethodPost, spacePath(space)+"/check", map[string]any{
		"user": req.User, "groups": req.Groups, "action": req.Action, "target": req.Target.String(),
		"folder": req.Folder, "environment": req.Environment, "at": a.at,
	}, &d)
	return d, err
}

// pageAttempts bounds how often a paged listing starts again when the
// model changes between its pages.
const pageAttempts = 3

// errContinueExpired is the API's 410: the model changed between pages.
var errContinueExpired = errors.New("ContinueExpired")

// WhoCan asks page by page (the API bounds each answer) and joins the
// pages, Together's members included.
func (a *serverAnswerer) WhoCan(ctx context.Context, space string, req access.Request) (access.WhoCanResult, error) {
	res, err := paged(func(cont string) (access.WhoCanResult, string, error) {
		var page struct {
			access.WhoCanResult
			Continue string `json:"continue"`
		}
		err := a.do(ctx, http.MethodPost, spacePath(space)+"/who-can", map[string]any{
			"action": req.Action, "target": req.Target.String(), "folder": req.Folder, "environment": req.Environment,
			"at": a.at, "continue": cont,
		}, &page)
		return page.WhoCanResult, page.Continue, err
	}, func(all *access.WhoCanResult, next access.WhoCanResult) {
		all.Grants = append(all.Grants, next.Grants...)
		if next.Together != nil {
			if all.Together == nil {
				all.Together = &access.JointGrant{}
			}
			all.Together.LevelGroups = append(all.Together.LevelGroups, next.Together.LevelGroups...)
			all.Together.FlagGroups = append(all.Together.FlagGroups, next.Together.FlagGroups...)
			all.Together.Flag, all.Together.Level = next.Together.Flag, next.Together.Level
		}
	})
	if err != nil {
		return res, err
	}
	return access.JoinWhoCanPages(res), nil
}

// Permissions asks page by page and joins the permissions.
func (a *serverAnswerer) Permissions(ctx context.Context, space, user string, idpGroups []string) (access.PermissionsResult, error) {
	return paged(func(cont string) (access.PermissionsResult, string, error) {
		q := url.Values{"group": idpGroups}
		if a.at != "" {
			q.Set("at", a.at)
		}
		if cont != "" {
			q.Set("continue", cont)
		}
		var page struct {
			access.PermissionsResult
			Continue string `json:"continue"`
		}
		err := a.do(ctx, http.MethodGet, spacePath(space)+"/users/"+url.PathEscape(user)+"/permissions?"+q.Encode(), nil, &page)
		return page.PermissionsResult, page.Continue, err
	}, func(all *access.PermissionsResult, next access.PermissionsResult) {
		all.Permissions = append(all.Permissions, next.Permissions...)
	})
}

// paged fetches pages until the last (fetch returns the page and the next
// continue token) and joins them; a listing whose model changed between
// pages starts again, at most pageAttempts times.
func paged[T any](fetch func(cont string) (T, string, error), join func(all *T, next T)) (T, error) {
	var err error
	for range pageAttempts {
		var all T
		cont := ""
		for first := true; first || cont != ""; first = false {
			var next T
			if next, cont, err = fetch(cont); err != nil {
				break
			}
			if first {
				all = next
			} else {
				join(&all, next)
			}
		}
		if !errors.Is(err, errContinueExpired) {
			return all, err
		}
	}
	var zero T
	return zero, err
}

// Environments are not served by the decision API; explanations then leave
// out which environments are read-only (the decision says so when it matters).
func (a *serverAnswerer) Environments(context.Context, string) ([]access.Environment, error) {
	return nil, nil
}

// Package emulator is an in-memory Retool instance that answers the
// endpoints of Retool's API v2 Governor uses, as the real one does: the same
// paths under /api/v2, JSON shapes, id formats, pagination, error bodies,
// per-Space tokens (a Space is chosen by the Host header) and a rate limit.
// Endpoints Retool's API lacks (minting a Space's token, creating apps,
// workflows and resources, a user signing in, request statistics) are under
// /emulator/v1 with the admin Space's token.
package emulator

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// Options configure a Server.
type Options struct {
	// Domain is the admin Space's domain (default "retool.localhost"). A
	// request whose Host is no Space's domain reaches the admin Space.
	Domain string
	// Token is the admin Space's API token (random when empty).
	Token string
	// RequestsPerMinute is the instance's rate limit: beyond it in any
	// minute, requests get 429 with Retry-After. Zero:
	// DefaultRequestsPerMinute, a self-hosted instance's default; negative:
	// unlimited.
	RequestsPerMinute int
	// FolderGrants is how far a folder grant reaches: FolderGrantsDirect
	// (default, Retool's documented behaviour: the folder's direct contents,
	// not its sub-folders) or FolderGrantsNested (everything beneath it).
	FolderGrants string
	// StateDir, when set, is where Open loads the instance's state from (if
	// it holds one) and where every change is saved, so that the instance
	// survives a restart.
	StateDir string
	// Now is the clock (default time.Now): invites expire by it.
	Now func() time.Time
	// GitBaseURL is where the Spaces' repositories are: a release pushes its
	// branch to <GitBaseURL>/<org>/<repo>.git of the Space's source control
	// configuration: a directory (file:///srv/git) or a git server
	// (http://127.0.0.1:7010).
	// Empty: releases are refused, as by an instance that reaches no git server.
	GitBaseURL string
}

// DefaultRequestsPerMinute is a self-hosted Retool instance's rate limit
// unless configured otherwise (API_CALLS_PER_MIN).
const DefaultRequestsPerMinute = 300

// Stats counts the /api/v2 requests served.
type Stats struct {
	// Requests by "METHOD /api/v2/path/{template}".
	Requests map[string]int `json:"requests"`
	// Throttled is the number of 429s served.
	Throttled int `json:"throttled"`
	// MaxPerMinute is the largest number of requests received in any minute.
	MaxPerMinute int `json:"maxPerMinute"`
}

// Server is an emulated Retool instance; it is an http.Handler safe for
// concurrent use.
type Server struct {
	mu           sync.Mutex
	now          func() time.Time
	limit        int
	folderGrants string
	stateDir     string
	saveErr      error
	admin        *space
	spaces       map[string]*space // by domain
	tokens       map[string]*token
	ids          counters
	mux          *http.ServeMux
	stats        Stats
	window       []time.Time // requests received in the last minute
	allowed      []time.Time // requests admitted in the last minute
	// gitBaseURL and releases: see releases.go.
	gitBaseURL string
	releases   releaseBook
}

type token struct {
	space  *space
	scopes map[string]bool // nil: every scope
}

// counters are instance-wide, as Retool's ids are.
type counters struct {
	group, user, invite, folder, resourceFolder int64
}

const (
	defaultDomain = "retool.localhost"
	maxBodyBytes  = 1 << 20
	apiPrefix     = "/api/v2"
)

// New returns an emulated instance holding the admin Space; it ignores
// StateDir (see Open) and panics on an invalid FolderGrants.
func New(opts Options) *Server {
	opts.StateDir = ""
	s, err := Open(opts)
	if err != nil {
		panic(err)
	}
	return s
}

// Open returns an emulated instance: the one saved in opts.StateDir when it
// holds one, else a new one holding the admin Space.
func Open(opts Options) (*Server, error) {
	switch opts.FolderGrants {
	case "":
		opts.FolderGrants = FolderGrantsDirect
	case FolderGrantsDirect, FolderGrantsNested:
	default:
		return nil, fmt.Errorf("emulator: folder grants %q: want %s or %s", opts.FolderGrants, FolderGrantsDirect, FolderGrantsNested)
	}
	switch {
	case opts.RequestsPerMinute == 0:
		opts.RequestsPerMinute = DefaultRequestsPerMinute
	case opts.RequestsPerMinute < 0:
		opts.RequestsPerMinute = 0
	}
	s := &Server{
		now:          opts.Now,
		limit:        opts.RequestsPerMinute,
		folderGrants: opts.FolderGrants,
		stateDir:     opts.StateDir,
		gitBaseURL:   opts.GitBaseURL,
		spaces:       map[string]*space{},
		tokens:       map[string]*token{},
		mux:          http.NewServeMux(),
		stats:        Stats{Requests: map[string]int{}},
	}
	if s.now == nil {
		s.now = time.Now
	}
	domain := strings.ToLower(opts.Domain)
	if domain == "" {
		domain = defaultDomain
	}
	s.routes()
	loaded, err := s.load(domain)
	if err != nil {
		return nil, err
	}
	if !loaded {
		s.admin = s.newSpace("admin", domain, nil)
	}
	tok := opts.Token
	if tok == "" && len(s.admin.tokens) == 0 {
		tok = randomToken()
	}
	if tok != "" && s.tokens[tok] == nil {
		s.tokens[tok] = &token{space: s.admin}
		s.admin.tokens = append(s.admin.tokens, tok)
	}
	if err := s.saveLocked(); err != nil {
		return nil, err
	}
	return s, nil
}

func randomToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "retool_" + hex.EncodeToString(b)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ServeHTTP serves /api/v2 (Retool's API) and /emulator/v1.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// handler is an API operation on a Space: it returns the status and the
// body (nil for none).
type handler func(sp *space, r *http.Request, body []byte) (int, any)

type errorBody struct {
	Success bool   `json:"success"`
	Message string `json:"message"`
}

func fail(status int, format string, args ...any) (int, any) {
	return status, errorBody{Message: fmt.Sprintf(format, args...)}
}

func writeJSON(w http.ResponseWriter, status int, body any, header http.Header) {
	for k, v := range header {
		w.Header()[k] = v
	}
	if body == nil {
		w.WriteHeader(status)
		return
	}
	b, err := json.Marshal(body)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"success":false,"message":"emulator: encode answer"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	return io.ReadAll(io.LimitReader(r.Body, maxBodyBytes))
}

// api registers a Retool operation: pattern ("GET /groups/{groupId}", under
// /api/v2) and the token scope it needs.
func (s *Server) api(pattern, scope string, h handler) {
	method, path, _ := strings.Cut(pattern, " ")
	s.mux.HandleFunc(method+" "+apiPrefix+path, func(w http.ResponseWriter, r *http.Request) {
		s.serveAPI(w, r, scope, h)
	})
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, scope string, h handler) {
	body, err := readBody(r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Message: "cannot read the request body"}, nil)
		return
	}
	status, out, header := s.handleAPI(r, body, scope, h)
	writeJSON(w, status, out, header)
}

func (s *Server) handleAPI(r *http.Request, body []byte, scope string, h handler) (int, any, http.Header) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	key := r.Pattern
	if key == "" || key == "/api/v2/" {
		key = r.Method + " (unknown path)"
	}
	s.stats.Requests[key]++
	s.window = append(trim(s.window, now), now)
	s.stats.MaxPerMinute = max(s.stats.MaxPerMinute, len(s.window))
	if s.limit > 0 {
		s.allowed = trim(s.allowed, now)
		if len(s.allowed) >= s.limit {
			s.stats.Throttled++
			wait := s.allowed[0].Add(time.Minute).Sub(now)
			secs := max(1, int(math.Ceil(wait.Seconds())))
			st, b := fail(http.StatusTooManyRequests, "Rate limit exceeded: %d requests per minute. Retry after %d seconds.", s.limit, secs)
			return st, b, http.Header{"Retry-After": {fmt.Sprint(secs)}}
		}
		s.allowed = append(s.allowed, now)
	}
	sp := s.spaceForHost(r.Host)
	if st, b, ok := s.authorize(r, sp, scope); !ok {
		return st, b, nil
	}
	if h == nil {
		st, b := fail(http.StatusNotFound, "Not found: %s %s", r.Method, r.URL.Path)
		return st, b, nil
	}
	if r.Method == http.MethodGet {
		s.pullReleases(r.Context(), sp) // a read sees the releases merged since
	}
	st, b := h(sp, r, body)
	if st < http.StatusBadRequest && changes(r) {
		s.saveErr = s.saveLocked()
	}
	return st, b, nil
}

// changes reports whether a request can change the instance's state.
func changes(r *http.Request) bool {
	return r.Method != http.MethodGet && !strings.HasSuffix(r.URL.Path, "/permissions/listObjects")
}

// trim drops the times a minute or more before now.
func trim(ts []time.Time, now time.Time) []time.Time {
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= time.Minute {
		i++
	}
	return ts[i:]
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

func (s *Server) authorize(r *http.Request, sp *space, scope string) (int, any, bool) {
	t := s.tokens[bearer(r)]
	if t == nil {
		st, b := fail(http.StatusUnauthorized, "Unauthorized: the API token is missing, invalid or revoked")
		return st, b, false
	}
	if t.space != sp {
		st, b := fail(http.StatusUnauthorized, "Unauthorized: the API token does not belong to the space %s", sp.domain)
		return st, b, false
	}
	if scope != "" && t.scopes != nil && !t.scopes[scope] {
		st, b := fail(http.StatusForbidden, "The API token must have the %q scope", scope)
		return st, b, false
	}
	return 0, nil, true
}

func hostname(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.ToLower(strings.TrimSuffix(host, "."))
}

// spaceForHost is the Space of the Host header; the admin Space answers a
// host that is no Space's domain (the instance's own URL).
func (s *Server) spaceForHost(host string) *space {
	if sp := s.spaces[hostname(host)]; sp != nil {
		return sp
	}
	return s.admin
}

// SetRequestsPerMinute changes the instance's rate limit (0 or less: none),
// as an operator raising it would.
func (s *Server) SetRequestsPerMinute(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limit = max(n, 0)
}

// Stats returns the request statistics.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.statsLocked()
}

// ResetStats clears the request statistics.
func (s *Server) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = Stats{Requests: map[string]int{}}
	s.window = nil
}

// Writes is the number of requests in st that are not GETs (nor the
// read-only POST /permissions/listObjects).
func (st Stats) Writes() int {
	n := 0
	for k, v := range st.Requests {
		if !strings.HasPrefix(k, "GET ") && k != "POST /api/v2/permissions/listObjects" {
			n += v
		}
	}
	return n
}

// Total is the number of requests in st.
func (st Stats) Total() int {
	n := 0
	for _, v := range st.Requests {
		n += v
	}
	return n
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

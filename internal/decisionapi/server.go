// Package decisionapi serves the live access models over HTTPS: instances
// and internal tools ask "may this user do this?" at request time. Every
// operator replica serves it from its own in-memory models (it does not need
// the leader lease). Callers authenticate with a Kubernetes bearer token and
// are authorised per Space by SubjectAccessReview (see auth.go).
package decisionapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"

	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/revision"
)

// refuser is implemented by Models that know why a Space has no model (it
// does not own its namespace, or is over a limit). The caller is authorised
// for the Space by then, so the reason is theirs to read.
type refuser interface {
	RefusedBecause(space string) string
}

// Models is where the server finds each Space's compiled snapshot.
type Models interface {
	// Live returns the Space's live snapshot and its revision token (package
	// revision), or a nil snapshot when it has none.
	Live(space string) (*access.Snapshot, string)
	// Reached reports whether the Space's model is at the revision or past
	// it: a content hash exactly, an ordered token by position.
	Reached(space, atLeast string) bool
}

// Limits of the API.
const (
	// MaxBodyBytes bounds a request body.
	MaxBodyBytes = 1 << 20
	// MaxBatch bounds the checks in one batch.
	MaxBatch = 1000
	// DefaultLimit is the page size of who-can grants and permissions when
	// the request sets no limit; MaxLimit the largest a request may set.
	DefaultLimit = 500
	MaxLimit     = 5000
)

// Error reasons, the machine-readable part of every error body.
const (
	ReasonMalformedRequest = "MalformedRequest"
	ReasonBodyTooLarge     = "BodyTooLarge"
	ReasonUnknownSpace     = "UnknownSpace"
	ReasonRevisionNotYet   = "RevisionNotYet"
	ReasonUnauthenticated  = "Unauthenticated"
	ReasonForbidden        = "Forbidden"
	ReasonTooManyRequests  = "TooManyRequests"
	ReasonContinueExpired  = "ContinueExpired"
	ReasonNotFound         = "NotFound"
	ReasonMethodNotAllowed = "MethodNotAllowed"
	ReasonInternal         = "InternalError"
)

// CheckRequest is one check. AtLeastRevision asks for an answer from that
// model revision or a later one.
type CheckRequest struct {
	User            string   `json:"user"`
	Groups          []string `json:"groups,omitempty"`
	Action          string   `json:"action"`
	Target          string   `json:"target"`
	Folder          string   `json:"folder,omitempty"`
	Environment     string   `json:"environment,omitempty"`
	AtLeastRevision string   `json:"atLeastRevision,omitempty"`
	// At asks for the answer at another instant (RFC 3339): the members and
	// rules whose expiry is after it. Absent: now.
	At string `json:"at,omitempty"`
}

// BatchRequest is many checks answered from one model revision, at one
// instant (At, as a single check's; a check of a batch may not set its own).
type BatchRequest struct {
	Checks          []CheckRequest `json:"checks"`
	AtLeastRevision string         `json:"atLeastRevision,omitempty"`
	At              string         `json:"at,omitempty"`
}

// CheckResponse is one check's decision and the revision token of the
// model that answered.
type CheckResponse struct {
	access.Decision
	// RevisionToken orders the answering model (hash@spaces.groups.rules):
	// pass it as atLeastRevision to be answered from this state or a later one.
	RevisionToken string `json:"revisionToken,omitempty"`
	// At is the instant asked for, when the request gave one.
	At string `json:"at,omitempty"`
}

// BatchResponse answers a batch, in order.
type BatchResponse struct {
	Revision      string        `json:"revision"`
	RevisionToken string        `json:"revisionToken,omitempty"`
	At            string        `json:"at,omitempty"`
	Results       []BatchResult `json:"results"`
}

// BatchResult is one check of a batch: a decision, or the error of that check alone.
type BatchResult struct {
	Decision *access.Decision `json:"decision,omitempty"`
	Error    *ErrorBody       `json:"error,omitempty"`
}

// WhoCanRequest asks which groups grant an action on a target. Limit
// bounds the grants answered (DefaultLimit when 0); Continue, from the
// previous page's answer, asks for the next page. Each page is computed on
// its own (access.Snapshot.WhoCanPage), never the whole answer.
type WhoCanRequest struct {
	Action          string `json:"action"`
	Target          string `json:"target"`
	Folder          string `json:"folder,omitempty"`
	Environment     string `json:"environment,omitempty"`
	AtLeastRevision string `json:"atLeastRevision,omitempty"`
	At              string `json:"at,omitempty"`
	Limit           int    `json:"limit,omitempty"`
	Continue        string `json:"continue,omitempty"`
}

// WhoCanResponse is one page of who-can's grants. Continue is set when more
// grants may follow: pass it back (same question) for the next page. A page
// may hold fewer grants than the limit, even none, and still continue.
type WhoCanResponse struct {
	access.WhoCanResult
	RevisionToken string `json:"revisionToken,omitempty"`
	At            string `json:"at,omitempty"`
	Continue      string `json:"continue,omitempty"`
}

// PermissionsResponse is one page of a user's permissions (the list
// permissions is paged; the rest comes whole on every page).
type PermissionsResponse struct {
	access.PermissionsResult
	RevisionToken string `json:"revisionToken,omitempty"`
	At            string `json:"at,omitempty"`
	Continue      string `json:"continue,omitempty"`
}

// ErrorBody is every error's JSON body.
type ErrorBody struct {
	Reason  string `json:"reason"`
	Message string `json:"message"`
	// Field names the request field at fault, when one is.
	Field string `json:"field,omitempty"`
}

type errorResponse struct {
	Error ErrorBody `json:"error"`
}

// apiError is an error with its HTTP status.
type apiError struct {
	status int
	body   ErrorBody
}

func (e *apiError) Error() string { return e.body.Message }

func fail(status int, reason, field, format string, args ...any) *apiError {
	return &apiError{status: status, body: ErrorBody{Reason: reason, Field: field, Message: fmt.Sprintf(format, args...)}}
}

// Server is the decision API's HTTP handler.
type Server struct {
	models Models
	auth   Authorizer
	log    logr.Logger
	mux    *http.ServeMux
}

// NewServer builds the handler. A nil Authorizer is refused: no answer may
// leak to an unauthenticated caller.
func NewServer(models Models, auth Authorizer, log logr.Logger) (*Server, error) {
	if auth == nil {
		return nil, errors.New("decision API: an Authorizer is required")
	}
	s := &Server{models: models, auth: auth, log: log, mux: http.NewServeMux()}
	s.mux.Handle("POST /v1/spaces/{space}/check", instrumented("check", s.guard("create", "check", s.check)))
	s.mux.Handle("POST /v1/spaces/{space}/who-can", instrumented("who-can", s.guard("create", "who-can", s.whoCan)))
	s.mux.Handle("GET /v1/spaces/{space}/users/{email}/permissions", instrumented("permissions", s.guard("get", "permissions", s.permissions)))
	// Anything else: a known path with the wrong method, or no such endpoint.
	s.mux.Handle("/", instrumented("unknown", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if knownPath(r.URL.Path) {
			writeError(w, fail(http.StatusMethodNotAllowed, ReasonMethodNotAllowed, "", "%s is not allowed on %s", r.Method, r.URL.Path))
			return
		}
		writeError(w, fail(http.StatusNotFound, ReasonNotFound, "", "no such endpoint: %s %s (see docs/api.md)", r.Method, r.URL.Path))
	})))
	return s, nil
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error(fmt.Errorf("%v", v), "panic serving the decision API", "path", r.URL.Path)
			writeError(w, fail(http.StatusInternalServerError, ReasonInternal, "", "internal error"))
		}
	}()
	s.mux.ServeHTTP(w, r)
}

func knownPath(p string) bool {
	return strings.HasPrefix(p, "/v1/spaces/") &&
		(strings.HasSuffix(p, "/check") || strings.HasSuffix(p, "/who-can") || strings.HasSuffix(p, "/permissions"))
}

type handlerFunc func(r *http.Request, space string) (any, *apiError)

// guard authenticates and authorises the caller for the Space before the
// handler runs, and writes its answer or error as JSON.
func (s *Server) guard(verb, subresource string, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		space := r.PathValue("space")
		u, ok, err := s.auth.Authenticate(r)
		if errors.Is(err, ErrTooManyFailures) {
			w.Header().Set("Retry-After", "1")
			writeError(w, fail(http.StatusTooManyRequests, ReasonTooManyRequests, "", "too many failed authentications from %s: retry later with a valid token", clientAddress(r)))
			return
		}
		if err != nil {
			s.log.Error(err, "authenticating a decision API caller")
			writeError(w, fail(http.StatusUnauthorized, ReasonUnauthenticated, "", "the bearer token could not be reviewed"))
			return
		}
		if !ok {
			writeError(w, fail(http.StatusUnauthorized, ReasonUnauthenticated, "", "a valid bearer token is required"))
			return
		}
		allowed, _, err := s.auth.Allowed(r.Context(), u, verb, subresource, space)
		if err != nil {
			s.log.Error(err, "authorising a decision API caller", "user", u.GetName())
			writeError(w, fail(http.StatusForbidden, ReasonForbidden, "", "could not authorise %s", u.GetName()))
			return
		}
		if !allowed {
			writeError(w, fail(http.StatusForbidden, ReasonForbidden, "",
				"%s may not %s spaces/%s of Space %q (RBAC: verb %s on resource spaces/%s in API group governor.dev)", u.GetName(), verb, subresource, space, verb, subresource))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		out, apiErr := h(r, space)
		if apiErr != nil {
			writeError(w, apiErr)
			return
		}
		writeJSON(w, http.StatusOK, out)
	})
}

// snapshotAt is snapshot as of the instant at (RFC 3339; "" is now): the
// live model, or the model compiled for that instant.
func (s *Server) snapshotAt(space, atLeast, at string) (*access.Snapshot, string, *apiError) {
	var when time.Time
	if at != "" {
		t, err := time.Parse(time.RFC3339Nano, at)
		if err != nil {
			return nil, "", fail(http.StatusBadRequest, ReasonMalformedRequest, "at", "at: %q is not an RFC 3339 time (like 2026-12-31T17:00:00Z)", at)
		}
		when = t
	}
	snap, token, apiErr := s.snapshot(space, atLeast)
	if apiErr != nil {
		return nil, "", apiErr
	}
	if at == "" {
		// The model controller compiles again at the next expiry; until
		// that compile is published, an ended entry is not answered for.
		if next := snap.NextExpiry(); next.IsZero() || time.Now().Before(next) {
			return snap, token, nil
		}
		when = time.Now()
	}
	return snap.AsOf(when), token, nil
}

// snapshot finds the Space's model, at least at the revision asked for, and
// its revision token.
func (s *Server) snapshot(space, atLeast string) (*access.Snapshot, string, *apiError) {
	if atLeast != "" {
		if _, err := revision.Parse(atLeast); err != nil {
			return nil, "", fail(http.StatusBadRequest, ReasonMalformedRequest, "atLeastRevision", "atLeastRevision: %v", err)
		}
	}
	snap, token := s.models.Live(space)
	if snap == nil {
		if r, ok := s.models.(refuser); ok {
			if why := r.RefusedBecause(space); why != "" {
				return nil, "", fail(http.StatusNotFound, ReasonUnknownSpace, "", "Space %q has no access model: %s", space, why)
			}
		}
		return nil, "", fail(http.StatusNotFound, ReasonUnknownSpace, "", "no Space %q (or its access model is not compiled yet)", space)
	}
	if atLeast != "" && snap.Revision() != atLeast && !s.models.Reached(space, atLeast) {
		return nil, "", fail(http.StatusConflict, ReasonRevisionNotYet, "atLeastRevision",
			"Space %q is at revision %s; %s is not compiled here yet: retry shortly", space, token, atLeast)
	}
	return snap, token, nil
}

func (s *Server) check(r *http.Request, space string) (any, *apiError) {
	var raw map[string]json.RawMessage
	body, apiErr := readBody(r)
	if apiErr != nil {
		return nil, apiErr
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, malformed(err)
	}
	if _, batch := raw["checks"]; batch {
		var req BatchRequest
		if err := decodeStrict(body, &req); err != nil {
			return nil, malformed(err)
		}
		if len(req.Checks) == 0 || len(req.Checks) > MaxBatch {
			return nil, fail(http.StatusBadRequest, ReasonMalformedRequest, "checks", "a batch holds 1 to %d checks, got %d", MaxBatch, len(req.Checks))
		}
		snap, token, apiErr := s.snapshotAt(space, req.AtLeastRevision, req.At)
		if apiErr != nil {
			return nil, apiErr
		}
		resp := BatchResponse{Revision: snap.Revision(), RevisionToken: token, At: req.At, Results: make([]BatchResult, len(req.Checks))}
		for i, c := range req.Checks {
			if c.At != "" {
				resp.Results[i].Error = &ErrorBody{Reason: ReasonMalformedRequest, Field: fmt.Sprintf("checks[%d].at", i),
					Message: "a batch is answered at one instant: set at on the batch, not on its checks"}
				continue
			}
			d, apiErr := decide(snap, c)
			if apiErr != nil {
				body := apiErr.body
				body.Field = fmt.Sprintf("checks[%d].%s", i, body.Field)
				resp.Results[i].Error = &body
				continue
			}
			resp.Results[i].Decision = &d
		}
		return resp, nil
	}
	var req CheckRequest
	if err := decodeStrict(body, &req); err != nil {
		return nil, malformed(err)
	}
	snap, token, apiErr := s.snapshotAt(space, req.AtLeastRevision, req.At)
	if apiErr != nil {
		return nil, apiErr
	}
	d, apiErr := decide(snap, req)
	if apiErr != nil {
		return nil, apiErr
	}
	return CheckResponse{Decision: d, RevisionToken: token, At: req.At}, nil
}

func decide(snap *access.Snapshot, c CheckRequest) (access.Decision, *apiError) {
	if c.User == "" {
		return access.Decision{}, fail(http.StatusBadRequest, access.ReasonInvalidUser, "user", "user (the email to check) is required")
	}
	target, err := access.ParseTarget(c.Target)
	if err != nil {
		return access.Decision{}, invalidInput(err, "target")
	}
	d, err := snap.Check(access.Request{User: c.User, Groups: c.Groups, Action: c.Action, Target: target, Folder: c.Folder, Environment: c.Environment})
	if err != nil {
		return access.Decision{}, invalidInput(err, "")
	}
	return d, nil
}

func (s *Server) whoCan(r *http.Request, space string) (any, *apiError) {
	body, apiErr := readBody(r)
	if apiErr != nil {
		return nil, apiErr
	}
	var req WhoCanRequest
	if err := decodeStrict(body, &req); err != nil {
		return nil, malformed(err)
	}
	snap, token, apiErr := s.snapshotAt(space, req.AtLeastRevision, req.At)
	if apiErr != nil {
		return nil, apiErr
	}
	pg, apiErr := newPager(req.Limit, req.Continue, snap.Revision())
	if apiErr != nil {
		return nil, apiErr
	}
	target, err := access.ParseTarget(req.Target)
	if err != nil {
		return nil, invalidInput(err, "target")
	}
	res, next, err := snap.WhoCanPage(access.Request{Action: req.Action, Target: target, Folder: req.Folder, Environment: req.Environment}, pg.offset, pg.limit)
	if err != nil {
		var in *access.InvalidInputError
		if errors.As(err, &in) && in.Reason == access.ReasonInvalidPage {
			return nil, fail(http.StatusBadRequest, ReasonMalformedRequest, "continue", "continue: not a continue token of this question")
		}
		return nil, invalidInput(err, "")
	}
	resp := WhoCanResponse{WhoCanResult: res, RevisionToken: token, At: req.At}
	if next > 0 {
		resp.Continue = encodeContinue(next, pg.revision)
	}
	return resp, nil
}

func (s *Server) permissions(r *http.Request, space string) (any, *apiError) {
	q := r.URL.Query()
	snap, token, apiErr := s.snapshotAt(space, q.Get("atLeastRevision"), q.Get("at"))
	if apiErr != nil {
		return nil, apiErr
	}
	limit := 0
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil {
			return nil, fail(http.StatusBadRequest, ReasonMalformedRequest, "limit", "limit: %q is not a number", l)
		}
		limit = n
	}
	pg, apiErr := newPager(limit, q.Get("continue"), snap.Revision())
	if apiErr != nil {
		return nil, apiErr
	}
	res, err := snap.Permissions(r.PathValue("email"), q["group"])
	if err != nil {
		return nil, invalidInput(err, "email")
	}
	var next string
	res.Permissions, next = page(pg, res.Permissions)
	return PermissionsResponse{PermissionsResult: res, RevisionToken: token, At: q.Get("at"), Continue: next}, nil
}

// pager is one page's bounds: limit items from offset of the list the
// model at revision answers.
type pager struct {
	limit, offset int
	revision      string
}

// newPager checks limit and the continue token. A continue token is the
// next offset and the content hash it was cut from; a model whose content
// has changed since cannot continue it (410, start again).
func newPager(limit int, cont, rev string) (pager, *apiError) {
	switch {
	case limit < 0 || limit > MaxLimit:
		return pager{}, fail(http.StatusBadRequest, ReasonMalformedRequest, "limit", "limit: 1 to %d (0: %d), got %d", MaxLimit, DefaultLimit, limit)
	case limit == 0:
		limit = DefaultLimit
	}
	p := pager{limit: limit, revision: rev}
	if cont == "" {
		return p, nil
	}
	offset, contRev, err := decodeContinue(cont)
	if err != nil {
		return pager{}, fail(http.StatusBadRequest, ReasonMalformedRequest, "continue", "continue: %v", err)
	}
	if contRev != rev {
		return pager{}, fail(http.StatusGone, ReasonContinueExpired, "continue",
			"the access model changed since the first page (revision %s, was %s): ask again without continue", rev, contRev)
	}
	p.offset = offset
	return p, nil
}

// page cuts one page from items and returns the continue token of the next
// page ("" on the last).
func page[T any](p pager, items []T) ([]T, string) {
	if p.offset >= len(items) {
		return items[:0], ""
	}
	end := min(len(items), p.offset+p.limit)
	next := ""
	if end < len(items) {
		next = encodeContinue(end, p.revision)
	}
	return items[p.offset:end], next
}

func encodeContinue(offset int, rev string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(offset) + ":" + rev))
}

func decodeContinue(s string) (int, string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(raw) > revision.MaxLen+24 {
		return 0, "", errors.New("not a continue token of this API")
	}
	off, rev, ok := strings.Cut(string(raw), ":")
	n, err := strconv.Atoi(off)
	if !ok || err != nil || n <= 0 || strconv.Itoa(n) != off {
		return 0, "", errors.New("not a continue token of this API")
	}
	if _, err := revision.Parse(rev); err != nil {
		return 0, "", errors.New("not a continue token of this API")
	}
	return n, rev, nil
}

// invalidInput maps the engine's invalid-input errors to 400 with its reason.
func invalidInput(err error, field string) *apiError {
	var in *access.InvalidInputError
	if errors.As(err, &in) {
		if field == "" {
			field = fieldOfReason(in.Reason)
		}
		return fail(http.StatusBadRequest, in.Reason, field, "%s", in.Message)
	}
	return fail(http.StatusBadRequest, ReasonMalformedRequest, field, "%v", err)
}

func fieldOfReason(reason string) string {
	switch reason {
	case access.ReasonUnknownAction:
		return "action"
	case access.ReasonUnknownTarget:
		return "target"
	case access.ReasonUnknownEnvironment:
		return "environment"
	case access.ReasonInvalidUser:
		return "user"
	}
	return ""
}

func readBody(r *http.Request) ([]byte, *apiError) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, fail(http.StatusRequestEntityTooLarge, ReasonBodyTooLarge, "", "the request body is larger than %d bytes", MaxBodyBytes)
		}
		return nil, fail(http.StatusBadRequest, ReasonMalformedRequest, "", "reading the request body: %v", err)
	}
	return body, nil
}

func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

func malformed(err error) *apiError {
	field := ""
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		field = typeErr.Field
	}
	if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
		field = strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`)
	}
	return fail(http.StatusBadRequest, ReasonMalformedRequest, field, "malformed JSON: %v", err)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, e *apiError) {
	if e.status == http.StatusConflict || e.status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, e.status, errorResponse{Error: e.body})
}

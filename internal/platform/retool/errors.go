package retool

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// APIError is an error answer of Retool's API: the status and Retool's
// message ({"success":false,"message":...}).
type APIError struct {
	Status  int
	Method  string
	Path    string
	Message string
	// RetryAfter is the wait Retool asked for (429), zero if none.
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = "(no message)"
	}
	return fmt.Sprintf("retool %s %s: %d %s: %s", e.Method, e.Path, e.Status, http.StatusText(e.Status), msg)
}

func statusOf(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// IsNotFound reports whether err is Retool's 404.
func IsNotFound(err error) bool { return statusOf(err) == http.StatusNotFound }

// IsUnauthorized reports whether err is Retool's 401 (a wrong or revoked token).
func IsUnauthorized(err error) bool { return statusOf(err) == http.StatusUnauthorized }

// IsForbidden reports whether err is Retool's 403; its message names the
// scope the token is missing.
func IsForbidden(err error) bool { return statusOf(err) == http.StatusForbidden }

// IsRateLimited reports whether err is Retool's 429 (after the retries).
func IsRateLimited(err error) bool { return statusOf(err) == http.StatusTooManyRequests }

// IsConflict reports whether err is Retool's 409 (for example a folder of
// that name exists already).
func IsConflict(err error) bool { return statusOf(err) == http.StatusConflict }

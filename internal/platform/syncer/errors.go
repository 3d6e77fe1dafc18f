package syncer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/governor-dev/governor/internal/platform/retool"
)

// Kind says what a failure asks of whoever retries it (Flux's stalling,
// waiting and generic errors).
type Kind int

const (
	// Transient failures are retried with the controller's backoff: a 5xx,
	// a Kubernetes API error, a pass interrupted.
	Transient Kind = iota
	// Waiting failures depend on something outside Governor that passes on
	// its own (an unreachable instance, a rate limit): retried after
	// RequeueAfter, without backoff.
	Waiting
	// Stalling failures need a person (a refused token, a missing Secret):
	// not retried until an input changes.
	Stalling
)

func (k Kind) String() string {
	switch k {
	case Waiting:
		return "Waiting"
	case Stalling:
		return "Stalling"
	}
	return "Transient"
}

// Reasons of failures (the PlatformSynced condition's reason).
const (
	ReasonTokenMissing   = "TokenMissing"
	ReasonUnauthorized   = "Unauthorized"
	ReasonForbidden      = "Forbidden"
	ReasonUnreachable    = "Unreachable"
	ReasonRateLimited    = "RateLimited"
	ReasonPlatformError  = "PlatformError"
	ReasonAPIServerError = "APIServerError"
	ReasonInvalid        = "InvalidConfiguration"
	ReasonInterrupted    = "Interrupted"
	// ReasonSSOSecret: the identity provider's Secret (spec.sso.provider.
	// secretRef) is missing, or lacks a key.
	ReasonSSOSecret = "SSOSecretMissing"
)

// MessageUnauthorized is a refused token's message; whoever knows which
// Secret holds the token says so instead.
const MessageUnauthorized = "the instance refused the API token (401)"

// DefaultWait is when a Waiting failure without a better estimate is
// tried again.
const DefaultWait = 15 * time.Second

// Error is a failure of the platform sync: its kind, a reason for the
// condition, what was being done (the message) and the cause.
type Error struct {
	Kind   Kind
	Reason string
	// Message says what failed and, for a stalling error, what to do.
	// Empty: the cause's text.
	Message string
	// RequeueAfter is when a Waiting error is worth another try.
	RequeueAfter time.Duration
	Err          error
}

func (e *Error) Error() string {
	switch {
	case e.Message != "" && e.Err != nil:
		return e.Message + ": " + e.Err.Error()
	case e.Message != "":
		return e.Message
	case e.Err != nil:
		return e.Err.Error()
	}
	return e.Reason
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Stalled is a failure a person must fix.
func Stalled(reason, message string, cause error) *Error {
	return &Error{Kind: Stalling, Reason: reason, Message: message, Err: cause}
}

// Wait is a failure that passes on its own; after <= 0 means DefaultWait.
func Wait(reason string, after time.Duration, cause error) *Error {
	if after <= 0 {
		after = DefaultWait
	}
	return &Error{Kind: Waiting, Reason: reason, RequeueAfter: after, Err: cause}
}

// Retry is a transient failure.
func Retry(reason string, cause error) *Error {
	return &Error{Kind: Transient, Reason: reason, Err: cause}
}

// Classify returns err as an *Error: the first one in its chain, else one
// made from what the instance answered. A failure the instance did not
// cause must be wrapped by whoever saw it (a Kubernetes API error is
// Retry(ReasonAPIServerError, err)): an unrecognised error is transient,
// never "unreachable".
func Classify(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var ae *retool.APIError
	var ne net.Error
	var ue *url.Error
	switch {
	case retool.IsUnauthorized(err):
		return Stalled(ReasonUnauthorized, MessageUnauthorized, err)
	case retool.IsForbidden(err):
		return Stalled(ReasonForbidden, "the API token lacks a scope (403): give it read and write on Groups, Users, Folders, Permissions, Apps, Resources, Spaces, Source Control and SSO", err)
	case retool.IsRateLimited(err):
		after := DefaultWait
		if errors.As(err, &ae) && ae.RetryAfter > 0 {
			after = ae.RetryAfter
		}
		return Wait(ReasonRateLimited, after, err)
	case errors.As(err, &ae):
		return Retry(ReasonPlatformError, err)
	case errors.Is(err, context.Canceled):
		return Retry(ReasonInterrupted, err)
	case errors.As(err, &ne), errors.As(err, &ue), errors.Is(err, context.DeadlineExceeded):
		return Wait(ReasonUnreachable, 0, fmt.Errorf("instance unreachable: %w", err))
	}
	return Retry(ReasonPlatformError, err)
}

package gitref

import (
	"errors"
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Reason classifies a resolution failure.
type Reason string

const (
	// ReasonRefNotFound: the repository was listed but has no such tag, branch or commit.
	ReasonRefNotFound Reason = "RefNotFound"
	// ReasonRepositoryNotFound: the server says the repository does not exist.
	ReasonRepositoryNotFound Reason = "RepositoryNotFound"
	// ReasonAuth: the credentials were refused or are missing, or the SSH host key is not trusted.
	ReasonAuth Reason = "AuthFailed"
	// ReasonInvalid: the URL, the ref or the credentials are malformed; retrying cannot help.
	ReasonInvalid Reason = "Invalid"
	// ReasonUnreachable: the repository could not be reached (network, timeout, server error); retry.
	ReasonUnreachable Reason = "Unreachable"
)

// sentinel lets errors.Is match an *Error by its reason.
type sentinel Reason

func (s sentinel) Error() string { return "gitref: " + string(s) }

// Sentinels for errors.Is on errors returned by Resolve and CredentialsFromSecret.
var (
	ErrRefNotFound        error = sentinel(ReasonRefNotFound)
	ErrRepositoryNotFound error = sentinel(ReasonRepositoryNotFound)
	ErrAuth               error = sentinel(ReasonAuth)
	ErrInvalid            error = sentinel(ReasonInvalid)
	ErrUnreachable        error = sentinel(ReasonUnreachable)
)

// Error is the error Resolve returns: it names the ref and the repository (credentials redacted).
type Error struct {
	Reason     Reason
	Repository string
	Ref        string
	// Detail completes the message (what was looked for, what to do).
	Detail string
	Err    error
}

func (e *Error) Error() string {
	var b strings.Builder
	switch e.Reason {
	case ReasonRefNotFound:
		fmt.Fprintf(&b, "ref %q not found in repository %s", e.Ref, e.Repository)
	case ReasonRepositoryNotFound:
		fmt.Fprintf(&b, "repository %s not found (resolving ref %q)", e.Repository, e.Ref)
	case ReasonAuth:
		fmt.Fprintf(&b, "authentication to repository %s failed (resolving ref %q)", e.Repository, e.Ref)
	case ReasonInvalid:
		if e.Repository != "" {
			fmt.Fprintf(&b, "cannot resolve ref %q in repository %s", e.Ref, e.Repository)
		} else {
			fmt.Fprintf(&b, "cannot resolve ref %q", e.Ref)
		}
	default:
		fmt.Fprintf(&b, "repository %s unreachable (resolving ref %q)", e.Repository, e.Ref)
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Is matches the sentinel of the error's reason.
func (e *Error) Is(target error) bool {
	s, ok := target.(sentinel)
	return ok && Reason(s) == e.Reason
}

// IsAuthError reports whether err is a refused, missing or malformed credential or an untrusted host key:
// fixing it needs a change to the credentials Secret.
func IsAuthError(err error) bool { return errors.Is(err, ErrAuth) }

// IsNotFound reports whether the ref or the repository does not exist.
func IsNotFound(err error) bool {
	return errors.Is(err, ErrRefNotFound) || errors.Is(err, ErrRepositoryNotFound)
}

// IsInvalid reports whether the input (URL, ref, credentials) is malformed.
func IsInvalid(err error) bool { return errors.Is(err, ErrInvalid) }

// IsTransient reports whether retrying the same call later may succeed: the repository was unreachable,
// the call timed out or was cancelled. Not-found, auth and invalid errors are not transient.
func IsTransient(err error) bool {
	return err != nil && !IsAuthError(err) && !IsNotFound(err) && !IsInvalid(err)
}

// classify maps a transport error to a reason.
func classify(err error) Reason {
	var keyErr *knownhosts.KeyError
	var revoked *knownhosts.RevokedError
	switch {
	case errors.Is(err, transport.ErrRepositoryNotFound):
		return ReasonRepositoryNotFound
	case errors.Is(err, transport.ErrAuthenticationRequired),
		errors.Is(err, transport.ErrAuthorizationFailed),
		errors.Is(err, transport.ErrInvalidAuthMethod),
		errors.As(err, &keyErr), errors.As(err, &revoked):
		return ReasonAuth
	}
	msg := err.Error()
	for _, s := range []string{"unable to authenticate", "knownhosts:", "host key mismatch", "no supported methods remain"} {
		if strings.Contains(msg, s) {
			return ReasonAuth
		}
	}
	return ReasonUnreachable
}

package controller

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/platform/retool"
)

// platformError is a failure with a reason for the PlatformSynced condition.
type platformError struct {
	reason  string
	stalled bool
	msg     string
}

func (e *platformError) Error() string { return e.msg }

// classifyPlatformError names a failure: its reason, whether the user must
// act, and a message saying what to do.
func classifyPlatformError(err error) (reason string, stalled bool, msg string) {
	var pe *platformError
	var ae *retool.APIError
	var ne net.Error
	switch {
	case errors.As(err, &pe):
		return pe.reason, pe.stalled, pe.msg
	case retool.IsUnauthorized(err):
		return reasonUnauthorized, true, fmt.Sprintf("the instance refused the API token (401): %v; store a valid token of this Space's Settings > API", err)
	case retool.IsForbidden(err):
		return reasonForbidden, true, fmt.Sprintf("the API token lacks a scope (403): %v; give it read and write on Groups, Users, Folders, Permissions, Apps, Resources, Spaces and Source Control", err)
	case retool.IsRateLimited(err):
		return reasonRateLimited, false, fmt.Sprintf("rate limited by the instance: %v", err)
	case errors.As(err, &ae):
		return reasonPlatformError, false, err.Error()
	case errors.As(err, &ne), errors.Is(err, context.DeadlineExceeded):
		return reasonUnreachable, false, fmt.Sprintf("instance unreachable: %v", err)
	}
	return reasonUnreachable, false, err.Error()
}

// platformSyncedCondition summarises the environments' passes.
func platformSyncedCondition(results []envResult, revision string, generation int64) metav1.Condition {
	c := metav1.Condition{Type: governorv1alpha1.ConditionPlatformSynced, ObservedGeneration: generation}
	var failing []string
	reason, stalled := "", false
	for _, res := range results {
		if res.reason == "" {
			continue
		}
		failing = append(failing, fmt.Sprintf("%s: %s", res.status.Environment, res.status.Message))
		if reason == "" || res.stalled && !stalled {
			reason, stalled = res.reason, res.stalled
		}
	}
	if len(failing) == 0 {
		c.Status, c.Reason = metav1.ConditionTrue, reasonSynced
		c.Message = fmt.Sprintf("%d instance(s) hold revision %s", len(results), access.ShortRevision(revision))
		return c
	}
	c.Status, c.Reason, c.Message = metav1.ConditionFalse, reason, strings.Join(failing, "; ")
	return c
}

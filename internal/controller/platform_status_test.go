package controller

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/platform/retool"
)

func TestPlatformSyncedCondition(t *testing.T) {
	env := func(name, reason string, stalled bool, msg string) envResult {
		return envResult{status: governorv1alpha1.EnvironmentPlatformStatus{Environment: name, Message: msg}, reason: reason, stalled: stalled}
	}
	cases := map[string]struct {
		results             []envResult
		status              metav1.ConditionStatus
		reason, messagePart string
	}{
		"every environment synced": {
			results: []envResult{env("development", "", false, ""), env("production", "", false, "")},
			status:  metav1.ConditionTrue, reason: reasonSynced, messagePart: "2 instance(s) hold revision 0123456789ab",
		},
		"one environment failing names it": {
			results: []envResult{env("development", "", false, ""), env("production", reasonUnreachable, false, "instance unreachable: dial")},
			status:  metav1.ConditionFalse, reason: reasonUnreachable, messagePart: "production: instance unreachable: dial",
		},
		"what the user must fix wins the reason": {
			results: []envResult{env("development", reasonSyncing, false, "3 of 9 calls"), env("production", reasonTokenMissing, true, "Secret x not found")},
			status:  metav1.ConditionFalse, reason: reasonTokenMissing, messagePart: "development: 3 of 9 calls; production: Secret x not found",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := platformSyncedCondition(tc.results, "0123456789abcdef", 7)
			if c.Type != governorv1alpha1.ConditionPlatformSynced || c.Status != tc.status || c.Reason != tc.reason || c.ObservedGeneration != 7 {
				t.Errorf("condition = %+v", c)
			}
			if !strings.Contains(c.Message, tc.messagePart) {
				t.Errorf("message %q lacks %q", c.Message, tc.messagePart)
			}
		})
	}
}

func TestClassifyPlatformError(t *testing.T) {
	cases := map[string]struct {
		err     error
		reason  string
		stalled bool
		says    string
	}{
		"a missing token": {&platformError{reason: reasonTokenMissing, stalled: true, msg: "Secret s not found"}, reasonTokenMissing, true, "Secret s not found"},
		"401":             {&retool.APIError{Status: 401, Method: "GET", Path: "/api/v2/groups", Message: "bad token"}, reasonUnauthorized, true, "Settings > API"},
		"403 names the scope": {&retool.APIError{Status: 403, Method: "POST", Path: "/api/v2/groups", Message: `The API token must have the "Groups > Write" scope`},
			reasonForbidden, true, "Groups > Write"},
		"429":                {fmt.Errorf("listing: %w", &retool.APIError{Status: 429, Message: "slow down"}), reasonRateLimited, false, "slow down"},
		"500":                {&retool.APIError{Status: 500, Message: "boom"}, reasonPlatformError, false, "boom"},
		"connection refused": {&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, reasonUnreachable, false, "connection refused"},
		"a timed-out call":   {fmt.Errorf("GET: %w", context.DeadlineExceeded), reasonUnreachable, false, "deadline"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			reason, stalled, msg := classifyPlatformError(tc.err)
			if reason != tc.reason || stalled != tc.stalled || !strings.Contains(msg, tc.says) {
				t.Errorf("= %s, %t, %q; want %s, %t, containing %q", reason, stalled, msg, tc.reason, tc.stalled, tc.says)
			}
		})
	}
}

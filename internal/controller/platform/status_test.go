package platform

import (
	"errors"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/governor-dev/governor/internal/platform/syncer"
)

func TestSummarize(t *testing.T) {
	const rev = "abcdef0123456789"
	refused := func(env string) outcome {
		return outcome{done: true, err: syncer.Stalled(syncer.ReasonUnauthorized,
			"the instance refused the API token (401): store a valid token in Secret governor-system/retool-"+env+"-payments (the payments Space's Settings > API)",
			errors.New("retool GET /api/v2/groups: 401 Unauthorized"))}
	}
	synced := outcome{done: true, revision: rev}
	envs := []string{"development", "staging", "production"}
	for name, tc := range map[string]struct {
		outcomes map[string]outcome
		status   metav1.ConditionStatus
		reason   string
		message  []string
	}{
		"every environment holds the revision": {
			map[string]outcome{"development": synced, "staging": synced, "production": synced},
			metav1.ConditionTrue, ReasonSynced, []string{"3 environment(s) hold revision abcdef012345"}},
		"a new revision: Syncing until each holds it": {
			map[string]outcome{"development": synced, "staging": {done: true, revision: "old"}, "production": synced},
			metav1.ConditionFalse, ReasonSyncing, []string{"staging: bringing 1 of 3 environment(s) to revision abcdef012345"}},
		"no pass since start claims nothing": {
			map[string]outcome{"development": synced},
			metav1.ConditionFalse, ReasonSyncing, []string{"staging, production"}},
		"one failure on three environments is said once": {
			map[string]outcome{"development": refused("development"), "staging": refused("staging"), "production": refused("production")},
			metav1.ConditionFalse, syncer.ReasonUnauthorized,
			[]string{"3 environments (development, staging, production): the instance refused the API token (401): store a valid token in Secret governor-system/retool-ENV-payments"}},
		"a stalled failure comes before a waiting one": {
			map[string]outcome{"development": {done: true, err: syncer.Wait(syncer.ReasonUnreachable, 0, errors.New("dial tcp: connection refused"))},
				"staging": refused("staging"), "production": synced},
			metav1.ConditionFalse, syncer.ReasonUnauthorized,
			[]string{"staging: the instance refused the API token (401): store a valid token in Secret governor-system/retool-staging-payments", "; development: dial tcp"}},
	} {
		t.Run(name, func(t *testing.T) {
			c := summarize(envs, tc.outcomes, rev, 7)
			if c.Status != tc.status || c.Reason != tc.reason || c.ObservedGeneration != 7 {
				t.Errorf("%s %s (generation %d): %s", c.Status, c.Reason, c.ObservedGeneration, c.Message)
			}
			for _, m := range tc.message {
				if !strings.Contains(c.Message, m) {
					t.Errorf("message %q lacks %q", c.Message, m)
				}
			}
			if len(c.Message) > maxConditionMessage {
				t.Errorf("message of %d characters", len(c.Message))
			}
		})
	}
}

func TestRequeueFollowsTheKind(t *testing.T) {
	const resync = 10 * 60e9
	if res, err := requeue(nil, resync); err != nil || res.RequeueAfter != resync {
		t.Errorf("success: %v %v", res, err)
	}
	if res, err := requeue(syncer.Wait(syncer.ReasonRateLimited, 7e9, errors.New("429")), resync); err != nil || res.RequeueAfter != 7e9 {
		t.Errorf("waiting: %v %v", res, err)
	}
	if res, err := requeue(syncer.Stalled(syncer.ReasonUnauthorized, "", errors.New("401")), resync); err != nil || res.RequeueAfter != resync {
		t.Errorf("stalled: %v %v", res, err)
	}
	if _, err := requeue(syncer.Retry(syncer.ReasonAPIServerError, errors.New("etcd")), resync); err == nil {
		t.Error("a transient failure is not returned for backoff")
	}
}

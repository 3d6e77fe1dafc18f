package platform

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/platform"
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
			c := summarize(envs, tc.outcomes, rev, 7, false)
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

func TestSummarizeObserving(t *testing.T) {
	const rev = "abcdef0123456789"
	observed := func(calls, drift int32) outcome {
		o := outcome{done: true, observing: true, revision: rev}
		o.status.Planned = &governorv1alpha1.PlatformPlanned{Count: calls}
		if drift > 0 {
			o.status.Drift = &governorv1alpha1.PlatformDrift{Count: drift}
		}
		return o
	}
	envs := []string{"development", "production"}
	for name, tc := range map[string]struct {
		outcomes  map[string]outcome
		observing bool
		status    metav1.ConditionStatus
		reason    string
		message   []string
	}{
		"calls planned: False, Observing, with the count per environment": {
			map[string]outcome{"development": observed(12, 3), "production": observed(0, 0)}, true,
			metav1.ConditionFalse, governorv1alpha1.ReasonObserving,
			[]string{"Observe mode, nothing is written", "development 12 call(s), 3 drift", "status.platform[].planned"}},
		"nothing planned: the instances hold the model": {
			map[string]outcome{"development": observed(0, 2), "production": observed(0, 0)}, true,
			metav1.ConditionTrue, governorv1alpha1.ReasonObserving,
			[]string{"2 environment(s) hold revision abcdef012345; Observe mode: nothing is written"}},
		"an environment not read yet": {
			map[string]outcome{"development": observed(1, 0)}, true,
			metav1.ConditionFalse, ReasonSyncing, []string{"production: planning 1 of 2 environment(s)", "nothing is written"}},
		"a failure comes first": {
			map[string]outcome{"development": observed(1, 0), "production": {done: true, observing: true,
				err: syncer.Wait(syncer.ReasonUnreachable, 0, errors.New("dial tcp: connection refused"))}}, true,
			metav1.ConditionFalse, syncer.ReasonUnreachable, []string{"production: dial tcp"}},
		"switched to Additive: an observing pass is not a sync": {
			map[string]outcome{"development": observed(0, 0), "production": observed(0, 0)}, false,
			metav1.ConditionFalse, ReasonSyncing, []string{"development, production: bringing 2 of 2"}},
		"switched to Observe: a sync is not an observing pass": {
			map[string]outcome{"development": {done: true, revision: rev}, "production": observed(0, 0)}, true,
			metav1.ConditionFalse, ReasonSyncing, []string{"development: planning 1 of 2"}},
	} {
		t.Run(name, func(t *testing.T) {
			c := summarize(envs, tc.outcomes, rev, 3, tc.observing)
			if c.Status != tc.status || c.Reason != tc.reason {
				t.Errorf("%s %s: %s", c.Status, c.Reason, c.Message)
			}
			for _, m := range tc.message {
				if !strings.Contains(c.Message, m) {
					t.Errorf("message %q lacks %q", c.Message, m)
				}
			}
		})
	}
}

func TestReportObserving(t *testing.T) {
	ops := make([]platform.Op, 14)
	for i := range ops {
		ops[i] = platform.Op{Kind: platform.OpCreateGroup, GroupName: fmt.Sprintf("team-%02d", i), Settings: &platform.GroupSettings{}}
	}
	res := syncer.Result{Desired: platform.Desired{Revision: "rev-2"}, Plan: platform.Plan{Ops: ops, Drift: []string{`group "ops"`}}}
	st := governorv1alpha1.EnvironmentPlatformStatus{SyncedRevision: "rev-1"}
	report("payments", "development", &st, res, true)
	if st.Planned == nil || st.Planned.Count != 14 || len(st.Planned.Calls) != maxPlannedCalls {
		t.Fatalf("planned %+v; want 14 counted, %d listed", st.Planned, maxPlannedCalls)
	}
	if want := `POST /groups "team-00" with 0 member(s), universal apps , workflows , resources , query library `; st.Planned.Calls[0] != strings.TrimSpace(want) {
		t.Errorf("first call %q", st.Planned.Calls[0])
	}
	if got := plannedGauge(t, "payments", "development"); got != 14 {
		t.Errorf("governor_platform_planned = %v, want 14", got)
	}
	if st.SyncedRevision != "" || st.LastSyncTime != nil {
		t.Errorf("a plan with calls claims the instance holds %q since %v", st.SyncedRevision, st.LastSyncTime)
	}
	if st.Drift == nil || st.Drift.Count != 1 {
		t.Errorf("drift %+v", st.Drift)
	}

	res.Plan.Ops = nil
	report("payments", "development", &st, res, true)
	if st.Planned == nil || st.Planned.Count != 0 || st.SyncedRevision != "rev-2" || st.LastSyncTime == nil {
		t.Errorf("an empty plan: planned %+v, synced %q at %v", st.Planned, st.SyncedRevision, st.LastSyncTime)
	}
	report("payments", "development", &st, res, false)
	if st.Planned != nil {
		t.Errorf("outside Observe mode planned is %+v", st.Planned)
	}
	if got := plannedGauge(t, "payments", "development"); got != 0 {
		t.Errorf("governor_platform_planned = %v outside Observe mode", got)
	}
}

// plannedGauge reads governor_platform_planned from the registry the
// operator serves on /metrics.
func plannedGauge(t *testing.T, space, env string) float64 {
	t.Helper()
	families, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "governor_platform_planned" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["space"] == space && labels["environment"] == env {
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("governor_platform_planned{space=%q,environment=%q} is not exported", space, env)
	return 0
}

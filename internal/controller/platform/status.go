package platform

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/platform/syncer"
)

// ReasonSynced and ReasonSyncing are PlatformSynced's reasons besides the
// failures' (syncer.Reason*).
const (
	ReasonSynced  = "Synced"
	ReasonSyncing = "Syncing"
)

// maxConditionMessage bounds PlatformSynced's message; the detail is in
// status.platform[].message.
const maxConditionMessage = 320

// outcome is the last completed pass of one environment in this process.
type outcome struct {
	// done is set once a pass of this process ended; before that nothing is
	// claimed about the instance.
	done bool
	// revision the instance was verified to hold (successful pass only);
	// in Observe mode, the revision the pass planned against.
	revision string
	// observing: the pass ran in Observe mode, and wrote nothing.
	observing bool
	err       *syncer.Error
	// status is the environment's status.platform entry.
	status governorv1alpha1.EnvironmentPlatformStatus
	// planned is set when the pass planned (even if it did not finish), and
	// notExpressible are then the rule targets the instance cannot hold.
	planned        bool
	notExpressible []inexpressible
}

// summarize is PlatformSynced from the environments' outcomes: a failure
// first (one failure on several environments said once), else Syncing
// until every environment holds revision (in the Space's mode: a pass of
// the other mode is not taken for one of this), else Synced; when
// observing, Observing: True when no environment needs a call, False with
// the count of calls each needs.
func summarize(envs []string, outcomes map[string]outcome, revision string, generation int64, observing bool) metav1.Condition {
	c := metav1.Condition{Type: governorv1alpha1.ConditionPlatformSynced, ObservedGeneration: generation}
	type failure struct {
		kind    syncer.Kind
		reason  string
		message string
		envs    []string
	}
	var failures []*failure
	var behind []string
	for _, env := range envs {
		o := outcomes[env]
		switch {
		case o.err != nil:
			msg := o.err.Message
			if msg == "" {
				msg = o.err.Error()
			}
			// The same failure in several environments differs by their names
			// only (retool-development-payments, ...): said once, as ENV.
			generic := strings.ReplaceAll(msg, env, "ENV")
			i := slices.IndexFunc(failures, func(f *failure) bool { return f.reason == o.err.Reason && f.message == generic })
			if i < 0 {
				failures = append(failures, &failure{kind: o.err.Kind, reason: o.err.Reason, message: generic})
				i = len(failures) - 1
			}
			failures[i].envs = append(failures[i].envs, env)
		case !o.done || o.revision != revision || o.observing != observing:
			behind = append(behind, env)
		}
	}
	if len(failures) > 0 {
		slices.SortStableFunc(failures, func(a, b *failure) int { return int(b.kind) - int(a.kind) })
		parts := make([]string, len(failures))
		for i, f := range failures {
			if len(f.envs) == 1 {
				parts[i] = f.envs[0] + ": " + strings.ReplaceAll(f.message, "ENV", f.envs[0])
				continue
			}
			parts[i] = fmt.Sprintf("%d environments (%s): %s", len(f.envs), strings.Join(f.envs, ", "), f.message)
		}
		c.Status, c.Reason, c.Message = metav1.ConditionFalse, failures[0].reason, bound(strings.Join(parts, "; "), maxConditionMessage)
		return c
	}
	short := access.ShortRevision(revision)
	if len(behind) > 0 {
		c.Status, c.Reason = metav1.ConditionFalse, ReasonSyncing
		c.Message = bound(fmt.Sprintf("%s: bringing %d of %d environment(s) to revision %s", strings.Join(behind, ", "), len(behind), len(envs), short), maxConditionMessage)
		if observing {
			c.Message = bound(fmt.Sprintf("%s: planning %d of %d environment(s) against revision %s (Observe mode: nothing is written)",
				strings.Join(behind, ", "), len(behind), len(envs), short), maxConditionMessage)
		}
		return c
	}
	if observing {
		return observingCondition(c, envs, outcomes, short)
	}
	c.Status, c.Reason = metav1.ConditionTrue, ReasonSynced
	c.Message = fmt.Sprintf("%d environment(s) hold revision %s", len(envs), short)
	return c
}

// observingCondition is PlatformSynced of an observing Space whose
// environments were all planned: True when they hold the model already,
// else False with the calls each would need.
func observingCondition(c metav1.Condition, envs []string, outcomes map[string]outcome, short string) metav1.Condition {
	c.Reason = governorv1alpha1.ReasonObserving
	var parts []string
	for _, env := range envs {
		st := outcomes[env].status
		if st.Planned == nil || st.Planned.Count == 0 {
			continue
		}
		part := fmt.Sprintf("%s %d call(s)", env, st.Planned.Count)
		if st.Drift != nil {
			part += fmt.Sprintf(", %d drift", st.Drift.Count)
		}
		parts = append(parts, part)
	}
	if len(parts) == 0 {
		c.Status = metav1.ConditionTrue
		c.Message = fmt.Sprintf("%d environment(s) hold revision %s; Observe mode: nothing is written", len(envs), short)
		return c
	}
	c.Status = metav1.ConditionFalse
	c.Message = bound(fmt.Sprintf("Observe mode, nothing is written: revision %s needs %s (status.platform[].planned); Additive makes them",
		short, strings.Join(parts, "; ")), maxConditionMessage)
	return c
}

func bound(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}

// publish writes the Space's status.platform and PlatformSynced from what
// this process's passes found, when they changed: server-side apply with
// the platform controller's field manager, which owns these fields only
// (the Space controller owns the rest of the status).
func (r *Reconciler) publish(ctx context.Context, space *governorv1alpha1.Space) error {
	st := r.state(space.Name)
	st.publishMu.Lock()
	defer st.publishMu.Unlock()
	envs := controllerEnvNames(space)
	revision := ""
	if m := r.Models.Get(space.Name); m != nil {
		revision = m.Snapshot.Revision()
	}
	outcomes := st.outcomes()
	platform := make([]governorv1alpha1.EnvironmentPlatformStatus, 0, len(envs))
	for _, env := range envs {
		o, ok := outcomes[env]
		entry := o.status
		if !ok || !o.done {
			// No pass of this process has ended: nothing is claimed but the
			// Space's id and when an earlier pass last saw it match.
			entry = governorv1alpha1.EnvironmentPlatformStatus{Environment: env, Message: "waiting for this environment's first pass since Governor started"}
			if prev := findStatus(space.Status.Platform, env); prev != nil {
				entry.SpaceID, entry.LastSyncTime = prev.SpaceID, prev.LastSyncTime
			}
			if rec := st.record(env); rec != nil {
				if _, id := rec.snapshot(); id != "" {
					entry.SpaceID = id
				}
			}
		}
		platform = append(platform, entry)
	}
	var cond *metav1.Condition
	if len(envs) > 0 {
		c := summarize(envs, outcomes, revision, space.Generation, space.Observing())
		cond = &c
	}
	if st.applied != nil {
		// What this process last wrote is fresher than the cached Space.
		space = space.DeepCopy()
		space.Status.Platform = st.applied.platform
		meta.RemoveStatusCondition(&space.Status.Conditions, governorv1alpha1.ConditionPlatformSynced)
		if st.applied.cond != nil {
			space.Status.Conditions = append(space.Status.Conditions, *st.applied.cond)
		}
	}
	if err := applyPlatformStatus(ctx, r.Client, space, platform, cond); err != nil {
		return err
	}
	st.applied = &applied{platform: platform, cond: meta.FindStatusCondition(space.Status.Conditions, governorv1alpha1.ConditionPlatformSynced)}
	return nil
}

// applied is what the platform controller last applied to a Space's status.
type applied struct {
	platform []governorv1alpha1.EnvironmentPlatformStatus
	cond     *metav1.Condition
}

// applyPlatformStatus applies the platform controller's status fields when
// they differ from the Space's.
func applyPlatformStatus(ctx context.Context, c client.Client, space *governorv1alpha1.Space,
	platform []governorv1alpha1.EnvironmentPlatformStatus, cond *metav1.Condition) error {
	existing := meta.FindStatusCondition(space.Status.Conditions, governorv1alpha1.ConditionPlatformSynced)
	if cond != nil {
		cond.LastTransitionTime = metav1.NewTime(time.Now().Truncate(time.Second))
		if existing != nil && existing.Status == cond.Status {
			cond.LastTransitionTime = existing.LastTransitionTime
		}
	}
	samePlatform := equality.Semantic.DeepEqual(space.Status.Platform, platform) || len(space.Status.Platform) == 0 && len(platform) == 0
	sameCond := cond == nil && existing == nil ||
		cond != nil && existing != nil && existing.Status == cond.Status && existing.Reason == cond.Reason &&
			existing.Message == cond.Message && existing.ObservedGeneration == cond.ObservedGeneration
	if samePlatform && sameCond {
		return nil
	}
	status := map[string]any{}
	if len(platform) > 0 {
		list := make([]any, len(platform))
		for i := range platform {
			m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&platform[i])
			if err != nil {
				return err
			}
			list[i] = m
		}
		status["platform"] = list
	}
	if cond != nil {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(cond)
		if err != nil {
			return err
		}
		status["conditions"] = []any{m}
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": governorv1alpha1.GroupVersion.String(),
		"kind":       "Space",
		"metadata":   map[string]any{"name": space.Name},
		"status":     status,
	}}
	if err := c.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(fieldManager), client.ForceOwnership); err != nil {
		return client.IgnoreNotFound(err)
	}
	space.Status.Platform = platform
	if cond != nil {
		meta.SetStatusCondition(&space.Status.Conditions, *cond)
	} else {
		meta.RemoveStatusCondition(&space.Status.Conditions, governorv1alpha1.ConditionPlatformSynced)
	}
	return nil
}

func findStatus(list []governorv1alpha1.EnvironmentPlatformStatus, env string) *governorv1alpha1.EnvironmentPlatformStatus {
	for i := range list {
		if list[i].Environment == env {
			return &list[i]
		}
	}
	return nil
}

package controller

import (
	"sort"

	"github.com/Masterminds/semver/v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
)

// accessModelStatus summarises a compiled model for status.accessModel.
func accessModelStatus(m *Model) *governorv1alpha1.AccessModelStatus {
	stats := m.Snapshot.Stats()
	problems := 0
	for _, ps := range m.Problems {
		if len(ps) > 0 {
			problems++
		}
	}
	return &governorv1alpha1.AccessModelStatus{
		Revision:      m.Snapshot.Revision(),
		RevisionToken: m.Token(),
		Groups:        int32(stats.Groups),
		Rules:         int32(stats.Rules),
		Members:       int32(stats.Members),
		Problems:      int32(problems),
	}
}

// spaceProblems is a stalling error naming the fields of the Space's own
// compile problems (a role mapping to a missing group, an environment
// declared twice, spec.inheritFrom), or nil when it has none.
func spaceProblems(m *Model, space string) error {
	problems := m.Problems[ObjectRef{Kind: "Space", Name: space}]
	if len(problems) == 0 {
		return nil
	}
	return stall(problems[0].Reason, "%s", problemMessage(problems))
}

// releaseOrder is an app's releases, highest semantic version first, with
// the phase each one has among them.
type releaseOrder struct {
	live   *governorv1alpha1.Release
	phases map[string]governorv1alpha1.ReleasePhase // by Release name
	// duplicateOf names, for a release that repeats a published version, the release that has it.
	duplicateOf map[string]string
}

// orderReleases decides the phases of one app's releases: the live one is
// the Published release with the highest semantic version; lower Published
// ones are Superseded; a Published release repeating a version another
// (older) Release already has is Failed; drafts stay Draft.
func orderReleases(releases []governorv1alpha1.Release) releaseOrder {
	type parsed struct {
		rel *governorv1alpha1.Release
		ver *semver.Version
	}
	order := releaseOrder{phases: map[string]governorv1alpha1.ReleasePhase{}, duplicateOf: map[string]string{}}
	var published []parsed
	for i := range releases {
		rel := &releases[i]
		if !rel.DeletionTimestamp.IsZero() {
			continue
		}
		if rel.Spec.State != governorv1alpha1.ReleasePublished {
			order.phases[rel.Name] = governorv1alpha1.PhaseDraft
			continue
		}
		v, err := semver.NewVersion(rel.Spec.Version)
		if err != nil { // refused by the CRD's pattern; kept out defensively
			order.phases[rel.Name] = governorv1alpha1.PhaseFailed
			continue
		}
		published = append(published, parsed{rel, v})
	}
	sort.SliceStable(published, func(i, j int) bool {
		if c := published[i].ver.Compare(published[j].ver); c != 0 {
			return c > 0
		}
		return older(published[i].rel, published[j].rel)
	})
	for i, p := range published {
		switch {
		case i > 0 && p.ver.Equal(published[i-1].ver):
			first := published[i-1].rel.Name
			if d, ok := order.duplicateOf[first]; ok {
				first = d
			}
			order.duplicateOf[p.rel.Name] = first
			order.phases[p.rel.Name] = governorv1alpha1.PhaseFailed
		case order.live == nil:
			order.live = p.rel
			order.phases[p.rel.Name] = governorv1alpha1.PhaseLive
		default:
			order.phases[p.rel.Name] = governorv1alpha1.PhaseSuperseded
		}
	}
	return order
}

// liveReleases lists every app of the releases with its live version, sorted by app.
func liveReleases(releases []governorv1alpha1.Release) []governorv1alpha1.AppReleaseStatus {
	byApp := map[string][]governorv1alpha1.Release{}
	for _, r := range releases {
		byApp[r.Spec.App] = append(byApp[r.Spec.App], r)
	}
	out := make([]governorv1alpha1.AppReleaseStatus, 0, len(byApp))
	for app, rels := range byApp {
		st := governorv1alpha1.AppReleaseStatus{App: app}
		live := orderReleases(rels).live
		if live != nil {
			st.Live = live.Spec.Version
		}
		st.Environments = appEnvironments(rels, live)
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].App < out[j].App })
	if len(out) == 0 {
		return nil
	}
	return out
}

// appEnvironments is an app's live version per environment as its releases
// observed it: the live release's observation, else the first (by name) that
// has one.
func appEnvironments(rels []governorv1alpha1.Release, live *governorv1alpha1.Release) []governorv1alpha1.ReleaseEnvironmentStatus {
	if live != nil && len(live.Status.Environments) > 0 {
		return live.Status.Environments
	}
	var from *governorv1alpha1.Release
	for i := range rels {
		if len(rels[i].Status.Environments) > 0 && (from == nil || rels[i].Name < from.Name) {
			from = &rels[i]
		}
	}
	if from == nil {
		return nil
	}
	return from.Status.Environments
}

// recordTransition emits an event when the Ready condition changes status or
// reason: events mark transitions, not every pass, and an object that is
// simply Ready from its first pass (thousands of them when a Space is loaded)
// gets none.
func recordTransition(rec events.EventRecorder, obj runtime.Object, before, after []metav1.Condition) {
	b := meta.FindStatusCondition(before, governorv1alpha1.ConditionReady)
	a := meta.FindStatusCondition(after, governorv1alpha1.ConditionReady)
	if a == nil || (b != nil && b.Status == a.Status && b.Reason == a.Reason) {
		return
	}
	if b == nil && a.Status == metav1.ConditionTrue {
		return // first reconcile of a healthy object: nothing happened worth an event
	}
	eventType := corev1.EventTypeNormal
	if meta.IsStatusConditionTrue(after, governorv1alpha1.ConditionStalled) {
		eventType = corev1.EventTypeWarning
	}
	rec.Eventf(obj, nil, eventType, a.Reason, "Reconcile", "%s", a.Message)
}

// deletionPredicate passes deletions (which a generation predicate drops).
func deletionPredicate() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return true },
		DeleteFunc:  func(event.DeleteEvent) bool { return true },
		UpdateFunc:  func(e event.UpdateEvent) bool { return !e.ObjectNew.GetDeletionTimestamp().IsZero() },
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}

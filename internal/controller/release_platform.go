package controller

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/Masterminds/semver/v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/gitref"
	"github.com/governor-dev/governor/internal/platform/retool"
)

// platformOutcome is what publishing a release found.
type platformOutcome struct {
	// note is added to the Ready message.
	note string
	// awaitingMerge: the release is created in the platform, its branch not
	// merged into the default branch yet.
	awaitingMerge bool
}

// platform publishes a live, resolved release to the Space's writable
// instance, follows its branch until it is merged, and records, per
// environment with an instance, the app's live version there. It sets the
// Published condition of the release it publishes, and returns why
// publishing failed (stalled or waiting).
func (r *ReleaseReconciler) platform(ctx context.Context, space *governorv1alpha1.Space, rel *governorv1alpha1.Release,
	phase governorv1alpha1.ReleasePhase, resolved bool) (platformOutcome, error) {
	envs := instanceEnvironments(space)
	if r.Connections == nil || len(envs) == 0 {
		rel.Status.Environments, rel.Status.LiveIn = nil, ""
		return platformOutcome{}, nil
	}
	var out platformOutcome
	var err error
	if phase == governorv1alpha1.PhaseLive && rel.Spec.State == governorv1alpha1.ReleasePublished {
		if resolved {
			out, err = r.publish(ctx, space, rel, envs)
		}
	} else if rel.Status.Published == nil {
		meta.RemoveStatusCondition(&rel.Status.Conditions, governorv1alpha1.ConditionPublished)
	}
	r.observe(ctx, space, rel, envs)
	return out, err
}

// platformVersion is a release's version as the platform writes it (x.y.z).
func platformVersion(v string) string { return strings.TrimPrefix(v, "v") }

// setPublished sets the Published condition.
func setPublished(rel *governorv1alpha1.Release, status metav1.ConditionStatus, reason, format string, args ...any) {
	meta.SetStatusCondition(&rel.Status.Conditions, metav1.Condition{Type: governorv1alpha1.ConditionPublished, Status: status,
		Reason: reason, Message: fmt.Sprintf(format, args...), ObservedGeneration: rel.Generation})
}

// publish creates the release in the first writable environment's instance,
// once, and then watches its branch until it is merged: a release the
// instance already has is adopted; an observing Space's (Observe mode) is
// not created; an instance whose live release is newer
// is left alone (the platform releases the app's current state, so an older
// version created now would be mislabelled); a version that is not plain
// X.Y.Z is published nowhere.
func (r *ReleaseReconciler) publish(ctx context.Context, space *governorv1alpha1.Space, rel *governorv1alpha1.Release,
	envs []governorv1alpha1.Environment) (platformOutcome, error) {
	var writable *governorv1alpha1.Environment
	for i := range envs {
		if !envs[i].ReadOnly {
			writable = &envs[i]
			break
		}
	}
	if writable == nil {
		setPublished(rel, metav1.ConditionFalse, "NoWritableEnvironment",
			"the Space has no writable environment with an instance: releases are created in the writable one")
		return platformOutcome{note: "no writable environment: nothing is published to the platform"}, nil
	}
	version := platformVersion(rel.Spec.Version)
	v, err := semver.StrictNewVersion(version)
	if err != nil || v.Prerelease() != "" || v.Metadata() != "" {
		setPublished(rel, metav1.ConditionFalse, "VersionNotReleasable",
			"spec.version %s is not a plain X.Y.Z version, the only versions Retool releases: it is published in no instance "+
				"(Governor's answers make it live all the same); release it as a new Release with an X.Y.Z version", rel.Spec.Version)
		return platformOutcome{note: fmt.Sprintf("published in no instance: %s is not a plain X.Y.Z version", rel.Spec.Version)}, nil
	}
	if rel.Status.Published == nil {
		if p, ok := r.created.Load(rel.UID); ok { // created by an earlier pass whose status write this read predates
			rel.Status.Published = p.(*governorv1alpha1.ReleasePublication).DeepCopy()
		}
	}
	if p := rel.Status.Published; p != nil && p.Environment == writable.Name {
		return r.followMerge(ctx, space, rel)
	}
	conn, err := r.Connections.Connect(ctx, space, *writable)
	if err != nil {
		return platformOutcome{}, platformFailure(writable.Name, err)
	}
	app, err := r.apps.find(ctx, conn, rel.Spec.App)
	if err != nil {
		return platformOutcome{}, platformFailure(writable.Name, err)
	}
	if app == nil {
		return platformOutcome{}, wait("AppNotFound", "app %s is not in the %s instance of Space %s yet: the release is published once it is there",
			rel.Spec.App, writable.Name, space.Name)
	}
	existing, err := conn.Client.ListReleases(ctx, retool.ElementApp, app.ID)
	if err != nil {
		return platformOutcome{}, platformFailure(writable.Name, err)
	}
	for _, e := range existing {
		if e.ReleaseVersion == version {
			rel.Status.Published = &governorv1alpha1.ReleasePublication{Environment: writable.Name, Time: metav1.Now(), Adopted: true}
			setPublished(rel, metav1.ConditionTrue, "Adopted", "the %s instance already had release %s of app %s", writable.Name, version, rel.Spec.App)
			r.Recorder.Eventf(rel, nil, corev1.EventTypeNormal, "Adopted", "Publish",
				"the %s instance already has release %s of app %s: adopted", writable.Name, version, rel.Spec.App)
			return platformOutcome{}, nil
		}
	}
	if live, err := semver.NewVersion(liveVersion(app.ReleaseVersion)); err == nil && live.GreaterThan(v) {
		setPublished(rel, metav1.ConditionFalse, "InstanceNewer",
			"not created in %s, whose live release %s is newer: Retool would release today's app as %s (see docs/releases.md, Rollback)",
			writable.Name, live, version)
		return platformOutcome{note: fmt.Sprintf("not published in %s, whose live release %s is newer (see docs/releases.md, Rollback)", writable.Name, live)}, nil
	}
	if space.Observing() {
		setPublished(rel, metav1.ConditionFalse, governorv1alpha1.ReasonObserving,
			"not created in %s: the Space's spec.platform.mode is Observe, which writes nothing to its instances; switching it to Additive creates release %s of app %s",
			writable.Name, version, rel.Spec.App)
		return platformOutcome{note: fmt.Sprintf("not published in %s: the Space observes its instances (spec.platform.mode Observe)", writable.Name)}, nil
	}
	art, err := conn.Client.CreateRelease(ctx, retool.ElementApp, app.ID, retool.ReleaseCreate{Version: version, Description: rel.Spec.Description,
		CommitMessage: fmt.Sprintf("Release %s %s (Release %s/%s)", rel.Spec.App, version, rel.Namespace, rel.Name)})
	if err != nil {
		return platformOutcome{}, platformFailure(writable.Name, err)
	}
	r.apps.forget(conn.Key)
	rel.Status.Published = &governorv1alpha1.ReleasePublication{Environment: writable.Name, Time: metav1.Now(),
		Branch: art.BranchName, Commit: art.CommitSHA, PullRequestURL: art.URL}
	r.created.Store(rel.UID, rel.Status.Published.DeepCopy())
	r.Recorder.Eventf(rel, nil, corev1.EventTypeNormal, "Published", "Publish",
		"created release %s of app %s in the %s instance: branch %s (commit %s) awaits its merge: %s",
		version, rel.Spec.App, writable.Name, art.BranchName, shortSHA(art.CommitSHA), art.URL)
	return r.followMerge(ctx, space, rel)
}

// followMerge checks, with go-git, whether the commit of a published
// release's branch is on the Space's default branch: the release is released
// once it is, and awaits its merge until then.
func (r *ReleaseReconciler) followMerge(ctx context.Context, space *governorv1alpha1.Space, rel *governorv1alpha1.Release) (platformOutcome, error) {
	p := rel.Status.Published
	if p.Adopted {
		setPublished(rel, metav1.ConditionTrue, "Adopted", "the %s instance already had release %s of app %s",
			p.Environment, platformVersion(rel.Spec.Version), rel.Spec.App)
		return platformOutcome{}, nil
	}
	sc := space.EffectiveSourceControl()
	into := mergeTarget(sc)
	if p.MergedTime != nil || p.Commit == "" { // merged, or published before Governor followed merges
		setPublished(rel, metav1.ConditionTrue, "Merged", "released in %s: branch %s merged into %s", p.Environment, p.Branch, into)
		return platformOutcome{}, nil
	}
	if sc == nil || sc.Repository == "" { // resolve stalls the release first; kept for safety
		return platformOutcome{}, stall("NoSourceControl", "the Space %s has no sourceControl.repository to follow branch %s in", space.Name, p.Branch)
	}
	creds, err := r.credentials(ctx, sc, into)
	if err != nil {
		return platformOutcome{}, err
	}
	merged, err := r.Resolver.Contains(ctx, sc.Repository, creds, into, p.Commit)
	switch {
	case err == nil:
	case gitref.IsAuthError(err):
		return platformOutcome{}, stall("AuthFailed", "following the merge of branch %s: %v; %s", p.Branch, err, credentialsHint(sc, r.Namespace))
	case gitref.IsNotFound(err) || gitref.IsInvalid(err):
		return platformOutcome{}, stall("DefaultBranchNotFound", "following the merge of branch %s: %v: set sourceControl.defaultBranch to the branch pull requests merge into", p.Branch, err)
	default:
		return platformOutcome{}, wait("RepositoryUnreachable", "following the merge of branch %s: %v; retrying", p.Branch, err)
	}
	if !merged {
		setPublished(rel, metav1.ConditionFalse, "AwaitingMerge", "branch %s (commit %s) awaits its merge into %s: %s",
			p.Branch, shortSHA(p.Commit), into, p.PullRequestURL)
		return platformOutcome{awaitingMerge: true}, nil
	}
	now := metav1.Now()
	p.MergedTime = &now
	setPublished(rel, metav1.ConditionTrue, "Merged", "released in %s: branch %s merged into %s", p.Environment, p.Branch, into)
	r.Recorder.Eventf(rel, nil, corev1.EventTypeNormal, "Merged", "Publish",
		"branch %s (commit %s) is merged into %s: %s %s is released", p.Branch, shortSHA(p.Commit), into, rel.Spec.App, platformVersion(rel.Spec.Version))
	return platformOutcome{}, nil
}

// defaultBranch is the branch release branches merge into (the platform's
// source control default branch).
func mergeTarget(sc *governorv1alpha1.SourceControl) string {
	if sc == nil || sc.DefaultBranch == "" {
		return "main"
	}
	return sc.DefaultBranch
}

func shortSHA(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// platformFailure words an instance's failure as a release's condition.
func platformFailure(env string, err error) error {
	reason, isStalled, msg := classifyPlatformError(err)
	if isStalled {
		return stall(reason, "publishing to the %s instance: %s", env, msg)
	}
	return wait(reason, "publishing to the %s instance: %s; retrying", env, msg)
}

// liveVersion is an app's release_version, "" when it has none ("latest").
func liveVersion(v string) string {
	if v == "latest" {
		return ""
	}
	return v
}

// observe records the app's live version in each environment's instance.
func (r *ReleaseReconciler) observe(ctx context.Context, space *governorv1alpha1.Space, rel *governorv1alpha1.Release, envs []governorv1alpha1.Environment) {
	out := make([]governorv1alpha1.ReleaseEnvironmentStatus, 0, len(envs))
	var liveIn []string
	for _, env := range envs {
		st := governorv1alpha1.ReleaseEnvironmentStatus{Name: env.Name}
		conn, err := r.Connections.Connect(ctx, space, env)
		var app *retool.App
		if err == nil {
			app, err = r.apps.find(ctx, conn, rel.Spec.App)
		}
		switch {
		case err != nil:
			_, _, st.Message = classifyPlatformError(err)
		case app == nil:
			st.Message = fmt.Sprintf("app %s is not in this instance", rel.Spec.App)
		default:
			st.LiveVersion = liveVersion(app.ReleaseVersion)
		}
		if st.LiveVersion != "" && st.LiveVersion == platformVersion(rel.Spec.Version) {
			liveIn = append(liveIn, env.Name)
		}
		out = append(out, st)
	}
	rel.Status.Environments, rel.Status.LiveIn = out, strings.Join(liveIn, ",")
}

// appsCache keeps each connection's app list (GET /apps) briefly, so that
// the releases of a Space cost one listing per instance and period.
type appsCache struct {
	ttl time.Duration

	mu      sync.Mutex
	entries map[string]*appsEntry // connection key
}

type appsEntry struct {
	client  *retool.Client
	expires time.Time
	done    chan struct{} // closed once apps and err are set
	apps    []retool.App
	err     error
}

// find returns the app named name in the connection's instance (nil when
// there is none); concurrent callers share one listing.
func (c *appsCache) find(ctx context.Context, conn *Connection, name string) (*retool.App, error) {
	c.mu.Lock()
	if c.entries == nil {
		c.entries = map[string]*appsEntry{}
	}
	e := c.entries[conn.Key]
	fresh := e != nil && e.client == conn.Client && time.Now().Before(e.expires)
	if !fresh {
		e = &appsEntry{client: conn.Client, expires: time.Now().Add(c.ttl), done: make(chan struct{})}
		c.entries[conn.Key] = e
		c.mu.Unlock()
		e.apps, e.err = conn.Client.ListApps(ctx)
		close(e.done)
	} else {
		c.mu.Unlock()
		select {
		case <-e.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if e.err != nil {
		return nil, e.err
	}
	for i := range e.apps {
		if e.apps[i].Name == name {
			return &e.apps[i], nil
		}
	}
	return nil, nil
}

// forget drops a connection's listing (after a write changed it).
func (c *appsCache) forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, key)
}

package controller

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/Masterminds/semver/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/platform/retool"
)

// platform publishes a live, resolved release to the Space's writable
// instance and records, per environment with an instance, the app's live
// version there. It returns a note for the Ready message, or why publishing
// failed (stalled or waiting).
func (r *ReleaseReconciler) platform(ctx context.Context, space *governorv1alpha1.Space, rel *governorv1alpha1.Release,
	phase governorv1alpha1.ReleasePhase, resolved bool) (string, error) {
	envs := instanceEnvironments(space)
	if r.Connections == nil || len(envs) == 0 {
		rel.Status.Environments, rel.Status.LiveIn = nil, ""
		return "", nil
	}
	var note string
	var err error
	if resolved && phase == governorv1alpha1.PhaseLive && rel.Spec.State == governorv1alpha1.ReleasePublished {
		note, err = r.publish(ctx, space, rel, envs)
	}
	r.observe(ctx, space, rel, envs)
	return note, err
}

// platformVersion is a release's version as the platform writes it (x.y.z).
func platformVersion(v string) string { return strings.TrimPrefix(v, "v") }

// publish creates the release in the first writable environment's instance,
// once: a release the instance already has is adopted; an instance whose
// live release is newer is left alone (the platform releases the app's
// current state, so an older version created now would be mislabelled).
func (r *ReleaseReconciler) publish(ctx context.Context, space *governorv1alpha1.Space, rel *governorv1alpha1.Release,
	envs []governorv1alpha1.Environment) (string, error) {
	var writable *governorv1alpha1.Environment
	for i := range envs {
		if !envs[i].ReadOnly {
			writable = &envs[i]
			break
		}
	}
	if writable == nil {
		return "no writable environment: nothing is published to the platform", nil
	}
	if p := rel.Status.Published; p != nil && p.Environment == writable.Name {
		return "", nil
	}
	version := platformVersion(rel.Spec.Version)
	v, err := semver.StrictNewVersion(version)
	if err != nil || v.Prerelease() != "" || v.Metadata() != "" {
		return "", stall("VersionNotReleasable",
			"spec.version: %s is live in Governor's answers but cannot be released in the platform, which takes x.y.z versions only", rel.Spec.Version)
	}
	conn, err := r.Connections.Connect(ctx, space, *writable)
	if err != nil {
		return "", platformFailure(writable.Name, err)
	}
	app, err := r.apps.find(ctx, conn, rel.Spec.App)
	if err != nil {
		return "", platformFailure(writable.Name, err)
	}
	if app == nil {
		return "", wait("AppNotFound", "app %s is not in the %s instance of Space %s yet: the release is published once it is there",
			rel.Spec.App, writable.Name, space.Name)
	}
	existing, err := conn.Client.ListAppReleases(ctx, app.ID)
	if err != nil {
		return "", platformFailure(writable.Name, err)
	}
	for _, e := range existing {
		if e.ReleaseVersion == version {
			rel.Status.Published = &governorv1alpha1.ReleasePublication{Environment: writable.Name, Time: metav1.Now(), Adopted: true}
			r.Recorder.Eventf(rel, nil, corev1.EventTypeNormal, "Adopted", "Publish",
				"the %s instance already has release %s of app %s: adopted", writable.Name, version, rel.Spec.App)
			return "", nil
		}
	}
	if live, err := semver.NewVersion(liveVersion(app.ReleaseVersion)); err == nil && live.GreaterThan(v) {
		return fmt.Sprintf("not published in %s, whose live release %s is newer (see docs/releases.md, Rollback)", writable.Name, live), nil
	}
	art, err := conn.Client.CreateAppRelease(ctx, app.ID, version, rel.Spec.Description)
	if err != nil {
		return "", platformFailure(writable.Name, err)
	}
	r.apps.forget(conn.Key)
	rel.Status.Published = &governorv1alpha1.ReleasePublication{Environment: writable.Name, Time: metav1.Now(), Branch: art.BranchName}
	r.Recorder.Eventf(rel, nil, corev1.EventTypeNormal, "Published", "Publish",
		"created release %s of app %s in the %s instance (branch %s)", version, rel.Spec.App, writable.Name, art.BranchName)
	return "", nil
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

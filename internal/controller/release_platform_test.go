package controller_test

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/gitref"
	"github.com/governor-dev/governor/internal/gitref/gitserver"
	"github.com/governor-dev/governor/internal/platform/emulator"
	"github.com/governor-dev/governor/internal/platform/retool"
)

// releaseTimeout covers a few resyncs and an instance's retries.
const releaseTimeout = 40 * time.Second

// gitRepo is a repository made in the test, served over smart HTTP.
type gitRepo struct {
	t    *testing.T
	dir  string
	repo *git.Repository
	n    int
	// url is the repository's http:// URL (basic auth when the server has a user).
	url string
	// base is the server's URL: an emulated instance's GitBaseURL.
	base  string
	token string
}

// merge merges a branch into main, as a person merging its pull request.
func (r *gitRepo) merge(branch string) {
	r.t.Helper()
	var creds gitref.Credentials
	if r.token != "" {
		var err error
		if creds, err = gitref.CredentialsFromSecret(map[string][]byte{gitref.KeyToken: []byte(r.token)}); err != nil {
			r.t.Fatal(err)
		}
	}
	if _, err := gitref.MergeBranch(ctx(), r.url, creds, branch, "main", gitref.Signature{Name: "Reviewer", Email: "reviewer@example.invalid"}); err != nil {
		r.t.Fatal(err)
	}
}

// newGitRepo makes a repository with one commit on main and serves it,
// taking pushes (an emulated instance's release branches, a test's merge);
// with a token, it takes basic auth as x-access-token.
func newGitRepo(t *testing.T, token string) *gitRepo {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "apps")
	repo, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")}})
	if err != nil {
		t.Fatal(err)
	}
	opts := gitserver.Options{Repositories: map[string]string{"/acme/apps.git": dir}, Push: true}
	if token != "" {
		opts.Username, opts.Password = "x-access-token", token
	}
	ts := httptest.NewServer(gitserver.New(opts))
	t.Cleanup(ts.Close)
	r := &gitRepo{t: t, dir: dir, repo: repo, url: ts.URL + "/acme/apps.git", base: ts.URL, token: token}
	r.commit("first")
	return r
}

// commit commits a change on the checked-out branch (main) and returns its sha.
func (r *gitRepo) commit(msg string) string {
	r.t.Helper()
	r.n++
	wt, err := r.repo.Worktree()
	if err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.dir, "app.json"), []byte(`{"msg": "`+msg+`"}`), 0o644); err != nil {
		r.t.Fatal(err)
	}
	if _, err := wt.Add("app.json"); err != nil {
		r.t.Fatal(err)
	}
	h, err := wt.Commit(msg, &git.CommitOptions{Author: &object.Signature{Name: "Test", Email: "test@example.invalid",
		When: time.Date(2026, 2, 1, 0, r.n, 0, 0, time.UTC)}})
	if err != nil {
		r.t.Fatal(err)
	}
	return h.String()
}

// tag makes (or moves) an annotated tag.
func (r *gitRepo) tag(name, commit string) {
	r.t.Helper()
	_ = r.repo.DeleteTag(name)
	sig := &object.Signature{Name: "Test", Email: "test@example.invalid", When: time.Date(2026, 2, 2, 0, r.n, 0, 0, time.UTC)}
	if _, err := r.repo.CreateTag(name, plumbing.NewHash(commit), &git.CreateTagOptions{Tagger: sig, Message: "release " + name}); err != nil {
		r.t.Fatal(err)
	}
}

// gitSecret stores a credentials Secret in Governor's namespace: the git
// token and, for the platform's source control configuration, Retool's keys.
func gitSecret(t *testing.T, name, token string) {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: governorNamespace},
		StringData: map[string]string{"token": token, "type": "Personal", "personal_access_token": token}}
	create(t, s)
	t.Cleanup(func() { _ = env.Client.Delete(ctx(), s) })
}

func sourceControl(repo, secret string) *governorv1alpha1.SourceControl {
	sc := &governorv1alpha1.SourceControl{Provider: "GitHub", Repository: repo, DefaultBranch: "main"}
	if secret != "" {
		sc.CredentialsSecretRef = &governorv1alpha1.LocalObjectReference{Name: secret}
	}
	return sc
}

func refRelease(ns, name, version, ref string, state governorv1alpha1.ReleaseState) *governorv1alpha1.Release {
	r := release(ns, name, "payouts", version, state)
	r.Spec.Ref = ref
	return r
}

func getRelease(g Gomega, r *governorv1alpha1.Release) *governorv1alpha1.Release {
	g.Expect(env.Client.Get(ctx(), client.ObjectKeyFromObject(r), r)).To(Succeed())
	return r
}

// eventuallyCommit waits until a release names commit, Ready.
func eventuallyCommit(t *testing.T, r *governorv1alpha1.Release, commit string) {
	t.Helper()
	NewWithT(t).Eventually(func(g Gomega) {
		g.Expect(getRelease(g, r).Status.Commit).To(Equal(commit))
		g.Expect(r.Status.ShortCommit).To(Equal(commit[:7]))
		c := condition(g, r, governorv1alpha1.ConditionReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue), c.Message)
	}, releaseTimeout, interval).Should(Succeed())
}

func TestReleaseRefsResolveAgainstTheSpacesRepository(t *testing.T) {
	g := NewWithT(t)
	repo := newGitRepo(t, "s3cret")
	c1 := repo.commit("1.0.0")
	repo.tag("v1.0.0", c1)
	main := repo.commit("work in progress")
	gitSecret(t, "release-refs-git", "s3cret")

	// The hub holds the repository; the team's Space inherits it.
	hub := newSpace("release-refs-hub")
	hub.Spec.SourceControl = sourceControl(repo.url, "release-refs-git")
	team := newSpace("release-refs")
	team.Spec.InheritFrom = hub.Name
	create(t, hub, team)
	eventuallyReady(t, team)

	const ns = "release-refs"
	tag := refRelease(ns, "by-tag", "1.0.0", "v1.0.0", governorv1alpha1.ReleasePublished)
	branch := refRelease(ns, "by-branch", "1.1.0-dev", "main", governorv1alpha1.ReleaseDraft)
	sha := refRelease(ns, "by-sha", "0.9.0", c1, governorv1alpha1.ReleasePublished)
	missing := refRelease(ns, "missing", "0.1.0", "v0.1.0", governorv1alpha1.ReleasePublished)
	create(t, tag, branch, sha, missing)
	eventuallyCommit(t, tag, c1)
	eventuallyCommit(t, branch, main)
	eventuallyCommit(t, sha, c1)
	g.Expect(tag.Status.ResolvedRef).To(Equal("refs/tags/v1.0.0"))
	g.Expect(branch.Status.ResolvedRef).To(Equal("refs/heads/main"))
	g.Expect(sha.Status.ResolvedRef).To(Equal(c1))

	msg := eventuallyStalled(t, missing, "RefNotFound")
	g.Expect(msg).To(ContainSubstring(`"v0.1.0"`))
	g.Expect(msg).To(ContainSubstring(repo.url))
	g.Expect(getRelease(g, missing).Status.Commit).To(BeEmpty())
	g.Expect(missing.Status.Phase).To(Equal(governorv1alpha1.PhaseSuperseded), "Governor's answers still order it")

	// The branch moves: the next resync reports the new commit and an event.
	moved := repo.commit("more work")
	eventuallyCommit(t, branch, moved)
	g.Eventually(func(g Gomega) {
		g.Expect(eventReasons(g, ns, branch.Name)).To(ContainElement("BranchMoved"))
	}, timeout, interval).Should(Succeed())

	// The tag is moved: a warning condition, the release names the new commit.
	repo.tag("v1.0.0", moved)
	eventuallyCommit(t, tag, moved)
	c := condition(g, tag, governorv1alpha1.ConditionTagMoved)
	g.Expect(c).NotTo(BeNil())
	g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
	g.Expect(c.Message).To(ContainSubstring(c1))
	g.Expect(c.Message).To(ContainSubstring(moved))

	// The missing tag is pushed: the release resolves it without being touched.
	repo.tag("v0.1.0", c1)
	eventuallyCommit(t, missing, c1)
}

// eventuallyNamespace waits until a Space's namespace exists.
func eventuallyNamespace(t *testing.T, name string) {
	t.Helper()
	NewWithT(t).Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(ctx(), client.ObjectKey{Name: name}, &corev1.Namespace{})).To(Succeed())
	}, timeout, interval).Should(Succeed())
}

// eventReasons lists the reasons of the events about a namespace's object.
func eventReasons(g Gomega, ns, name string) []string {
	var list corev1.EventList
	g.Expect(env.Client.List(ctx(), &list, client.InNamespace(ns))).To(Succeed())
	var out []string
	for _, e := range list.Items {
		if e.InvolvedObject.Name == name {
			out = append(out, e.Reason)
		}
	}
	return out
}

func TestReleaseCredentialsAndReachability(t *testing.T) {
	g := NewWithT(t)
	repo := newGitRepo(t, "t0ken")
	c1 := repo.commit("1.0.0")
	repo.tag("v1.0.0", c1)

	noSecret := newSpace("release-creds")
	noSecret.Spec.SourceControl = sourceControl(repo.url, "release-creds-git")
	down := newSpace("release-down")
	down.Spec.SourceControl = sourceControl("http://127.0.0.1:1/acme/apps.git", "")
	noSource := newSpace("release-nosource")
	create(t, noSecret, down, noSource)
	for _, s := range []*governorv1alpha1.Space{noSecret, down, noSource} {
		eventuallyNamespace(t, s.Name)
	}

	a := refRelease("release-creds", "payouts-1-0-0", "1.0.0", "v1.0.0", governorv1alpha1.ReleasePublished)
	b := refRelease("release-down", "payouts-1-0-0", "1.0.0", "v1.0.0", governorv1alpha1.ReleasePublished)
	c := refRelease("release-nosource", "payouts-1-0-0", "1.0.0", "v1.0.0", governorv1alpha1.ReleasePublished)
	create(t, a, b, c)

	msg := eventuallyStalled(t, a, "CredentialsNotFound")
	for _, want := range []string{`"v1.0.0"`, repo.url, governorNamespace + "/release-creds-git"} {
		g.Expect(msg).To(ContainSubstring(want))
	}
	msg = eventuallyStalled(t, c, "NoSourceControl")
	g.Expect(msg).To(ContainSubstring("release-nosource"))
	g.Eventually(func(g Gomega) {
		r := condition(g, b, governorv1alpha1.ConditionReconciling)
		g.Expect(r).NotTo(BeNil())
		g.Expect(r.Reason).To(Equal("RepositoryUnreachable"))
		g.Expect(r.Message).To(ContainSubstring("127.0.0.1:1"))
	}, releaseTimeout, interval).Should(Succeed())

	// A wrong token is refused; the right one resolves (the Secret's change
	// is enough: the release is not touched).
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "release-creds-git", Namespace: governorNamespace},
		StringData: map[string]string{"token": "wrong"}}
	create(t, s)
	t.Cleanup(func() { _ = env.Client.Delete(ctx(), s) })
	msg = eventuallyStalled(t, a, "AuthFailed")
	g.Expect(msg).To(ContainSubstring(repo.url))
	g.Expect(msg).To(ContainSubstring(governorNamespace + "/release-creds-git"))
	s.StringData = map[string]string{"token": "t0ken"}
	g.Expect(env.Client.Update(ctx(), s)).To(Succeed())
	eventuallyCommit(t, a, c1)
	// Other Spaces' releases were never held up.
	g.Expect(condition(g, b, governorv1alpha1.ConditionReconciling)).NotTo(BeNil())
}

// releaseInstance is an emulated instance whose admin Space is a test
// Space's, with its token stored in Governor's namespace.
type releaseInstance struct {
	srv    *emulator.Server
	url    string
	secret string
}

func newReleaseInstance(t *testing.T, secret, gitBase string) *releaseInstance {
	t.Helper()
	srv := emulator.New(emulator.Options{Domain: strings.ToLower(secret) + ".retool.localhost", GitBaseURL: gitBase, RequestsPerMinute: -1})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: secret, Namespace: governorNamespace},
		StringData: map[string]string{"token": srv.Space("").Token()}}
	create(t, s)
	t.Cleanup(func() { _ = env.Client.Delete(ctx(), s) })
	return &releaseInstance{srv: srv, url: ts.URL, secret: secret}
}

func (i *releaseInstance) env(name string, readOnly bool) governorv1alpha1.Environment {
	e := governorv1alpha1.Environment{Name: name, ReadOnly: readOnly, Instance: &governorv1alpha1.Instance{
		URL: i.url, Domain: i.srv.Space("").Domain(), TokenSecretRef: governorv1alpha1.SecretKeyReference{Name: i.secret, Key: "token"}}}
	if readOnly {
		e.Branch = "main"
	}
	return e
}

// client is a client of the instance outside Governor's budget.
func (i *releaseInstance) client(t *testing.T) *retool.Client {
	t.Helper()
	c, err := retool.New(retool.Options{URL: i.url, Domain: i.srv.Space("").Domain(), Token: i.srv.Space("").Token(), RequestsPerMinute: -1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// releasePosts counts the releases created in the instance.
func (i *releaseInstance) releasePosts() int {
	return i.srv.Stats().Requests["POST /api/v2/source_control/releases/{elementUuid}"]
}

func liveIn(g Gomega, r *governorv1alpha1.Release) string {
	return getRelease(g, r).Status.LiveIn
}

func TestReleasesArePublishedOnceMergedAndReportWhereTheyAreLive(t *testing.T) {
	g := NewWithT(t)
	repo := newGitRepo(t, "pub-token")
	for _, v := range []string{"1.0.0", "1.1.0", "2.0.0"} {
		repo.tag("v"+v, repo.commit(v))
	}
	gitSecret(t, "release-pub-git", "pub-token")
	dev, prod := newReleaseInstance(t, "release-pub-dev", repo.base), newReleaseInstance(t, "release-pub-prod", "")
	space := newSpace("release-pub")
	space.Spec.SourceControl = sourceControl(repo.url, "release-pub-git")
	space.Spec.Environments = []governorv1alpha1.Environment{dev.env("rel-dev", false), prod.env("rel-prod", true)}
	create(t, space)
	eventuallyNamespace(t, space.Name)

	const ns = "release-pub"
	v100 := refRelease(ns, "payouts-1-0-0", "1.0.0", "v1.0.0", governorv1alpha1.ReleasePublished)
	v110 := refRelease(ns, "payouts-1-1-0", "1.1.0", "v1.1.0", governorv1alpha1.ReleasePublished)
	draft := refRelease(ns, "payouts-1-2-0", "1.2.0", "main", governorv1alpha1.ReleaseDraft)
	create(t, v100, v110, draft)

	// The app is not in the writable instance yet: pending, named.
	g.Eventually(func(g Gomega) {
		c := condition(g, v110, governorv1alpha1.ConditionReconciling)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Reason).To(Equal("AppNotFound"))
		g.Expect(c.Message).To(ContainSubstring("app payouts is not in the rel-dev instance"))
	}, releaseTimeout, interval).Should(Succeed())
	g.Expect(dev.releasePosts()).To(BeZero())

	// The app appears: the live release is created there once (a branch
	// pushed to the Space's repository); the superseded one and the draft are
	// not. Until the branch is merged, the release awaits it.
	_, err := dev.srv.Space("").AddApp("payouts", "")
	g.Expect(err).NotTo(HaveOccurred())
	_, err = prod.srv.Space("").AddApp("payouts", "")
	g.Expect(err).NotTo(HaveOccurred())
	const branch = "release/payouts/1.1.0"
	g.Eventually(func(g Gomega) {
		p := getRelease(g, v110).Status.Published
		g.Expect(p).NotTo(BeNil())
		g.Expect(v110.Status.Phase).To(Equal(governorv1alpha1.PhaseAwaitingMerge))
		g.Expect(p.Environment).To(Equal("rel-dev"))
		g.Expect(p.Adopted).To(BeFalse())
		g.Expect(p.Branch).To(Equal(branch))
		g.Expect(p.PullRequestURL).To(Equal("https://github.com/acme/apps/compare/main...release/payouts/1.1.0?expand=1"))
		g.Expect(p.MergedTime).To(BeNil())
		c := condition(g, v110, governorv1alpha1.ConditionReconciling)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Reason).To(Equal("AwaitingMerge"))
		g.Expect(c.Message).To(ContainSubstring(branch))
		g.Expect(c.Message).To(ContainSubstring(p.PullRequestURL))
		pub := condition(g, v110, governorv1alpha1.ConditionPublished)
		g.Expect(pub).NotTo(BeNil())
		g.Expect(pub.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(pub.Reason).To(Equal("AwaitingMerge"))
		g.Expect(v110.Status.LiveIn).To(BeEmpty(), "not released anywhere before the merge")
	}, releaseTimeout, interval).Should(Succeed())
	tip, err := gitref.NewResolver(gitref.Options{CacheTTL: -1}).Resolve(ctx(), repo.url, repoCreds(t, "pub-token"), branch)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(getRelease(g, v110).Status.Published.Commit).To(Equal(tip.Commit), "status names the branch's commit")
	g.Expect(phaseOf(g, v100)).To(Equal(governorv1alpha1.PhaseSuperseded))

	// The pull request is merged: the release is live in the writable instance.
	repo.merge(branch)
	eventuallyReady(t, v110)
	g.Eventually(func(g Gomega) {
		r := getRelease(g, v110)
		g.Expect(r.Status.Phase).To(Equal(governorv1alpha1.PhaseLive))
		g.Expect(r.Status.Published.MergedTime).NotTo(BeNil())
		pub := condition(g, r, governorv1alpha1.ConditionPublished)
		g.Expect(pub.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(pub.Reason).To(Equal("Merged"))
		g.Expect(r.Status.LiveIn).To(Equal("rel-dev"))
		g.Expect(r.Status.Environments).To(Equal([]governorv1alpha1.ReleaseEnvironmentStatus{
			{Name: "rel-dev", LiveVersion: "1.1.0"}, {Name: "rel-prod"}}))
		g.Expect(eventReasons(g, ns, v110.Name)).To(ContainElements("Published", "Merged"))
	}, releaseTimeout, interval).Should(Succeed())

	// Production pulls its branch: the release is live there too, in the
	// Release's and the Space's status.
	prod.srv.Space("").Deploy("payouts", "1.1.0")
	g.Eventually(func(g Gomega) {
		g.Expect(liveIn(g, v110)).To(Equal("rel-dev,rel-prod"))
		g.Expect(env.Client.Get(ctx(), client.ObjectKeyFromObject(space), space)).To(Succeed())
		g.Expect(space.Status.Releases).To(ContainElement(governorv1alpha1.AppReleaseStatus{App: "payouts", Live: "1.1.0",
			Environments: []governorv1alpha1.ReleaseEnvironmentStatus{{Name: "rel-dev", LiveVersion: "1.1.0"}, {Name: "rel-prod", LiveVersion: "1.1.0"}}}))
	}, releaseTimeout, interval).Should(Succeed())
	g.Expect(liveIn(g, v100)).To(BeEmpty())

	// Resyncs go by: still one release created, none of the draft.
	time.Sleep(3 * platformOptions.Resync)
	g.Expect(dev.releasePosts()).To(Equal(1))
	rels, err := dev.client(t).ListReleases(ctx(), retool.ElementApp, appID(t, dev, "payouts"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(rels).To(HaveLen(1))
	g.Expect(rels[0].ReleaseVersion).To(Equal("1.1.0"))

	// A release the instance already has is adopted, not duplicated.
	art, err := dev.client(t).CreateRelease(ctx(), retool.ElementApp, appID(t, dev, "payouts"), retool.ReleaseCreate{Version: "2.0.0", Description: "made in the instance"})
	g.Expect(err).NotTo(HaveOccurred())
	repo.merge(art.BranchName)
	dev.srv.ResetStats()
	v200 := refRelease(ns, "payouts-2-0-0", "2.0.0", "v2.0.0", governorv1alpha1.ReleasePublished)
	create(t, v200)
	g.Eventually(func(g Gomega) {
		p := getRelease(g, v200).Status.Published
		g.Expect(p).NotTo(BeNil())
		g.Expect(p.Adopted).To(BeTrue())
		g.Expect(v200.Status.Phase).To(Equal(governorv1alpha1.PhaseLive))
		g.Expect(liveIn(g, v200)).To(Equal("rel-dev"))
	}, releaseTimeout, interval).Should(Succeed())
	g.Expect(dev.releasePosts()).To(BeZero())

	// Rollback: 2.0.0 deleted and 1.1.0 back to Draft make 1.0.0 the live
	// release in Governor's answers; the instance keeps what it released (the
	// release artifacts are in git), and nothing older is created over it.
	g.Expect(env.Client.Delete(ctx(), v200)).To(Succeed())
	patch := client.MergeFrom(getRelease(g, v110).DeepCopy())
	v110.Spec.State = governorv1alpha1.ReleaseDraft
	g.Expect(env.Client.Patch(ctx(), v110, patch)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(phaseOf(g, v100)).To(Equal(governorv1alpha1.PhaseLive))
		g.Expect(phaseOf(g, v110)).To(Equal(governorv1alpha1.PhaseDraft))
		g.Expect(env.Client.Get(ctx(), client.ObjectKeyFromObject(space), space)).To(Succeed())
		g.Expect(space.Status.Releases).To(ConsistOf(governorv1alpha1.AppReleaseStatus{App: "payouts", Live: "1.0.0",
			Environments: []governorv1alpha1.ReleaseEnvironmentStatus{{Name: "rel-dev", LiveVersion: "2.0.0"}, {Name: "rel-prod", LiveVersion: "1.1.0"}}}))
		c := condition(g, v100, governorv1alpha1.ConditionReady)
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(c.Message).To(ContainSubstring("not published in rel-dev, whose live release 2.0.0 is newer"))
		pub := condition(g, v100, governorv1alpha1.ConditionPublished)
		g.Expect(pub).NotTo(BeNil())
		g.Expect(pub.Reason).To(Equal("InstanceNewer"))
	}, releaseTimeout, interval).Should(Succeed())
	g.Expect(getRelease(g, v100).Status.Published).To(BeNil())
	g.Expect(dev.releasePosts()).To(BeZero())

	// A pre-release made the live one is published nowhere, and says so.
	rc := refRelease(ns, "payouts-3-0-0-rc-1", "3.0.0-rc.1", "main", governorv1alpha1.ReleasePublished)
	create(t, rc)
	g.Eventually(func(g Gomega) {
		g.Expect(phaseOf(g, rc)).To(Equal(governorv1alpha1.PhaseLive))
		pub := condition(g, rc, governorv1alpha1.ConditionPublished)
		g.Expect(pub).NotTo(BeNil())
		g.Expect(pub.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(pub.Reason).To(Equal("VersionNotReleasable"))
		g.Expect(pub.Message).To(ContainSubstring("3.0.0-rc.1 is not a plain X.Y.Z version"))
		c := condition(g, rc, governorv1alpha1.ConditionReady)
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue), "Governor's answers make it live")
		g.Expect(c.Message).To(ContainSubstring("published in no instance"))
		g.Expect(condition(g, rc, governorv1alpha1.ConditionStalled)).To(BeNil())
	}, releaseTimeout, interval).Should(Succeed())
	time.Sleep(2 * platformOptions.Resync)
	g.Expect(dev.releasePosts()).To(BeZero())
	g.Expect(getRelease(g, rc).Status.Published).To(BeNil())
}

func repoCreds(t *testing.T, token string) gitref.Credentials {
	t.Helper()
	c, err := gitref.CredentialsFromSecret(map[string][]byte{gitref.KeyToken: []byte(token)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func appID(t *testing.T, i *releaseInstance, name string) string {
	t.Helper()
	apps, err := i.client(t).ListApps(ctx())
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range apps {
		if a.Name == name {
			return a.ID
		}
	}
	t.Fatalf("no app %s", name)
	return ""
}

// TestReleasesWaitWhileTheSpaceObserves: a Space in Observe mode creates no
// release in its instance (nor writes anything else there); the Published
// condition says why. Switched to Additive, the release is created.
func TestReleasesWaitWhileTheSpaceObserves(t *testing.T) {
	g := NewWithT(t)
	repo := newGitRepo(t, "obs-token")
	repo.tag("v1.0.0", repo.commit("1.0.0"))
	gitSecret(t, "release-obs-git", "obs-token")
	dev := newReleaseInstance(t, "release-obs-dev", repo.base)
	_, err := dev.srv.Space("").AddApp("payouts", "")
	g.Expect(err).NotTo(HaveOccurred())
	space := newSpace("release-obs")
	space.Spec.SourceControl = sourceControl(repo.url, "release-obs-git")
	space.Spec.Environments = []governorv1alpha1.Environment{dev.env("obs-dev", false)}
	space.Spec.Platform = &governorv1alpha1.Platform{Mode: governorv1alpha1.PlatformObserve}
	create(t, space)
	eventuallyNamespace(t, space.Name)
	dev.srv.ResetStats()

	v100 := refRelease("release-obs", "payouts-1-0-0", "1.0.0", "v1.0.0", governorv1alpha1.ReleasePublished)
	create(t, v100)
	g.Eventually(func(g Gomega) {
		pub := condition(g, v100, governorv1alpha1.ConditionPublished)
		g.Expect(pub).NotTo(BeNil())
		g.Expect(pub.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(pub.Reason).To(Equal(governorv1alpha1.ReasonObserving))
		g.Expect(pub.Message).To(ContainSubstring("not created in obs-dev: the Space's spec.platform.mode is Observe"))
		g.Expect(phaseOf(g, v100)).To(Equal(governorv1alpha1.PhaseLive), "Governor's answers make it live all the same")
	}, releaseTimeout, interval).Should(Succeed())
	time.Sleep(2 * platformOptions.Resync)
	st := dev.srv.Stats()
	g.Expect(st.Writes()).To(BeZero(), "an observing Space writes nothing: %v", st.Requests)
	g.Expect(getRelease(g, v100).Status.Published).To(BeNil())

	g.Expect(env.Client.Patch(ctx(), space, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"platform":{"mode":"Additive"}}}`)))).To(Succeed())
	g.Eventually(func(g Gomega) {
		p := getRelease(g, v100).Status.Published
		g.Expect(p).NotTo(BeNil())
		g.Expect(p.Branch).To(Equal("release/payouts/1.0.0"))
	}, releaseTimeout, interval).Should(Succeed())
	// (A create may be refused until the sync configured the instance's
	// source control: releases made, not requests, are counted.)
	repo.merge("release/payouts/1.0.0")
	g.Eventually(func(g Gomega) {
		g.Expect(condition(g, v100, governorv1alpha1.ConditionPublished).Reason).To(Equal("Merged"))
		rels, err := dev.client(t).ListReleases(ctx(), retool.ElementApp, appID(t, dev, "payouts"))
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(rels).To(HaveLen(1))
	}, releaseTimeout, interval).Should(Succeed())
}

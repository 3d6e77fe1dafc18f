package controller_test

import (
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/platform/emulator"
	"github.com/governor-dev/governor/internal/platform/retool"
	"github.com/governor-dev/governor/internal/platform/syncer"
	"github.com/governor-dev/governor/internal/spacemodel"
)

// TestPlatformSamplesVerify is the tour's promise: config/samples synced
// into emulated instances that behave as the recorded one (All Users with
// edit and own, folder grants reaching direct contents only), with apps and
// workflows in sub-folders of the folders the rules grant, and every user's
// level in every instance of every Space equals the model's (syncer.Verify,
// what `governor platform verify` runs).
func TestPlatformSamplesVerify(t *testing.T) {
	g := NewWithT(t)
	objs, err := spacemodel.LoadManifests(filepath.Join("..", "..", "config", "samples"))
	g.Expect(err).NotTo(HaveOccurred())
	envs := []string{"development", "staging", "production"}
	instances := map[string]*instance{}
	for _, e := range envs {
		instances[e] = newInstance(t, emulator.Options{Domain: "hub." + e + ".retool.localhost"})
		tokenSecret(t, "retool-"+e+"-hub", instances[e].srv.Space("").Token())
		// The hub is an existing instance: people use it.
		hub := instances[e].srv.Space("")
		hub.AddUser("ops@example.com")
		_, err := hub.AddApp("status-page", "platform/tools")
		g.Expect(err).NotTo(HaveOccurred())
	}
	// The hub's identity provider's Secret, as governor dev makes it.
	for _, sp := range objs.Spaces {
		if sp.Spec.SSO == nil || sp.Spec.SSO.Provider == nil {
			continue
		}
		sso := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: sp.Spec.SSO.Provider.SecretRef.Name, Namespace: governorNamespace},
			StringData: map[string]string{governorv1alpha1.SSOSecretOIDCClientSecret: "samples-client-secret"}}
		create(t, sso)
		t.Cleanup(func() { _ = env.Client.Delete(ctx(), sso) })
	}
	for _, name := range []string{"payments", "hub"} { // 00-namespace.yaml
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
		create(t, ns)
		t.Cleanup(func() { _ = env.Client.Delete(ctx(), ns) })
	}
	spaces := map[string]*governorv1alpha1.Space{}
	for i := range objs.Spaces {
		s := objs.Spaces[i].DeepCopy()
		for j := range s.Spec.Environments {
			e := &s.Spec.Environments[j]
			e.Instance.URL = instances[e.Name].ts.URL // the samples' fixed ports are governor dev's
		}
		create(t, s)
		t.Cleanup(func() { _ = env.Client.Delete(ctx(), s) })
		spaces[s.Name] = s
	}
	for i := range objs.Groups {
		create(t, objs.Groups[i].DeepCopy())
	}
	for i := range objs.Rules {
		create(t, objs.Rules[i].DeepCopy())
	}

	// What governor dev's people do once the hub created payments in an
	// instance: sign in, add apps (some in sub-folders of the granted
	// folders), a workflow and resources, and store the Space's token.
	for _, e := range envs {
		var sp *emulator.Space
		g.Eventually(func() *emulator.Space {
			sp = instances[e].srv.Space("payments." + e + ".retool.localhost")
			return sp
		}, platformTimeout, interval).ShouldNot(BeNil(), "the hub creates payments in the %s instance", e)
		for _, u := range []string{"alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com", "erin@example.com"} {
			sp.AddUser(u)
		}
		for name, folder := range map[string]string{"payouts": "", "ledger": "finance/reports", "statements": "finance/reports/monthly"} {
			_, err := sp.AddApp(name, folder)
			g.Expect(err).NotTo(HaveOccurred())
		}
		_, err := sp.AddWorkflow("nightly-close", "oncall/runbooks/nightly")
		g.Expect(err).NotTo(HaveOccurred())
		for _, r := range []string{"ledger-db", "pagerduty-api"} {
			_, err := sp.AddResource(r, "")
			g.Expect(err).NotTo(HaveOccurred())
		}
		tokenSecret(t, "retool-"+e+"-payments", sp.Token())
	}
	eventuallySynced(t, spaces["payments"])
	eventuallySynced(t, spaces["hub"])

	for _, name := range []string{"hub", "payments"} {
		model := getModel(name)
		g.Expect(model).NotTo(BeNil())
		loaded, err := spacemodel.Load(ctx(), env.Client, name)
		g.Expect(err).NotTo(HaveOccurred())
		for _, e := range envs {
			sp := instances[e].srv.Space(name + "." + e + ".retool.localhost")
			c := instances[e].as(t, sp)
			v, err := syncer.Verify(ctx(), c, syncer.VerifyInput{Model: model.Snapshot, Space: loaded.Input, Environment: e})
			g.Expect(err).NotTo(HaveOccurred())
			var diffs []string
			for _, d := range v.Differences {
				diffs = append(diffs, d.User+" on "+d.Object+": instance "+d.InstanceLevel+" ("+d.InstanceSource+"), model "+d.ModelLevel+" ("+d.Decided+")")
			}
			g.Expect(diffs).To(BeEmpty(), "Space %s, environment %s: every user's level in the instance is the model's", name, e)
			g.Expect(v.Objects).To(BeNumerically(">", 0))
			g.Expect(v.Users).To(BeNumerically(">", 0))
			if name == "payments" {
				g.Expect(v.Users).To(BeNumerically(">=", 5), "the people who signed in are compared")
				g.Expect(subFolders(t, c)).To(ContainElements("finance/reports", "finance/reports/monthly", "oncall/runbooks/nightly"))
			}
		}
	}
}

// subFolders lists the folder paths of an instance's Space.
func subFolders(t *testing.T, c *retool.Client) []string {
	t.Helper()
	folders, err := c.ListFolders(ctx())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range folders {
		if !f.IsSystemFolder && strings.Contains(folderPathOf(f, folders), "/") {
			out = append(out, folderPathOf(f, folders))
		}
	}
	return out
}

func folderPathOf(f retool.Folder, all []retool.Folder) string {
	byID := map[string]retool.Folder{}
	for _, o := range all {
		byID[o.ID] = o
	}
	parts := []string{f.Name}
	for p := f.ParentFolderID; p != nil && !byID[*p].IsSystemFolder; p = byID[*p].ParentFolderID {
		parts = append([]string{byID[*p].Name}, parts...)
	}
	return strings.Join(parts, "/")
}

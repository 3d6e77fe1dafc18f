package decisionapi_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/decisionapi"
	"github.com/governor-dev/governor/internal/revision"
)

func tokenFor(t *testing.T, sa string, audiences ...string) string {
	t.Helper()
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := cs.CoreV1().ServiceAccounts("instances").CreateToken(context.Background(), sa, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{Audiences: audiences, ExpirationSeconds: ptr.To[int64](3600)},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return tr.Status.Token
}

// TestTokenAudience: with an audience set, only tokens minted for it are
// accepted (TokenReview spec.audiences), not a pod's default token; without
// one, the default token is.
func TestTokenAudience(t *testing.T) {
	g := NewWithT(t)
	const aud = "governor-decision-api"
	withAudience, err := decisionapi.NewDelegating(env.Config, decisionapi.AuthOptions{Audiences: []string{aud}})
	g.Expect(err).NotTo(HaveOccurred())
	anyAudience, err := decisionapi.NewDelegating(env.Config, decisionapi.AuthOptions{})
	g.Expect(err).NotTo(HaveOccurred())
	minted, plain := tokenFor(t, "instance", aud), tokenFor(t, "instance")
	authn := func(d *decisionapi.Delegating, token string) bool {
		r := httptest.NewRequest(http.MethodPost, "/v1/spaces/payments/check", nil)
		r.Header.Set("Authorization", "Bearer "+token)
		u, ok, err := d.Authenticate(r)
		g.Expect(err).NotTo(HaveOccurred())
		if ok {
			g.Expect(u.GetName()).To(Equal("system:serviceaccount:instances:instance"))
		}
		return ok
	}
	g.Expect(authn(withAudience, minted)).To(BeTrue(), "a token minted for the audience")
	g.Expect(authn(withAudience, plain)).To(BeFalse(), "a default token when an audience is required")
	g.Expect(authn(anyAudience, plain)).To(BeTrue(), "a default token without an audience")
}

// TestSelfSignedCertificateNamesTheService: clients that verify the
// certificate by the Service's DNS name can.
func TestSelfSignedCertificateNamesTheService(t *testing.T) {
	g := NewWithT(t)
	names := []string{"governor-api", "governor-api.governor-system", "governor-api.governor-system.svc", "governor-api.governor-system.svc.cluster.local"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln := decisionapi.NewListener(decisionapi.ServeOptions{Addr: "127.0.0.1:0", DNSNames: names}, http.NotFoundHandler(), ctrl.Log)
	go func() { _ = ln.Start(ctx) }()
	addr, err := ln.Addr(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	conn, err := tls.Dial("tcp", addr.String(), &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // the certificate is inspected below
	g.Expect(err).NotTo(HaveOccurred())
	defer conn.Close()
	cert := conn.ConnectionState().PeerCertificates[0]
	g.Expect(cert.DNSNames).To(ContainElements(append(names, "localhost")))
	for _, n := range names {
		g.Expect(cert.VerifyHostname(n)).To(Succeed())
	}
}

func checkAt(t *testing.T, atLeast string) response {
	t.Helper()
	return call(t, "POST", "/v1/spaces/payments/check", tokens["instance"], decisionapi.CheckRequest{
		User: "bob@example.com", Action: "use", Target: "app/ledger", AtLeastRevision: atLeast,
	})
}

// TestOrderedRevisionToken: every answer carries the model's ordered token;
// a token whose content this replica never compiled (it skipped that
// revision, or restarted since) is answered when the replica's model is at
// or past its position, and 409 when ahead of it; a plain hash keeps its
// exact-match meaning; a malformed revision is refused naming the field.
func TestOrderedRevisionToken(t *testing.T) {
	g := NewWithT(t)
	r := checkAt(t, "")
	g.Expect(r.status).To(Equal(http.StatusOK), string(r.body))
	var d decisionapi.CheckResponse
	g.Expect(json.Unmarshal(r.body, &d)).To(Succeed())
	tok, err := revision.Parse(d.RevisionToken)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(tok.Ordered).To(BeTrue(), d.RevisionToken)
	g.Expect(tok.Hash).To(Equal(d.Revision))
	g.Expect(checkAt(t, d.RevisionToken).status).To(Equal(http.StatusOK))

	skipped := strings.Repeat("5", 64) // content never compiled here
	earlier := tok.Position
	earlier[revision.KindGroup]--
	g.Expect(checkAt(t, revision.Token{Hash: skipped, Ordered: true, Position: earlier}.String()).status).To(Equal(http.StatusOK))
	g.Expect(checkAt(t, revision.Token{Hash: skipped, Ordered: true, Position: tok.Position}.String()).status).To(Equal(http.StatusOK))
	ahead := tok.Position
	ahead[revision.KindRule]++
	r = checkAt(t, revision.Token{Hash: skipped, Ordered: true, Position: ahead}.String())
	g.Expect(r.status).To(Equal(http.StatusConflict), string(r.body))
	g.Expect(errorOf(t, r).Reason).To(Equal(decisionapi.ReasonRevisionNotYet))
	g.Expect(checkAt(t, skipped).status).To(Equal(http.StatusConflict), "a plain hash is matched exactly")

	r = checkAt(t, "not-a-revision")
	g.Expect(r.status).To(Equal(http.StatusBadRequest))
	g.Expect(errorOf(t, r).Field).To(Equal("atLeastRevision"))
}

// TestWhoCanAndPermissionsArePaged: limit bounds an answer; continue walks
// the rest; the pages join to the whole answer; a continue token from other
// content is 410, a forged one 400; limit is bounded.
func TestWhoCanAndPermissionsArePaged(t *testing.T) {
	g := NewWithT(t)
	ask := decisionapi.WhoCanRequest{Action: "edit", Target: "app/ledger", Folder: "finance/reports"}
	r := call(t, "POST", "/v1/spaces/payments/who-can", tokens["instance"], ask)
	g.Expect(r.status).To(Equal(http.StatusOK), string(r.body))
	var whole decisionapi.WhoCanResponse
	g.Expect(json.Unmarshal(r.body, &whole)).To(Succeed())
	g.Expect(whole.Continue).To(BeEmpty())
	g.Expect(len(whole.Grants)).To(BeNumerically(">=", 3))

	var joined []access.Grant
	pages := 0
	for ask.Limit, ask.Continue = 1, ""; pages == 0 || ask.Continue != ""; pages++ {
		r := call(t, "POST", "/v1/spaces/payments/who-can", tokens["instance"], ask)
		g.Expect(r.status).To(Equal(http.StatusOK), string(r.body))
		var page decisionapi.WhoCanResponse
		g.Expect(json.Unmarshal(r.body, &page)).To(Succeed())
		g.Expect(page.Grants).To(HaveLen(1))
		joined = append(joined, page.Grants...)
		ask.Continue = page.Continue
	}
	g.Expect(pages).To(Equal(len(whole.Grants)))
	g.Expect(joined).To(Equal(whole.Grants))

	// A continue token cut from other content: 410, start again.
	ask.Continue = decisionapi.EncodeContinueForTest(1, strings.Repeat("7", 64))
	r = call(t, "POST", "/v1/spaces/payments/who-can", tokens["instance"], ask)
	g.Expect(r.status).To(Equal(http.StatusGone), string(r.body))
	g.Expect(errorOf(t, r).Reason).To(Equal(decisionapi.ReasonContinueExpired))
	for _, bad := range []string{"%%%", "bm9wZQ", decisionapi.EncodeContinueForTest(-1, whole.Revision)} {
		ask.Continue = bad
		r = call(t, "POST", "/v1/spaces/payments/who-can", tokens["instance"], ask)
		g.Expect(r.status).To(Equal(http.StatusBadRequest), bad)
		g.Expect(errorOf(t, r).Field).To(Equal("continue"))
	}
	ask.Continue, ask.Limit = "", decisionapi.MaxLimit+1
	r = call(t, "POST", "/v1/spaces/payments/who-can", tokens["instance"], ask)
	g.Expect(r.status).To(Equal(http.StatusBadRequest))
	g.Expect(errorOf(t, r).Field).To(Equal("limit"))

	// permissions: the same, over the permissions list.
	r = call(t, "GET", "/v1/spaces/payments/users/carol@example.com/permissions", tokens["instance"], nil)
	var all decisionapi.PermissionsResponse
	g.Expect(json.Unmarshal(r.body, &all)).To(Succeed())
	g.Expect(len(all.Permissions)).To(BeNumerically(">=", 2), string(r.body))
	r = call(t, "GET", "/v1/spaces/payments/users/carol@example.com/permissions?limit=1", tokens["instance"], nil)
	var first decisionapi.PermissionsResponse
	g.Expect(json.Unmarshal(r.body, &first)).To(Succeed())
	g.Expect(first.Permissions).To(Equal(all.Permissions[:1]))
	g.Expect(first.Groups).To(Equal(all.Groups), "the rest of the answer comes whole on every page")
	g.Expect(first.Continue).NotTo(BeEmpty())
	r = call(t, "GET", "/v1/spaces/payments/users/carol@example.com/permissions?limit=abc", tokens["instance"], nil)
	g.Expect(r.status).To(Equal(http.StatusBadRequest))
	g.Expect(errorOf(t, r).Field).To(Equal("limit"))
}

// TestTooManyFailedAuthentications: past its budget an address is answered
// 429 with Retry-After, without a TokenReview.
func TestTooManyFailedAuthentications(t *testing.T) {
	g := NewWithT(t)
	var last response
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		last = call(t, "POST", "/v1/spaces/payments/check", "junk-"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+time.Now().String(), decisionapi.CheckRequest{})
		if last.status == http.StatusTooManyRequests {
			break
		}
	}
	g.Expect(last.status).To(Equal(http.StatusTooManyRequests), string(last.body))
	g.Expect(last.header.Get("Retry-After")).To(Equal("1"))
	g.Expect(errorOf(t, last).Reason).To(Equal(decisionapi.ReasonTooManyRequests))
}

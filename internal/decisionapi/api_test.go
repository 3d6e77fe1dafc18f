package decisionapi_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/controller"
	"github.com/governor-dev/governor/internal/decisionapi"
	"github.com/governor-dev/governor/internal/operator"
	"github.com/governor-dev/governor/internal/testenv"
)

var (
	env     *testenv.Env
	apiURL  string
	tokens  = map[string]string{} // service account -> token
	httpCli = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // the test server's self-signed certificate
	}}
)

// TestMain runs the real API server and the operator with its decision API
// on loopback, applies the samples, and makes real service-account tokens.
func TestMain(m *testing.M) {
	flag.Parse()
	if fuzzing() { // the fuzz targets serve a compiled snapshot: no control plane
		os.Exit(m.Run())
	}
	os.Exit(testenv.Run(m, &env, testenv.Options{}, func(e *testenv.Env) func() {
		ctx, cancel := context.WithCancel(context.Background())
		listening := make(chan string, 1)
		done := make(chan error, 1)
		go func() {
			done <- operator.Run(ctx, e.Config, operator.Options{
				MetricsAddr: "0", ProbeAddr: "0", APIAddr: "127.0.0.1:0",
				OnAPIListening: func(addr string) { listening <- addr },
			}, controller.NewModels())
		}()
		select {
		case addr := <-listening:
			apiURL = "https://" + addr
		case err := <-done:
			panic(fmt.Sprintf("operator stopped: %v", err))
		case <-time.After(time.Minute):
			panic("the decision API did not start")
		}
		if err := setup(e); err != nil {
			panic(err)
		}
		return func() { cancel(); <-done }
	}))
}

// fuzzing reports whether this run fuzzes (`make fuzz-api`), as the
// coordinator or a worker.
func fuzzing() bool {
	for _, name := range []string{"test.fuzz", "test.fuzzworker"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" && f.Value.String() != "false" {
			return true
		}
	}
	return false
}

// setup applies the samples and creates the callers: "instance" may use every
// endpoint of Space payments only; "stranger" may do nothing.
func setup(e *testenv.Env) error {
	ctx := context.Background()
	files, _ := filepath.Glob(filepath.Join(e.Root, "config", "samples", "*.yaml"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
		for {
			u := &unstructured.Unstructured{}
			if err := dec.Decode(&u.Object); err != nil {
				break
			}
			if len(u.Object) > 0 {
				// Applied as kubectl apply does: the operator may have created
				// a default group of the same name in the meantime.
				if err := e.Client.Patch(ctx, u, client.Apply, client.FieldOwner("test"), client.ForceOwnership); err != nil { //nolint:staticcheck // unstructured apply
					return err
				}
			}
		}
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "instances"}}
	if err := e.Client.Create(ctx, ns); err != nil {
		return err
	}
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "payments-decisions"},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"governor.dev"}, Resources: []string{"spaces/check", "spaces/who-can"}, Verbs: []string{"create"}, ResourceNames: []string{"payments"}},
			{APIGroups: []string{"governor.dev"}, Resources: []string{"spaces/permissions"}, Verbs: []string{"get"}, ResourceNames: []string{"payments"}},
		},
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "payments-decisions"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "instance", Namespace: "instances"}},
	}
	if err := e.Client.Create(ctx, role); err != nil {
		return err
	}
	if err := e.Client.Create(ctx, binding); err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(e.Config)
	if err != nil {
		return err
	}
	for _, sa := range []string{"instance", "stranger"} {
		if err := e.Client.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "instances", Name: sa}}); err != nil {
			return err
		}
		tr, err := cs.CoreV1().ServiceAccounts("instances").CreateToken(ctx, sa, &authenticationv1.TokenRequest{
			Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)},
		}, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("token for %s: %w", sa, err)
		}
		tokens[sa] = tr.Status.Token
	}
	// Wait until the payments model is compiled and published.
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		space := &governorv1alpha1.Space{}
		if err := e.Client.Get(ctx, client.ObjectKey{Name: "payments"}, space); err == nil && space.Status.AccessModel != nil && space.Status.AccessModel.Groups >= 6 {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("Space payments was not compiled in time")
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func call(t *testing.T, method, path, token string, body any) response {
	t.Helper()
	var reader io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		reader = strings.NewReader(b)
	case []byte:
		reader = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, apiURL+path, reader)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := httpCli.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: data}
}

func errorOf(t *testing.T, r response) decisionapi.ErrorBody {
	t.Helper()
	var e struct {
		Error decisionapi.ErrorBody `json:"error"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil || e.Error.Reason == "" {
		t.Fatalf("want a JSON error body, got %d %q", r.status, r.body)
	}
	return e.Error
}

func spaceRevision(t *testing.T) string {
	t.Helper()
	space := &governorv1alpha1.Space{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Name: "payments"}, space); err != nil {
		t.Fatal(err)
	}
	return space.Status.AccessModel.Revision
}

func TestCheckAnswersWithExplanationAndRevision(t *testing.T) {
	g := NewWithT(t)
	r := call(t, "POST", "/v1/spaces/payments/check", tokens["instance"], decisionapi.CheckRequest{
		User: "Carol@Example.com", Action: "edit", Target: "app/ledger", Folder: "finance/reports",
	})
	g.Expect(r.status).To(Equal(http.StatusOK), string(r.body))
	var d access.Decision
	g.Expect(json.Unmarshal(r.body, &d)).To(Succeed())
	g.Expect(d.Allowed).To(BeTrue())
	g.Expect(d.Group).To(Equal("finance"))
	g.Expect(d.Source.Kind).To(Equal(access.SourceFolderRule))
	g.Expect(d.Source.Rule).To(Equal("finance-apps"))
	g.Expect(d.Revision).To(Equal(spaceRevision(t)))

	// The object rule (Use) overrides the folder rule; production is read-only.
	r = call(t, "POST", "/v1/spaces/payments/check", tokens["instance"], decisionapi.CheckRequest{
		User: "carol@example.com", Action: "edit", Target: "app/payouts", Folder: "finance",
	})
	g.Expect(json.Unmarshal(r.body, &d)).To(Succeed())
	g.Expect(d.Allowed).To(BeFalse())
	g.Expect(d.Reason).To(Equal(access.ReasonInsufficientLevel))
	r = call(t, "POST", "/v1/spaces/payments/check", tokens["instance"], decisionapi.CheckRequest{
		User: "alice@example.com", Action: "edit", Target: "app/ledger", Environment: "production",
	})
	g.Expect(json.Unmarshal(r.body, &d)).To(Succeed())
	g.Expect(d.Reason).To(Equal(access.ReasonReadOnlyEnvironment))

	// Asking for the current revision answers; for one not compiled yet, 409 and a retry hint.
	r = call(t, "POST", "/v1/spaces/payments/check", tokens["instance"], decisionapi.CheckRequest{
		User: "bob@example.com", Action: "use", Target: "app/ledger", AtLeastRevision: spaceRevision(t),
	})
	g.Expect(r.status).To(Equal(http.StatusOK), string(r.body))
	r = call(t, "POST", "/v1/spaces/payments/check", tokens["instance"], decisionapi.CheckRequest{
		User: "bob@example.com", Action: "use", Target: "app/ledger", AtLeastRevision: strings.Repeat("0", 64),
	})
	g.Expect(r.status).To(Equal(http.StatusConflict))
	g.Expect(r.header.Get("Retry-After")).To(Equal("1"))
	g.Expect(errorOf(t, r).Reason).To(Equal(decisionapi.ReasonRevisionNotYet))
}

func TestBatchCheck(t *testing.T) {
	g := NewWithT(t)
	r := call(t, "POST", "/v1/spaces/payments/check", tokens["instance"], decisionapi.BatchRequest{Checks: []decisionapi.CheckRequest{
		{User: "bob@example.com", Action: "use", Target: "app/ledger"},
		{User: "bob@example.com", Action: "fly", Target: "app/ledger"},
		{User: "nobody@elsewhere.org", Action: "use", Target: "app/ledger"},
	}})
	g.Expect(r.status).To(Equal(http.StatusOK), string(r.body))
	var b decisionapi.BatchResponse
	g.Expect(json.Unmarshal(r.body, &b)).To(Succeed())
	g.Expect(b.Revision).To(Equal(spaceRevision(t)))
	g.Expect(b.Results).To(HaveLen(3))
	g.Expect(b.Results[0].Decision.Allowed).To(BeTrue())
	g.Expect(b.Results[1].Error.Reason).To(Equal(access.ReasonUnknownAction))
	g.Expect(b.Results[1].Error.Field).To(Equal("checks[1].action"))
	g.Expect(b.Results[2].Decision.Reason).To(Equal(access.ReasonNotAMember))
}

func TestWhoCanAndPermissions(t *testing.T) {
	g := NewWithT(t)
	r := call(t, "POST", "/v1/spaces/payments/who-can", tokens["instance"], decisionapi.WhoCanRequest{Action: "edit", Target: "app/ledger", Folder: "finance/reports"})
	g.Expect(r.status).To(Equal(http.StatusOK), string(r.body))
	var w access.WhoCanResult
	g.Expect(json.Unmarshal(r.body, &w)).To(Succeed())
	var groups []string
	for _, gr := range w.Grants {
		groups = append(groups, gr.Group)
	}
	g.Expect(groups).To(ConsistOf("admin", "editor", "finance"))

	r = call(t, "GET", "/v1/spaces/payments/users/carol@example.com/permissions", tokens["instance"], nil)
	g.Expect(r.status).To(Equal(http.StatusOK), string(r.body))
	var p access.PermissionsResult
	g.Expect(json.Unmarshal(r.body, &p)).To(Succeed())
	g.Expect(p.Groups).To(ContainElement("finance"))
	g.Expect(p.GroupAdminOf).To(Equal([]string{"finance"}))
}

func TestCallersAreAuthenticatedAndAuthorised(t *testing.T) {
	check := decisionapi.CheckRequest{User: "bob@example.com", Action: "use", Target: "app/ledger"}
	cases := map[string]struct {
		path, token string
		status      int
		reason      string
	}{
		"no token":                 {"/v1/spaces/payments/check", "", 401, decisionapi.ReasonUnauthenticated},
		"a forged token":           {"/v1/spaces/payments/check", "not-a-token", 401, decisionapi.ReasonUnauthenticated},
		"a caller without rights":  {"/v1/spaces/payments/check", tokens["stranger"], 403, decisionapi.ReasonForbidden},
		"another Space's check":    {"/v1/spaces/hub/check", tokens["instance"], 403, decisionapi.ReasonForbidden},
		"an unknown Space, denied": {"/v1/spaces/nope/check", tokens["instance"], 403, decisionapi.ReasonForbidden},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := call(t, "POST", tc.path, tc.token, check)
			if r.status != tc.status || errorOf(t, r).Reason != tc.reason {
				t.Fatalf("got %d %s, want %d %s", r.status, r.body, tc.status, tc.reason)
			}
			if strings.Contains(string(r.body), "allowed") {
				t.Fatalf("an unauthorised caller saw an answer: %s", r.body)
			}
		})
	}
}

func TestBadInputGetsAClearClientError(t *testing.T) {
	big := `{"user":"` + strings.Repeat("a", decisionapi.MaxBodyBytes) + `"}`
	cases := map[string]struct {
		method, path string
		body         any
		status       int
		reason       string
		field        string
	}{
		"unknown action":            {"POST", "/v1/spaces/payments/check", decisionapi.CheckRequest{User: "bob@example.com", Action: "fly", Target: "app/x"}, 400, access.ReasonUnknownAction, "action"},
		"unknown target":            {"POST", "/v1/spaces/payments/check", decisionapi.CheckRequest{User: "bob@example.com", Action: "use", Target: "spaceship/x"}, 400, access.ReasonUnknownTarget, "target"},
		"unknown environment":       {"POST", "/v1/spaces/payments/check", decisionapi.CheckRequest{User: "bob@example.com", Action: "use", Target: "app/x", Environment: "qa"}, 400, access.ReasonUnknownEnvironment, "environment"},
		"no user":                   {"POST", "/v1/spaces/payments/check", decisionapi.CheckRequest{Action: "use", Target: "app/x"}, 400, access.ReasonInvalidUser, "user"},
		"malformed JSON":            {"POST", "/v1/spaces/payments/check", `{"user": `, 400, decisionapi.ReasonMalformedRequest, ""},
		"a field of the wrong type": {"POST", "/v1/spaces/payments/check", `{"user": 7}`, 400, decisionapi.ReasonMalformedRequest, "user"},
		"an unknown field":          {"POST", "/v1/spaces/payments/check", `{"user":"bob@example.com","action":"use","target":"app/x","colour":"red"}`, 400, decisionapi.ReasonMalformedRequest, "colour"},
		"an empty batch":            {"POST", "/v1/spaces/payments/check", `{"checks": []}`, 400, decisionapi.ReasonMalformedRequest, "checks"},
		"an oversized body":         {"POST", "/v1/spaces/payments/check", big, 413, decisionapi.ReasonBodyTooLarge, ""},
		"who-can, unknown action":   {"POST", "/v1/spaces/payments/who-can", decisionapi.WhoCanRequest{Action: "fly", Target: "app/x"}, 400, access.ReasonUnknownAction, "action"},
		"wrong method":              {"GET", "/v1/spaces/payments/check", nil, 405, decisionapi.ReasonMethodNotAllowed, ""},
		"no such endpoint":          {"GET", "/v2/whatever", nil, 404, decisionapi.ReasonNotFound, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := call(t, tc.method, tc.path, tokens["instance"], tc.body)
			e := errorOf(t, r)
			if r.status != tc.status || e.Reason != tc.reason || e.Field != tc.field {
				t.Fatalf("got %d %+v, want %d %s (field %q)", r.status, e, tc.status, tc.reason, tc.field)
			}
		})
	}
}

func TestUnknownSpaceIsNotFound(t *testing.T) {
	// Allowed to ask any Space by name; the Space does not exist.
	ctx := context.Background()
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "all-decisions"}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{"governor.dev"}, Resources: []string{"spaces/check"}, Verbs: []string{"create"}},
	}}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "all-decisions"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "stranger", Namespace: "instances"}},
	}
	if err := env.Client.Create(ctx, role); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Create(ctx, binding); err != nil {
		t.Fatal(err)
	}
	NewWithT(t).Eventually(func() int { // RBAC and the denial cache settle
		return call(t, "POST", "/v1/spaces/nope/check", tokens["stranger"], decisionapi.CheckRequest{User: "a@b.c", Action: "use", Target: "app/x"}).status
	}, 30*time.Second, 200*time.Millisecond).Should(Equal(http.StatusNotFound))
	r := call(t, "POST", "/v1/spaces/nope/check", tokens["stranger"], decisionapi.CheckRequest{User: "a@b.c", Action: "use", Target: "app/x"})
	NewWithT(t).Expect(errorOf(t, r).Reason).To(Equal(decisionapi.ReasonUnknownSpace))
}

package decisionapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/access/accesstest"
	"github.com/governor-dev/governor/internal/decisionapi"
)

// staticModels serves one compiled snapshot.
type staticModels struct{ snap *access.Snapshot }

func (m staticModels) Live(space string) (*access.Snapshot, string) {
	if space == m.snap.Space() {
		return m.snap, m.snap.Revision()
	}
	return nil, ""
}
func (m staticModels) Reached(space, rev string) bool { return rev == m.snap.Revision() }

// BenchmarkAPI drives the decision API over loopback TLS against the engine's
// large Space with a bounded number of requests from concurrent clients, with
// real TokenReview/SubjectAccessReview authorisation (cached as in
// production), and reports checks per second and latency percentiles:
// `make bench-api`.
func BenchmarkAPI(b *testing.B) {
	in := accesstest.Large()
	snap, _ := access.Compile(in)
	token := benchToken(b, snap.Space())
	auth, err := decisionapi.NewDelegating(env.Config, decisionapi.AuthOptions{})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := decisionapi.NewServer(staticModels{snap}, auth, ctrl.Log)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln := decisionapi.NewListener(decisionapi.ServeOptions{Addr: "127.0.0.1:0"}, srv, ctrl.Log)
	go func() { _ = ln.Start(ctx) }()
	addr, err := ln.Addr(ctx)
	if err != nil {
		b.Fatal(err)
	}
	checks := benchChecks(in, 4096)
	url := fmt.Sprintf("https://%s/v1/spaces/%s/check", addr, snap.Space())

	for _, tc := range []struct {
		name            string
		batch, requests int
		clients         int
	}{
		{"single", 1, 20000, 4},
		{"batch100", 100, 1000, 4},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for range b.N {
				lat, elapsed := drive(b, url, token, checks, tc.batch, tc.requests, tc.clients)
				slices.Sort(lat)
				b.ReportMetric(float64(tc.batch*tc.requests)/elapsed.Seconds(), "checks/s")
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			}
		})
	}
}

// drive sends requests POSTs of batch checks from clients goroutines and
// returns each request's latency and the total time.
func drive(b *testing.B, url, token string, checks []decisionapi.CheckRequest, batch, requests, clients int) ([]time.Duration, time.Duration) {
	bodies := make([][]byte, 64)
	for i := range bodies {
		var v any
		if batch == 1 {
			v = checks[i%len(checks)]
		} else {
			start := (i * batch) % (len(checks) - batch + 1)
			v = decisionapi.BatchRequest{Checks: checks[start : start+batch]}
		}
		bodies[i], _ = json.Marshal(v)
	}
	// One kept-alive connection per client, as a real caller's pool has (the
	// default keeps two idle connections per host, which would turn this
	// into a benchmark of TLS handshakes).
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig:     httpCli.Transport.(*http.Transport).TLSClientConfig,
		MaxIdleConnsPerHost: clients,
	}}
	defer client.CloseIdleConnections()
	lat := make([]time.Duration, requests)
	var wg sync.WaitGroup
	var next sync.Mutex
	n := 0
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				next.Lock()
				i := n
				n++
				next.Unlock()
				if i >= requests {
					return
				}
				req, _ := http.NewRequest("POST", url, bytes.NewReader(bodies[i%len(bodies)]))
				req.Header.Set("Authorization", "Bearer "+token)
				t0 := time.Now()
				res, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				lat[i] = time.Since(t0)
				if res.StatusCode != http.StatusOK {
					b.Errorf("status %d", res.StatusCode)
					return
				}
			}
		}()
	}
	wg.Wait()
	return lat, time.Since(start)
}

// benchChecks is a deterministic mix: members' checks on rule targets in
// folders, folder actions, environments, and some non-members.
func benchChecks(in access.SpaceInput, n int) []decisionapi.CheckRequest {
	r := rand.New(rand.NewPCG(7, 7))
	var members []string
	for _, g := range in.Groups {
		for _, m := range g.Members {
			members = append(members, m.Email)
		}
	}
	var targets []access.RuleTarget
	for _, rule := range in.Rules {
		targets = append(targets, rule.Targets...)
	}
	out := make([]decisionapi.CheckRequest, n)
	for i := range out {
		t := targets[r.IntN(len(targets))]
		c := decisionapi.CheckRequest{User: members[r.IntN(len(members))]}
		kind := strings.ToLower(t.Kind.String())
		actions := []string{"use", "edit", "delete"}
		switch {
		case t.Folder:
			c.Target, actions = kind+"folder/"+t.Name, []string{"use", "create", "manage"}
		case t.Kind == access.Resource:
			c.Target, actions = kind+"/"+t.Name, []string{"use", "write", "configure"}
		default:
			c.Target = kind + "/" + t.Name
		}
		c.Action = actions[r.IntN(len(actions))]
		if i%10 == 0 {
			c.User = fmt.Sprintf("stranger%d@elsewhere.example", i)
		}
		out[i] = c
	}
	return out
}

func benchToken(b *testing.B, space string) string {
	ctx := context.Background()
	name := "bench-" + space
	if err := env.Client.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "instances", Name: name}}); err != nil {
		b.Fatal(err)
	}
	if err := env.Client.Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{"governor.dev"}, Resources: []string{"spaces/check"}, Verbs: []string{"create"}, ResourceNames: []string{space}},
	}}); err != nil {
		b.Fatal(err)
	}
	if err := env.Client.Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: "instances", Name: name}}}); err != nil {
		b.Fatal(err)
	}
	tr, err := kubernetes.NewForConfigOrDie(env.Config).CoreV1().ServiceAccounts("instances").CreateToken(ctx, name,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}}, metav1.CreateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	return tr.Status.Token
}

package emulator_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/governor-dev/governor/internal/platform/emulator"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// call serves one request and decodes the JSON answer.
func call(t *testing.T, h http.Handler, method, path, token, body string) (*http.Response, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out map[string]any
	if rec.Body.Len() > 0 {
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, rec.Body)
		}
	}
	return rec.Result(), out
}

func TestRateLimitAndStats(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := emulator.New(emulator.Options{Token: "tk", RequestsPerMinute: 3, Now: clk.Now})
	for range 3 {
		if resp, _ := call(t, s, "GET", "/api/v2/groups", "tk", ""); resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		clk.Advance(10 * time.Second)
	}
	resp, body := call(t, s, "GET", "/api/v2/groups/1", "tk", "")
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "30" || body["success"] != false || body["message"] == "" {
		t.Fatalf("4th request in a minute: %d Retry-After %q %v; want 429 after 30s (when the first leaves the window)", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	clk.Advance(30 * time.Second)
	if resp, _ := call(t, s, "GET", "/api/v2/groups/1", "tk", ""); resp.StatusCode != 200 {
		t.Fatalf("after Retry-After: %d", resp.StatusCode)
	}
	// /emulator/v1 is neither limited nor counted.
	resp, body = call(t, s, "GET", "/emulator/v1/stats", "tk", "")
	if resp.StatusCode != 200 {
		t.Fatal(resp.StatusCode)
	}
	b, _ := json.Marshal(body)
	var st emulator.Stats
	_ = json.Unmarshal(b, &st)
	want := emulator.Stats{Requests: map[string]int{"GET /api/v2/groups": 3, "GET /api/v2/groups/{groupId}": 2}, Throttled: 1, MaxPerMinute: 4}
	if fmt.Sprint(st) != fmt.Sprint(want) || fmt.Sprint(s.Stats()) != fmt.Sprint(want) {
		t.Errorf("stats %+v (Go %+v), want %+v", st, s.Stats(), want)
	}
	if resp, _ := call(t, s, "POST", "/emulator/v1/stats/reset", "tk", ""); resp.StatusCode != 204 {
		t.Fatal(resp.StatusCode)
	}
	if st := s.Stats(); st.Total() != 0 || st.Throttled != 0 || st.MaxPerMinute != 0 {
		t.Errorf("after reset: %+v", st)
	}
}

func TestEmulatorEndpoints(t *testing.T) {
	s := emulator.New(emulator.Options{Domain: "admin.example.com", Token: "tk"})
	if resp, _ := call(t, s, "POST", "/emulator/v1/spaces/admin.example.com/apps", "wrong", `{"name":"a"}`); resp.StatusCode != 401 {
		t.Errorf("a wrong token: %d, want 401", resp.StatusCode)
	}
	if resp, _ := call(t, s, "POST", "/emulator/v1/spaces/nowhere.example.com/apps", "tk", `{"name":"a"}`); resp.StatusCode != 404 {
		t.Errorf("an unknown Space: %d, want 404", resp.StatusCode)
	}
	if resp, _ := call(t, s, "POST", "/emulator/v1/spaces/admin.example.com/apps", "tk", `{"folder":"x"}`); resp.StatusCode != 400 {
		t.Errorf("no name: %d, want 400", resp.StatusCode)
	}
	resp, app := call(t, s, "POST", "/emulator/v1/spaces/admin.example.com/apps", "tk", `{"name":"Payroll","folder":"finance/reports"}`)
	if resp.StatusCode != 200 || app["name"] != "Payroll" || !strings.HasPrefix(fmt.Sprint(app["folder_id"]), "app_") {
		t.Fatalf("app: %d %v", resp.StatusCode, app)
	}
	_, wf := call(t, s, "POST", "/emulator/v1/spaces/admin.example.com/workflows", "tk", `{"name":"Nightly","folder":"finance"}`)
	_, res := call(t, s, "POST", "/emulator/v1/spaces/admin.example.com/resources", "tk", `{"name":"db","folder":"finance","type":"postgresql"}`)
	if !strings.HasPrefix(fmt.Sprint(wf["folder_id"]), "workflow_") || res["type"] != "postgresql" || !strings.HasPrefix(fmt.Sprint(res["folder_id"]), "resource_") {
		t.Errorf("workflow %v, resource %v", wf, res)
	}
	_, folders := call(t, s, "GET", "/api/v2/folders", "tk", "")
	paths := map[string]int{}
	for _, f := range folders["data"].([]any) {
		f := f.(map[string]any)
		paths[f["folder_type"].(string)+":"+f["name"].(string)]++
	}
	if paths["app:finance"] != 1 || paths["app:reports"] != 1 || paths["workflow:finance"] != 1 || paths["resource:finance"] != 1 {
		t.Errorf("folders %v: want finance/reports created once per type", paths)
	}
	resp, u := call(t, s, "POST", "/emulator/v1/spaces/admin.example.com/users", "tk", `{"email":"dana@example.com"}`)
	if resp.StatusCode != 200 || !strings.HasPrefix(fmt.Sprint(u["id"]), "user_") || u["email"] != "dana@example.com" {
		t.Errorf("user: %d %v", resp.StatusCode, u)
	}
	_, again := call(t, s, "POST", "/emulator/v1/spaces/admin.example.com/users", "tk", `{"email":"dana@example.com"}`)
	if again["id"] != u["id"] {
		t.Error("signing in twice made two users")
	}
	_, tok := call(t, s, "POST", "/emulator/v1/spaces/admin.example.com/tokens", "tk", `{"scopes":["Apps > Read"]}`)
	scoped := tok["token"].(string)
	if resp, _ := call(t, s, "GET", "/api/v2/apps", scoped, ""); resp.StatusCode != 200 {
		t.Errorf("a token with Apps > Read: %d", resp.StatusCode)
	}
	if resp, body := call(t, s, "GET", "/api/v2/groups", scoped, ""); resp.StatusCode != 403 || !strings.Contains(body["message"].(string), "Groups > Read") {
		t.Errorf("a token without Groups > Read: %d %v", resp.StatusCode, body)
	}
	if resp, body := call(t, s, "GET", "/api/v2/nothing", "tk", ""); resp.StatusCode != 404 || body["success"] != false {
		t.Errorf("an unknown path: %d %v", resp.StatusCode, body)
	}
}

func TestSpaceHandle(t *testing.T) {
	s := emulator.New(emulator.Options{})
	admin := s.Space("")
	if admin == nil || admin.Domain() != "retool.localhost" || !strings.HasPrefix(admin.ID(), "org_") || admin.Token() == "" {
		t.Fatalf("admin Space %+v", admin)
	}
	if s.Space("nowhere.example.com") != nil {
		t.Error("an unknown domain has a Space")
	}
	a, err := admin.AddApp("A", "x/y")
	if err != nil || a.ID == "" || a.FolderID == "" {
		t.Fatalf("AddApp: %+v %v", a, err)
	}
	if _, err := admin.AddApp("A", "x/y"); err == nil {
		t.Error("the same app twice in one folder")
	}
}

func TestConcurrentUse(t *testing.T) {
	s := emulator.New(emulator.Options{Token: "tk"})
	srv := httptest.NewServer(s)
	defer srv.Close()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 10 {
				body := fmt.Sprintf(`{"name":"g-%d-%d"}`, i, j)
				req, _ := http.NewRequest("POST", srv.URL+"/api/v2/groups", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer tk")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("status %d", resp.StatusCode)
				}
			}
		}()
	}
	wg.Wait()
	_, groups := call(t, s, "GET", "/api/v2/groups", "tk", "")
	ids := map[float64]bool{}
	for _, g := range groups["data"].([]any) {
		ids[g.(map[string]any)["id"].(float64)] = true
	}
	if len(ids) != 84 || s.Stats().Requests["POST /api/v2/groups"] != 80 {
		t.Errorf("%d distinct groups, %d POSTs; want 84 and 80", len(ids), s.Stats().Requests["POST /api/v2/groups"])
	}
}

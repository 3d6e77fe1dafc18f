package decisionapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"k8s.io/apiserver/pkg/authentication/user"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/access/accesstest"
	"github.com/governor-dev/governor/internal/decisionapi"
)

// allowAll lets every caller in: the fuzz targets reach the handlers.
type allowAll struct{}

func (allowAll) Authenticate(*http.Request) (user.Info, bool, error) {
	return &user.DefaultInfo{Name: "fuzz"}, true, nil
}

func (allowAll) Allowed(context.Context, user.Info, string, string, string) (bool, string, error) {
	return true, "", nil
}

func fuzzServer(f *testing.F) (*decisionapi.Server, string) {
	f.Helper()
	snap, _ := access.Compile(accesstest.Small())
	srv, err := decisionapi.NewServer(staticModels{snap}, allowAll{}, ctrl.Log)
	if err != nil {
		f.Fatal(err)
	}
	return srv, snap.Space()
}

// answerIsWellFormed fails on a 5xx or an answer that is not one JSON
// object (an error with a reason, or a result).
func answerIsWellFormed(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var v map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("status %d, not a JSON object: %q", rec.Code, rec.Body)
	}
	if rec.Code != http.StatusOK {
		e, _ := v["error"].(map[string]any)
		if e == nil || e["reason"] == "" {
			t.Fatalf("status %d without an error reason: %s", rec.Code, rec.Body)
		}
	}
}

// FuzzRequestBodies posts arbitrary bodies to check (single and batch) and
// who-can: every answer is a well-formed 2xx or 4xx, never a panic or 5xx.
// The seeds run in `go test`; `make fuzz` runs longer.
func FuzzRequestBodies(f *testing.F) {
	srv, space := fuzzServer(f)
	for _, seed := range []string{
		`{"user":"user00001@example.com","action":"use","target":"app/app-00001"}`,
		`{"user":"a@b.c","groups":["x"],"action":"edit","target":"app/x","folder":"a/b","environment":"production","atLeastRevision":"00@1.2.3"}`,
		`{"checks":[{"user":"a@b.c","action":"use","target":"app/x"},{"user":"","action":"fly","target":"?"}]}`,
		`{"checks":[]}`, `{"checks":null}`, `[]`, `null`, `{"user":7}`, `{"user":"a@b.c"}{}`,
		`{"action":"use","target":"app/x","limit":1,"continue":"MTphYg"}`,
		`{"action":"use","target":"app/x","limit":-1}`, `{"action":"use","target":"folder/a//b"}`,
		"\xff\xfe", `{"target":"app/` + strings.Repeat("x", 300) + `"}`,
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	f.Fuzz(func(t *testing.T, body string, whoCan bool) {
		path := "/v1/spaces/" + space + "/check"
		if whoCan {
			path = "/v1/spaces/" + space + "/who-can"
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, bytes.NewBufferString(body)))
		answerIsWellFormed(t, rec)
	})
}

// FuzzRevisionAndPaging sends arbitrary atLeastRevision, limit and continue
// values to permissions: refused with a field, or answered.
func FuzzRevisionAndPaging(f *testing.F) {
	srv, space := fuzzServer(f)
	for _, seed := range [][3]string{
		{"", "", ""}, {strings.Repeat("0", 64), "1", ""}, {strings.Repeat("a", 64) + "@1.2.3", "0", "MTphYg"},
		{"@", "x", "%%%"}, {"ab@01.2.3", "99999999999999999999", "MTox"}, {"ab@1.2.3.4", "-5", "LTE6YWI"},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	f.Fuzz(func(t *testing.T, rev, limit, cont string) {
		q := url.Values{"atLeastRevision": {rev}, "limit": {limit}, "continue": {cont}}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/spaces/"+space+"/users/user00001@example.com/permissions?"+q.Encode(), nil))
		answerIsWellFormed(t, rec)
	})
}

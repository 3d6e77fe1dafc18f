package emulator_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/governor-dev/governor/internal/platform/emulator"
	"github.com/governor-dev/governor/internal/platform/retool"
	"github.com/governor-dev/governor/internal/platform/retool/retooltest"
)

// A replay fixture: requests and the answers Retool gave them in the
// upstream recordings, as subsets of the answer (placeholders <number>,
// <string>, <timestamp>, <uuid>, <user_id>, <org_id>, <folder_id> match a
// kind of value; {$contains: [...]} matches a list holding those items;
// "${name}" is a value captured by an earlier step).
type replay struct {
	// Instance configures the emulated instance (default: the admin Space
	// recorded.retool.dev).
	Instance struct {
		Domain       string `json:"domain"`
		FolderGrants string `json:"folderGrants"`
	} `json:"instance"`
	Steps []struct {
		Name string `json:"name"`
		// Setup marks a step that builds the recorded instance's state
		// (through /emulator/v1 or the API): it must succeed but is no
		// recorded interaction.
		Setup bool `json:"setup"`
		// Repeat runs the step this many times (recorded interactions that
		// repeat one another).
		Repeat int `json:"repeat"`
		// InvalidRequest marks a request that breaks openapi.yaml on
		// purpose: only the answer is validated.
		InvalidRequest bool `json:"invalidRequest"`
		Request        struct {
			Method string  `json:"method"`
			Path   string  `json:"path"`
			Host   string  `json:"host"`
			Token  *string `json:"token"`
			Body   any     `json:"body"`
		} `json:"request"`
		Status   int               `json:"status"`
		Response any               `json:"response"`
		Capture  map[string]string `json:"capture"`
	} `json:"steps"`
}

var placeholders = map[string]*regexp.Regexp{
	"<timestamp>": regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`),
	"<uuid>":      regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`),
	"<user_id>":   regexp.MustCompile(`^user_[0-9a-f]{32}$`),
	"<org_id>":    regexp.MustCompile(`^org_[0-9a-f]{32}$`),
	"<folder_id>": regexp.MustCompile(`^(app|workflow|resource)_[1-9]\d*$`),
	"<string>":    regexp.MustCompile(`^.+$`),
	// A secret as Retool answers it: an encrypted envelope, never the secret.
	"<retool_encrypted>": regexp.MustCompile(`^\{.*"canaryValue":"__RETOOL_ENCRYPTED_JSON__".*\}$`),
}

var varRe = regexp.MustCompile(`\$\{(\w+)\}`)

// substitute replaces "${x}" (a whole JSON string) by the captured JSON value
// and ${x} inside a string by its text.
func substitute(t *testing.T, v any, vars map[string]json.RawMessage) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	s := varRe.ReplaceAllStringFunc(string(b), func(m string) string { return m })
	for name, val := range vars {
		s = strings.ReplaceAll(s, `"${`+name+`}"`, string(val))
		var str string
		text := strings.Trim(string(val), `"`)
		if json.Unmarshal(val, &str) == nil {
			text = str
		}
		s = strings.ReplaceAll(s, "${"+name+"}", text)
	}
	if m := varRe.FindString(s); m != "" {
		t.Fatalf("%s was not captured", m)
	}
	var out any
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// match reports where actual differs from the expected subset.
func match(path string, want, got any) error {
	switch w := want.(type) {
	case map[string]any:
		if items, ok := w["$contains"]; ok {
			list, ok := got.([]any)
			if !ok {
				return fmt.Errorf("%s: want a list, got %v", path, got)
			}
			for i, item := range items.([]any) {
				found := false
				for _, g := range list {
					if match("", item, g) == nil {
						found = true
						break
					}
				}
				if !found {
					return fmt.Errorf("%s: no item matches $contains[%d] %v", path, i, item)
				}
			}
			return nil
		}
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: want an object, got %v", path, got)
		}
		for k, wv := range w {
			gv, present := g[k]
			if !present {
				return fmt.Errorf("%s.%s: missing", path, k)
			}
			if err := match(path+"."+k, wv, gv); err != nil {
				return err
			}
		}
		return nil
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("%s: want %d items, got %v", path, len(w), got)
		}
		for i := range w {
			if err := match(fmt.Sprintf("%s[%d]", path, i), w[i], g[i]); err != nil {
				return err
			}
		}
		return nil
	case string:
		if w == "<number>" {
			if _, ok := got.(float64); !ok {
				return fmt.Errorf("%s: want a number, got %v", path, got)
			}
			return nil
		}
		if re := placeholders[w]; re != nil {
			if s, ok := got.(string); !ok || !re.MatchString(s) {
				return fmt.Errorf("%s: want %s, got %v", path, w, got)
			}
			return nil
		}
	}
	if !reflect.DeepEqual(want, got) {
		return fmt.Errorf("%s: want %v, got %v", path, want, got)
	}
	return nil
}

// lookup follows a dotted path (data.id) in a decoded answer.
func lookup(v any, path string) (any, bool) {
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

func TestReplayRecordedInteractions(t *testing.T) {
	files, err := filepath.Glob("testdata/replay/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			replayFile(t, file, nil)
		})
	}
}

// outcome is one replayed interaction: its operation, whether the answer
// was the recorded one, and whether its status is one the operation
// declares (not only through `default`).
type outcome struct {
	op                string
	matched, declared bool
}

// replayFile runs a fixture against a new emulator. Without outcomes, the
// first difference fails the test; with them, each recorded interaction's
// outcome is appended and a difference is reported but the replay goes on.
func replayFile(t *testing.T, file string, outcomes *[]outcome) {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var rp replay
	if err := yaml.UnmarshalStrict(raw, &rp); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	domain := rp.Instance.Domain
	if domain == "" {
		domain = "recorded.retool.dev"
	}
	srv := httptest.NewServer(emulator.New(emulator.Options{Domain: domain, Token: "admin-token", RequestsPerMinute: -1,
		FolderGrants: rp.Instance.FolderGrants}))
	defer srv.Close()
	validating := retooltest.ValidatingTransport(t, nil)
	hc := &http.Client{Transport: validating}
	lenient := &http.Client{Transport: validating.ResponsesOnly()}
	vars := map[string]json.RawMessage{}
	for i, st := range rp.Steps {
		for range max(st.Repeat, 1) {
			name := fmt.Sprintf("step %d %s %s", i, st.Request.Method, st.Request.Path)
			if st.Name != "" {
				name += " (" + st.Name + ")"
			}
			path := substitute(t, st.Request.Path, vars).(string)
			var body io.Reader
			if st.Request.Body != nil {
				b, _ := json.Marshal(substitute(t, st.Request.Body, vars))
				body = bytes.NewReader(b)
			}
			req, err := http.NewRequest(st.Request.Method, srv.URL+path, body)
			if err != nil {
				t.Fatal(err)
			}
			tok := "admin-token"
			if st.Request.Token != nil {
				tok = substitute(t, *st.Request.Token, vars).(string)
			}
			if tok != "" {
				req.Header.Set("Authorization", "Bearer "+tok)
			}
			if body != nil {
				req.Header.Set("Content-Type", "application/json")
			}
			if st.Request.Host != "" {
				req.Host = st.Request.Host
			}
			do := hc.Do
			if st.InvalidRequest {
				do = lenient.Do
			}
			resp, err := do(req)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			rb, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var got any
			if len(rb) > 0 {
				if err := json.Unmarshal(rb, &got); err != nil {
					t.Fatalf("%s: %v: %s", name, err, rb)
				}
			}
			var diff error
			if resp.StatusCode != st.Status {
				diff = fmt.Errorf("status %d, want %d: %s", resp.StatusCode, st.Status, rb)
			} else if st.Response != nil {
				if err := match("", substitute(t, st.Response, vars), got); err != nil {
					diff = fmt.Errorf("%v\nanswer: %s", err, rb)
				}
			}
			switch {
			case diff != nil && (outcomes == nil || st.Setup):
				t.Fatalf("%s: %v", name, diff)
			case diff != nil:
				t.Errorf("%s: %v", name, diff)
			}
			if outcomes != nil && !st.Setup {
				op, declared := operation(t, req.Method, path, resp.StatusCode)
				*outcomes = append(*outcomes, outcome{op: op, matched: diff == nil, declared: declared})
			}
			for v, p := range st.Capture {
				if val, ok := lookup(got, p); ok {
					vars[v], _ = json.Marshal(val)
				} else if diff == nil {
					t.Fatalf("%s: nothing at %s to capture", name, p)
				}
			}
		}
	}
}

// operation names the openapi.yaml operation of a request ("GET
// /groups/{groupId}") and reports whether it declares the status itself.
func operation(t *testing.T, method, path string, status int) (string, bool) {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	route, _, err := documentRouter(t).FindRoute(req)
	if err != nil {
		return method + " " + path + " (not in openapi.yaml)", false
	}
	return method + " " + route.Path, route.Operation.Responses.Value(strconv.Itoa(status)) != nil
}

var (
	routerOnce sync.Once
	router     routers.Router
	routerErr  error
)

func documentRouter(t *testing.T) routers.Router {
	routerOnce.Do(func() {
		doc, err := retool.OpenAPI()
		if err != nil {
			routerErr = err
			return
		}
		router, routerErr = gorillamux.NewRouter(doc)
	})
	if routerErr != nil {
		t.Fatal(routerErr)
	}
	return router
}

// minMatched is the share of the recorded interactions of every operation
// that must be answered as recorded.
const minMatched = 0.95

// TestReplayRecordings replays the interactions terraform-provider-retool
// recorded against a real instance (testdata/recorded: one fixture per
// recording, written from it) and reports, per operation, how many the
// emulator answers as recorded (go test -v -run TestReplayRecordings).
// Every answer must conform to openapi.yaml with a status the operation
// declares.
func TestReplayRecordings(t *testing.T) {
	files, err := filepath.Glob("testdata/recorded/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	var outcomes []outcome
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			replayFile(t, file, &outcomes)
		})
	}
	type figure struct{ total, matched, undeclared int }
	per := map[string]*figure{}
	var all figure
	for _, o := range outcomes {
		f := per[o.op]
		if f == nil {
			f = &figure{}
			per[o.op] = f
		}
		for _, g := range []*figure{f, &all} {
			g.total++
			if o.matched {
				g.matched++
			}
			if !o.declared {
				g.undeclared++
			}
		}
	}
	var report strings.Builder
	fmt.Fprintf(&report, "replayed recorded interactions, answered as recorded (per operation):\n")
	for _, op := range sortedOps(per) {
		f := per[op]
		fmt.Fprintf(&report, "  %-55s %3d/%-3d %5.1f%%", op, f.matched, f.total, 100*float64(f.matched)/float64(f.total))
		if f.undeclared > 0 {
			fmt.Fprintf(&report, "  %d answer(s) with a status the operation does not declare", f.undeclared)
		}
		report.WriteString("\n")
		if float64(f.matched) < minMatched*float64(f.total) {
			t.Errorf("%s: %d of %d interactions answered as recorded, want at least %.0f%%", op, f.matched, f.total, 100*minMatched)
		}
		if f.undeclared > 0 {
			t.Errorf("%s: %d answers outside Retool's document (a status it does not declare)", op, f.undeclared)
		}
	}
	fmt.Fprintf(&report, "  %-55s %3d/%-3d %5.1f%%\n", "all", all.matched, all.total, 100*float64(all.matched)/float64(all.total))
	t.Log(report.String())
}

func sortedOps[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

package retool_test

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/governor-dev/governor/internal/platform/retool"
)

// flatten records the required fields of every object in s by path (".data[].members[]").
func flatten(s *openapi3.SchemaRef, path string, out map[string][]string) {
	if s == nil || s.Value == nil {
		return
	}
	v := s.Value
	if len(v.Required) > 0 {
		p := path
		if p == "" {
			p = "."
		}
		out[p] = slices.Sorted(slices.Values(v.Required))
	}
	for name, prop := range v.Properties {
		flatten(prop, path+"."+name, out)
	}
	flatten(v.Items, path+"[]", out)
	for comb, list := range map[string]openapi3.SchemaRefs{"anyOf": v.AnyOf, "oneOf": v.OneOf, "allOf": v.AllOf} {
		for i, sub := range list {
			flatten(sub, fmt.Sprintf("%s|%s%d", path, comb, i), out)
		}
	}
}

// TestAgreesWithUpstream holds openapi.yaml to Retool's own document (API
// 2.12.0): each operation exists upstream, and every request body and answer
// requires the fields Retool's requires. testdata/upstream-required.json is
// those required fields, extracted from upstream's openAPISpec.json.
func TestAgreesWithUpstream(t *testing.T) {
	raw, err := os.ReadFile("testdata/upstream-required.json")
	if err != nil {
		t.Fatal(err)
	}
	var upstream map[string]map[string]map[string][]string
	if err := json.Unmarshal(raw, &upstream); err != nil {
		t.Fatal(err)
	}
	doc, err := retool.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	if doc.Info.Version != "2.12.0" || len(doc.Servers) != 1 || doc.Servers[0].URL != "/api/v2" {
		t.Errorf("info.version %s, servers %v; want 2.12.0 and /api/v2", doc.Info.Version, doc.Servers)
	}
	seen := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			key := method + " " + path
			up, ok := upstream[key]
			if !ok {
				t.Errorf("%s is not an operation of Retool's API 2.12.0", key)
				continue
			}
			seen++
			for part, want := range up {
				var schema *openapi3.SchemaRef
				if part == "request" {
					if op.RequestBody == nil {
						t.Errorf("%s: no request body; upstream has one", key)
						continue
					}
					schema = op.RequestBody.Value.Content.Get("application/json").Schema
				} else {
					r := op.Responses.Value(part)
					if r == nil || r.Value.Content.Get("application/json") == nil {
						t.Errorf("%s: no %s answer; upstream has one", key, part)
						continue
					}
					schema = r.Value.Content.Get("application/json").Schema
				}
				got := map[string][]string{}
				flatten(schema, "", got)
				for p, req := range want {
					if !slices.Equal(got[p], req) {
						t.Errorf("%s %s at %s: requires %v, upstream %v", key, part, p, got[p], req)
					}
				}
				for p := range got {
					if _, ok := want[p]; !ok {
						t.Errorf("%s %s at %s: requires %v, upstream nothing", key, part, p, got[p])
					}
				}
			}
		}
	}
	if seen != len(upstream) {
		t.Errorf("openapi.yaml has %d operations, the extract %d", seen, len(upstream))
	}
}

package retool_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/governor-dev/governor/internal/platform/retool"
	"github.com/governor-dev/governor/internal/platform/retool/retooltest"
)

// An access list as Retool answers it: a group granted directly, a group
// with a universal level, a user through a group and a user inheriting a
// folder's grant.
const accessListAnswer = `{"success":true,"data":{
 "group":[
  {"subject":{"id":"7","type":"group"},"sources":{"direct":true},"accessLevel":"edit"},
  {"subject":{"id":"4","type":"group"},"sources":{"universal":true},"accessLevel":"use"}],
 "user":[
  {"subject":{"id":"user_a1","type":"user"},"sources":{"groups":[{"id":"7","type":"group"}]},"accessLevel":"edit"},
  {"subject":{"id":"user_b2","type":"user"},"sources":{"inherited":{"id":"app_12","type":"folder"}},"accessLevel":"own"}]}}`

func TestAccessList(t *testing.T) {
	var gotPath string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath = r.URL.EscapedPath()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(accessListAnswer))
	}))
	t.Cleanup(srv.Close)
	c, err := retool.New(retool.Options{URL: srv.URL, Token: "t", RequestsPerMinute: -1,
		HTTPClient: &http.Client{Transport: retooltest.ValidatingTransport(t, nil)}})
	if err != nil {
		t.Fatal(err)
	}
	const app = "5f0c3b8e-9a1d-4c7e-8b2a-0d6e4f1a2b3c"
	got, err := c.AccessList(context.Background(), retool.ObjectApp, app)
	if err != nil {
		t.Fatal(err)
	}
	if want := "/api/v2/permissions/accessList/app/" + app; gotPath != want {
		t.Errorf("path = %s, want %s", gotPath, want)
	}
	want := retool.AccessList{
		Group: []retool.AccessListEntry{
			{Subject: retool.Subject{ID: "7", Type: retool.SubjectGroup}, Sources: &retool.AccessSources{Direct: true}, AccessLevel: retool.AccessEdit},
			{Subject: retool.Subject{ID: "4", Type: retool.SubjectGroup}, Sources: &retool.AccessSources{Universal: true}, AccessLevel: retool.AccessUse},
		},
		User: []retool.AccessListEntry{
			{Subject: retool.Subject{ID: "user_a1", Type: retool.SubjectUser},
				Sources:     &retool.AccessSources{Groups: []retool.Subject{{ID: "7", Type: retool.SubjectGroup}}},
				AccessLevel: retool.AccessEdit},
			{Subject: retool.Subject{ID: "user_b2", Type: retool.SubjectUser},
				Sources:     &retool.AccessSources{Inherited: &retool.ObjectRef{Type: retool.ObjectFolder, ID: "app_12"}},
				AccessLevel: retool.AccessOwn},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("AccessList = %+v\nwant %+v", got, want)
	}
}

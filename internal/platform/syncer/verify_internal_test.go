package syncer

import (
	"testing"

	"github.com/governor-dev/governor/internal/platform"
	"github.com/governor-dev/governor/internal/platform/retool"
)

func TestAccessListRequest(t *testing.T) {
	if got := accessListID(platform.InstanceObject{Type: platform.ObjectFolder, ID: "app_12"}); got != "12" {
		t.Errorf("a folder is asked for by its number: %q", got)
	}
	if got := accessListID(platform.InstanceObject{Type: platform.ObjectApp, ID: "5f0c3b8e-9a1d"}); got != "5f0c3b8e-9a1d" {
		t.Errorf("an app by its uuid: %q", got)
	}
	src := accessSource(&retool.AccessSources{Groups: []retool.Subject{{ID: "7", Type: retool.SubjectGroup}, {ID: "99", Type: retool.SubjectGroup}},
		Inherited: &retool.ObjectRef{Type: retool.ObjectFolder, ID: "app_12"}},
		map[string]string{"7": "Finance"}, map[string]string{"app_12": `app folder "finance"`})
	if got := src.String(); got != `group Finance, #99; inherited from app folder "finance"` {
		t.Errorf("source = %q", got)
	}
	if got := accessSource(nil, nil, nil).String(); got != "no access" {
		t.Errorf("no sources = %q", got)
	}
}

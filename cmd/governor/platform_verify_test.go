package main

import (
	"testing"

	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/platform"
	"github.com/governor-dev/governor/internal/platform/retool"
)

func TestVerifySelectsObjects(t *testing.T) {
	objects := []platform.InstanceObject{
		{Type: platform.ObjectFolder, Kind: access.App, ID: "app_7", Name: "finance"},
		{Type: platform.ObjectFolder, Kind: access.Workflow, ID: "workflow_9", Name: "finance"},
		{Type: platform.ObjectApp, Kind: access.App, ID: "u1", Name: "payouts", Folder: "finance"},
		{Type: platform.ObjectResource, Kind: access.Resource, ID: "r1", Name: "payouts"},
	}
	var only []access.Target
	for _, s := range []string{"workflowfolder/finance", "app/payouts"} {
		tg, err := access.ParseTarget(s)
		if err != nil {
			t.Fatal(err)
		}
		only = append(only, tg)
	}
	got := selectObjects(objects, only)
	if len(got) != 2 || got[0].ID != "workflow_9" || got[1].ID != "u1" {
		t.Errorf("selected %+v", got)
	}
	if _, ok := verifyObjectType(access.Target{Type: access.TargetQueryLibrary}); ok {
		t.Error("the query library has no access list")
	}
}

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

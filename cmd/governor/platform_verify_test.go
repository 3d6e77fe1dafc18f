package main

import (
	"testing"

	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/platform"
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

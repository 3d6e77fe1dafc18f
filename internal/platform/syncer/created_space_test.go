package syncer_test

import (
	"context"
	"strings"
	"testing"

	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/platform"
	"github.com/governor-dev/governor/internal/platform/retool"
	"github.com/governor-dev/governor/internal/platform/syncer"
)

// TestPassSpaceGovernorCreated: Retool's All Users and default groups are
// never lowered in Additive mode, unless Governor created the Space they
// came with; then they are Governor's from birth and set to the model.
func TestPassSpaceGovernorCreated(t *testing.T) {
	in := access.SpaceInput{Name: "payments", Environments: []access.Environment{{Name: "development"}},
		Groups: []access.Group{
			{Name: "all-users", Builtin: access.AllUsers, Universal: access.Universal{QueryLibrary: access.Use}},
			{Name: "viewer", Builtin: access.Viewer, Members: []access.Member{{Email: "bob@example.com"}}},
		}}
	snap, problems := access.Compile(in)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	for name, tc := range map[string]struct {
		created bool
		// allUsers is All Users' universal app level after the pass; drift
		// counts what the pass reports the instance grants above the model.
		allUsers string
		drift    int
		viewer   []string
	}{
		"adopted: nothing lowered, reported":    {created: false, allUsers: "edit", drift: 5, viewer: []string{"root@example.com", "bob@example.com"}},
		"created by Governor: set to the model": {created: true, allUsers: "none", drift: 0, viewer: []string{"bob@example.com"}},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			all := f.groupNamed("All Users")
			// As the recorded instance's All Users was.
			all.UniversalAppAccess, all.UniversalResourceAccess, all.UniversalWorkflowAccess, all.UniversalQueryLibraryAccess = "edit", "own", "edit", "edit"
			all.AccountDetailsAccess = true
			viewer := f.groupNamed("viewer")
			viewer.UniversalAppAccess = "use"
			viewer.Members = append(viewer.Members, retool.GroupMember{ID: "user_root", Email: "root@example.com"}) // added by hand
			rec := syncer.NewRecorded()
			rec.SpaceCreated = tc.created
			res := syncer.Pass(context.Background(), f, syncer.Input{Model: snap, Environment: platform.Environment{Name: "development"},
				Mode: platform.Additive, Recorded: rec, Memory: syncer.NewMemory(), GrantReads: -1, Apply: true})
			if res.Err != nil || !res.Complete {
				t.Fatalf("pass: %v", res.Err)
			}
			if got := f.groupNamed("All Users").UniversalAppAccess; got != tc.allUsers {
				t.Errorf("All Users' universal app level %s, want %s", got, tc.allUsers)
			}
			drift := 0
			for _, d := range res.Plan.Drift {
				if strings.HasPrefix(d, `group "All Users": `) {
					drift++
				}
			}
			if drift != tc.drift {
				t.Errorf("All Users drift %d, want %d: %q", drift, tc.drift, res.Plan.Drift)
			}
			var members []string
			for _, m := range f.groupNamed("viewer").Members {
				members = append(members, m.Email)
			}
			if strings.Join(members, ",") != strings.Join(tc.viewer, ",") {
				t.Errorf("viewer's members %v, want %v (a member added by hand stays only where Governor did not create the group)", members, tc.viewer)
			}
		})
	}
}

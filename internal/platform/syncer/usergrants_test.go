package syncer_test

import (
	"context"
	"strings"
	"testing"

	"github.com/governor-dev/governor/internal/platform"
	"github.com/governor-dev/governor/internal/platform/retool"
	"github.com/governor-dev/governor/internal/platform/syncer"
)

// withUserGrants is the fake with every user in All Users (as Retool lists
// it) and two grants made to users behind Governor's back: alice owns the
// ledger app, bob edits the app folder "misc".
func withUserGrants() *fake {
	f := newFake()
	all := f.groupNamed("All Users")
	for _, u := range f.users {
		all.Members = append(all.Members, retool.GroupMember{ID: u.ID, Email: u.Email})
	}
	root := "app_root"
	f.folders = append(f.folders, retool.Folder{ID: "app_9", Name: "misc", ParentFolderID: &root, FolderType: "app"})
	f.userGrants["user_alice"] = map[retool.ObjectRef]string{{Type: "app", ID: "app-ledger"}: "own"}
	f.userGrants["user_bob"] = map[retool.ObjectRef]string{{Type: "folder", ID: "app_9"}: "edit"}
	return f
}

func userPass(t *testing.T, f *fake, mode platform.Mode, reads int, rec *syncer.Recorded, mem *syncer.Memory) syncer.Result {
	t.Helper()
	return syncer.Pass(context.Background(), f, syncer.Input{Model: model(t, true), Environment: platform.Environment{Name: "development"}, Mode: mode,
		Recorded: rec.Clone(), Memory: mem, GrantReads: -1, UserGrantReads: reads, Apply: true,
		Recorder: syncer.RecorderFunc(func(e syncer.Effect) { rec.Apply(e) })})
}

func userDrift(p platform.Plan) []string {
	var out []string
	for _, d := range p.Drift {
		if strings.HasPrefix(d, "user ") {
			out = append(out, d)
		}
	}
	return out
}

func TestPassUserGrants(t *testing.T) {
	aliceDrift := `user alice@example.com: own on app "ledger" (app/app-ledger), granted to the user, not to a group; declared nowhere (only Authoritative mode revokes it)`
	bobDrift := `user bob@example.com: edit on app folder "misc" (folder/app_9), granted to the user, not to a group; declared nowhere (only Authoritative mode revokes it)`
	for name, tc := range map[string]struct {
		mode  platform.Mode
		reads int
		// drift is the first pass's drift about users; revokes its revocations.
		drift   []string
		revokes int
		reads1  int // ListObjectsOf calls of the first pass
	}{
		"Additive reports them as drift":     {mode: platform.Additive, reads: -1, drift: []string{aliceDrift, bobDrift}, reads1: 6},
		"Authoritative revokes them":         {mode: platform.Authoritative, reads: -1, revokes: 2, reads1: 6},
		"no reads, nothing known, none said": {mode: platform.Authoritative, reads: 0, reads1: 0},
		"one user a pass":                    {mode: platform.Additive, reads: 1, drift: []string{aliceDrift}, reads1: 2},
	} {
		t.Run(name, func(t *testing.T) {
			f := withUserGrants()
			rec, mem := syncer.NewRecorded(), syncer.NewMemory()
			res := userPass(t, f, tc.mode, tc.reads, &rec, mem)
			if res.Err != nil || !res.Complete {
				t.Fatalf("pass: complete %v, %v", res.Complete, res.Err)
			}
			if got := userDrift(res.Plan); strings.Join(got, "\n") != strings.Join(tc.drift, "\n") {
				t.Errorf("drift about users:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.drift, "\n"))
			}
			if f.counts["ListObjectsOf"] != tc.reads1 {
				t.Errorf("%d reads of users' grants, want %d (two per user read)", f.counts["ListObjectsOf"], tc.reads1)
			}
			if f.counts["RevokeFrom"] != tc.revokes {
				t.Errorf("%d revocations of users' grants, want %d", f.counts["RevokeFrom"], tc.revokes)
			}
			left := len(f.userGrants["user_alice"]) + len(f.userGrants["user_bob"])
			if want := 2 - tc.revokes; left != want {
				t.Errorf("%d users' grants left in the instance, want %d", left, want)
			}
			if tc.revokes > 0 {
				// Revoked and forgotten: the next pass neither revokes nor reports them.
				res = userPass(t, f, tc.mode, 0, &rec, mem)
				if res.Err != nil || len(userDrift(res.Plan)) > 0 || f.counts["RevokeFrom"] != tc.revokes {
					t.Errorf("after revoking: err %v, drift %v, %d revocations", res.Err, userDrift(res.Plan), f.counts["RevokeFrom"])
				}
			}
		})
	}
}

// TestPassUserGrantsInTurn: within a budget of one user a pass, every
// user's grants are read in turn, the known ones reported meanwhile, and a
// grant made later is found on the user's next turn.
func TestPassUserGrantsInTurn(t *testing.T) {
	f := withUserGrants()
	rec, mem := syncer.NewRecorded(), syncer.NewMemory()
	var drift []string
	for i := 0; i < 3; i++ { // alice, bob, root
		res := userPass(t, f, platform.Additive, 1, &rec, mem)
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		drift = userDrift(res.Plan)
	}
	if len(drift) != 2 || f.counts["ListObjectsOf"] != 6 {
		t.Fatalf("after three passes: drift %v, %d reads; want both grants known, six reads", drift, f.counts["ListObjectsOf"])
	}
	f.userGrants["user_root"] = map[retool.ObjectRef]string{{Type: "app", ID: "app-ledger"}: "use"}
	for i := 0; i < 3; i++ { // alice, bob, root again
		res := userPass(t, f, platform.Additive, 1, &rec, mem)
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		drift = userDrift(res.Plan)
	}
	if len(drift) != 3 || !strings.Contains(drift[2], "user root@example.com: use on app") {
		t.Errorf("the grant made later is found on root's turn: %v", drift)
	}
}

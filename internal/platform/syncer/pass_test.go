package syncer_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/platform"
	"github.com/governor-dev/governor/internal/platform/retool"
	"github.com/governor-dev/governor/internal/platform/syncer"
)

// model compiles the Space the tests sync: two custom groups (one with a
// group admin), a folder rule on a path to create, an app and a resource
// rule. Without groups it is the same Space with everything deleted.
func model(t *testing.T, withGroups bool) *access.Snapshot {
	t.Helper()
	in := access.SpaceInput{Name: "payments", Environments: []access.Environment{{Name: "development"}}}
	if withGroups {
		in.Groups = []access.Group{
			{Name: "finance", DisplayName: "Finance", Members: []access.Member{{Email: "alice@example.com", GroupAdmin: true}, {Email: "bob@example.com"}}},
			{Name: "audit", Members: []access.Member{{Email: "root@example.com"}}},
		}
		in.Rules = []access.Rule{
			{Name: "reports", Group: "finance", Level: access.Edit, Targets: []access.RuleTarget{{Kind: access.App, Folder: true, Name: "finance/reports"}}},
			{Name: "ledger", Group: "finance", Level: access.Own, Targets: []access.RuleTarget{{Kind: access.App, Name: "ledger"}, {Kind: access.Resource, Name: "ledger-db"}}},
			{Name: "audit-ledger", Group: "audit", Level: access.Use, Targets: []access.RuleTarget{{Kind: access.App, Name: "ledger"}}},
		}
	}
	snap, problems := access.Compile(in)
	if len(problems) > 0 {
		t.Fatalf("compile: %v", problems)
	}
	return snap
}

// runPass is one controller-like pass: what is recorded is kept in rec.
func runPass(ctx context.Context, inst syncer.Instance, snap *access.Snapshot, rec *syncer.Recorded, mem *syncer.Memory) syncer.Result {
	return syncer.Pass(ctx, inst, syncer.Input{Model: snap, Environment: platform.Environment{Name: "development"}, Mode: platform.Additive,
		Recorded: rec.Clone(), Memory: mem, GrantReads: -1, Apply: true, Recorder: syncer.RecorderFunc(func(e syncer.Effect) { rec.Apply(e) })})
}

// custom lists the instance's groups other than Retool's defaults, with
// their grants.
func custom(f *fake) []string {
	var out []string
	for _, g := range f.groups {
		if !platform.IsBuiltinGroupName(g.Name) {
			out = append(out, fmt.Sprintf("%s:%d grants", g.Name, len(f.grants[g.ID])))
		}
	}
	return out
}

// converge runs passes until one completes with nothing left to write.
func converge(t *testing.T, f *fake, snap *access.Snapshot, rec *syncer.Recorded, mem *syncer.Memory) {
	t.Helper()
	for i := 0; i < 5; i++ {
		res := runPass(context.Background(), f, snap, rec, mem)
		if res.Err != nil {
			t.Fatalf("pass %d: %v", i, res.Err)
		}
		if res.Complete && res.Writes == 0 {
			return
		}
	}
	t.Fatal("no convergence in 5 passes")
}

// cleanedUp asserts that, once every group and rule is deleted (Additive),
// the instance holds nothing Governor created: what it made was recorded.
func cleanedUp(t *testing.T, f *fake, rec *syncer.Recorded) {
	t.Helper()
	f.fault = nil
	converge(t, f, model(t, false), rec, syncer.NewMemory())
	if left := custom(f); len(left) > 0 {
		t.Errorf("after deleting every group, the instance still holds %v (recorded: %+v)", left, *rec)
	}
}

func TestPassConvergesAndRecords(t *testing.T) {
	f := newFake()
	rec := syncer.NewRecorded()
	res := runPass(context.Background(), f, model(t, true), &rec, syncer.NewMemory())
	if res.Err != nil || !res.Complete {
		t.Fatalf("first pass: complete %v, %v", res.Complete, res.Err)
	}
	finance, audit := f.groupNamed("Finance"), f.groupNamed("audit")
	if finance == nil || audit == nil {
		t.Fatalf("groups %v", custom(f))
	}
	if rec.GroupIDs["finance"] != finance.ID || !rec.CreatedGroups[finance.ID] || !rec.CreatedGroups[audit.ID] {
		t.Errorf("recorded %+v, want finance=%d and both groups created", rec.Ownership, finance.ID)
	}
	if len(rec.CreatedGrants) != 4 || len(rec.Folders) != 2 || len(rec.PendingCreates) != 0 {
		t.Errorf("recorded grants %v, folders %v, pending %v; want 4 grants, 2 folders, none pending", rec.CreatedGrants, rec.Folders, rec.PendingCreates)
	}
	writes := f.writes()
	res = runPass(context.Background(), f, model(t, true), &rec, syncer.NewMemory())
	if res.Err != nil || !res.Complete || f.writes() != writes {
		t.Errorf("second pass wrote %d calls (err %v)", f.writes()-writes, res.Err)
	}
	cleanedUp(t, f, &rec)
}

func TestPassPlanOnlyWritesNothing(t *testing.T) {
	f := newFake()
	rec := syncer.NewRecorded()
	res := syncer.Pass(context.Background(), f, syncer.Input{Model: model(t, true), Environment: platform.Environment{Name: "development"},
		Recorded: rec, GrantReads: -1, Recorder: syncer.RecorderFunc(func(e syncer.Effect) { rec.Apply(e) })})
	if res.Err != nil || res.Plan.Writes() == 0 {
		t.Fatalf("plan: %d calls, %v", res.Plan.Writes(), res.Err)
	}
	if f.writes() != 0 || res.Writes != 0 || len(rec.CreatedGroups) != 0 {
		t.Errorf("a pass with apply off wrote %d calls, recorded %v", f.writes(), rec.CreatedGroups)
	}
}

// A failure in the middle of a plan: what was done before it is recorded,
// the next pass goes on, and nothing Governor made is orphaned.
func TestPassPartialFailure(t *testing.T) {
	f := newFake()
	f.fault = func(call string, n int) (error, bool) {
		if call == "Grant" && n == 2 {
			return &retool.APIError{Status: 500, Method: "POST", Path: "/api/v2/permissions/grant", Message: "boom"}, false
		}
		return nil, false
	}
	rec := syncer.NewRecorded()
	res := runPass(context.Background(), f, model(t, true), &rec, syncer.NewMemory())
	if res.Err == nil || res.Complete {
		t.Fatal("the pass went through a failing call")
	}
	if res.Err.Kind != syncer.Transient || res.Err.Reason != syncer.ReasonPlatformError || !strings.Contains(res.Err.Error(), "call 6 of 8, POST /permissions/grant") {
		t.Errorf("error %v (%s/%s), want a transient PlatformError naming the call", res.Err, res.Err.Kind, res.Err.Reason)
	}
	if len(rec.CreatedGroups) != 2 || len(rec.CreatedGrants) != 1 {
		t.Errorf("recorded %d groups, %d grants; want the 2 groups and the 1 grant made before the failure", len(rec.CreatedGroups), len(rec.CreatedGrants))
	}
	cleanedUp(t, f, &rec)
}

// A 429 at each step: the pass waits for the time Retool asked, says what
// it was doing, and what it did before is recorded.
func TestPassRateLimitedAtEachStep(t *testing.T) {
	steps := []string{"ListGroups", "ListFolders", "ListApps", "ListResources", "GetSourceControlSettings", "ListObjects",
		"CreateFolder", "CreateGroup", "AddGroupMembers", "Grant"}
	for _, call := range steps {
		t.Run(call, func(t *testing.T) {
			f := newFake()
			rec := syncer.NewRecorded()
			if call == "AddGroupMembers" || call == "ListObjects" {
				// Groups that exist already: their members and grants are read and added.
				converge(t, f, model(t, true), &rec, syncer.NewMemory())
				f.group(rec.GroupIDs["finance"]).Members = nil
			}
			f.fault = func(c string, _ int) (error, bool) {
				if c == call {
					return &retool.APIError{Status: 429, Method: "GET", Path: "/api/v2/x", Message: "slow down", RetryAfter: 7 * time.Second}, false
				}
				return nil, false
			}
			res := runPass(context.Background(), f, model(t, true), &rec, syncer.NewMemory())
			if res.Err == nil {
				t.Fatal("no error")
			}
			if res.Err.Kind != syncer.Waiting || res.Err.Reason != syncer.ReasonRateLimited || res.Err.RequeueAfter != 7*time.Second {
				t.Errorf("%v: kind %s reason %s after %s; want Waiting RateLimited after 7s", res.Err, res.Err.Kind, res.Err.Reason, res.Err.RequeueAfter)
			}
			var ae *retool.APIError
			if !errors.As(res.Err, &ae) {
				t.Errorf("the cause is lost: %v", res.Err)
			}
			cleanedUp(t, f, &rec)
		})
	}
}

// A group Governor recorded that the instance no longer has (deleted in
// Retool's UI, an instance restored from a backup) is reported gone and
// created again.
func TestPassRecreatesWhatIsGone(t *testing.T) {
	f := newFake()
	rec := syncer.NewRecorded()
	converge(t, f, model(t, true), &rec, syncer.NewMemory())
	old := rec.GroupIDs["finance"]
	f.groups = f.groups[:len(f.groups)-2] // both custom groups gone
	var folders []retool.Folder
	for _, fo := range f.folders {
		if fo.IsSystemFolder {
			folders = append(folders, fo)
		}
	}
	f.folders = folders
	res := runPass(context.Background(), f, model(t, true), &rec, syncer.NewMemory())
	if res.Err != nil || !res.Complete {
		t.Fatalf("pass: %v", res.Err)
	}
	var gone []string
	for _, e := range res.Gone {
		gone = append(gone, e.String())
	}
	if len(res.Gone) != 4 || !strings.Contains(strings.Join(gone, ","), fmt.Sprint(old)) {
		t.Errorf("gone %v, want the 2 groups and 2 folders", gone)
	}
	now := f.groupNamed("Finance")
	if now == nil || now.ID == old || rec.GroupIDs["finance"] != now.ID || !rec.CreatedGroups[now.ID] || rec.CreatedGroups[old] {
		t.Errorf("finance re-created as %v; recorded %+v", now, rec.Ownership)
	}
	if len(f.grants[now.ID]) != 3 {
		t.Errorf("re-created finance holds %v", f.grants[now.ID])
	}
	cleanedUp(t, f, &rec)
}

// A pass cut short (its time bound, the operator stopped) keeps what it
// recorded; a create whose answer was lost is adopted as Governor's.
func TestPassCutShort(t *testing.T) {
	for _, tc := range []struct {
		name string
		at   string
		n    int
		lost bool
	}{
		{"between calls", "Grant", 3, false},
		{"a create's answer lost", "CreateGroup", 2, true},
		{"a folder's answer lost", "CreateFolder", 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			f.fault = func(call string, n int) (error, bool) {
				if call == tc.at && n == tc.n {
					cancel()
					return fmt.Errorf("retool POST /x: %w", context.DeadlineExceeded), tc.lost
				}
				return nil, false
			}
			rec := syncer.NewRecorded()
			res := runPass(ctx, f, model(t, true), &rec, syncer.NewMemory())
			if res.Err == nil || res.Complete {
				t.Fatal("a cut pass completed")
			}
			if tc.at == "CreateGroup" && len(rec.PendingCreates) != 1 {
				t.Errorf("pending creates %v, want the group whose answer was lost", rec.PendingCreates)
			}
			cleanedUp(t, f, &rec)
		})
	}
}

func TestClassify(t *testing.T) {
	for name, tc := range map[string]struct {
		err    error
		kind   syncer.Kind
		reason string
	}{
		"401":                  {&retool.APIError{Status: 401}, syncer.Stalling, syncer.ReasonUnauthorized},
		"403":                  {fmt.Errorf("x: %w", &retool.APIError{Status: 403}), syncer.Stalling, syncer.ReasonForbidden},
		"429":                  {&retool.APIError{Status: 429}, syncer.Waiting, syncer.ReasonRateLimited},
		"500":                  {&retool.APIError{Status: 500}, syncer.Transient, syncer.ReasonPlatformError},
		"refused":              {&net.OpError{Op: "dial", Err: errors.New("connection refused")}, syncer.Waiting, syncer.ReasonUnreachable},
		"deadline":             {context.DeadlineExceeded, syncer.Waiting, syncer.ReasonUnreachable},
		"unknown is transient": {errors.New("etcdserver: leader changed"), syncer.Transient, syncer.ReasonPlatformError},
		"a classified cause":   {fmt.Errorf("step: %w", syncer.Retry(syncer.ReasonAPIServerError, &net.OpError{Op: "dial"})), syncer.Transient, syncer.ReasonAPIServerError},
	} {
		t.Run(name, func(t *testing.T) {
			e := syncer.Classify(tc.err)
			if e.Kind != tc.kind || e.Reason != tc.reason {
				t.Errorf("%v: %s %s, want %s %s", tc.err, e.Kind, e.Reason, tc.kind, tc.reason)
			}
			if !errors.Is(e, tc.err) && !errors.Is(tc.err, e) {
				t.Errorf("the cause is not in the chain")
			}
			if e.Kind == syncer.Waiting && e.RequeueAfter <= 0 {
				t.Errorf("a waiting error without a requeue time")
			}
		})
	}
}

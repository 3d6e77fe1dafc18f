package syncer_test

import (
	"context"
	"slices"
	"testing"

	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/platform"
	"github.com/governor-dev/governor/internal/platform/retool"
	"github.com/governor-dev/governor/internal/platform/syncer"
)

// TestObserveModeAppliesNothing: in Observe mode a pass with Apply on reads
// the instance and plans what Additive would do (the same calls), makes no
// call that writes, and records no effect but the groups it matched; the
// next Additive pass then makes exactly the calls shown.
func TestObserveModeAppliesNothing(t *testing.T) {
	for name, tc := range map[string]struct {
		// prepare brings the instance and the record to the state observed.
		prepare func(t *testing.T, f *fake, rec *syncer.Recorded)
		model   func(t *testing.T) *access.Snapshot
		env     platform.Environment
		// want are calls the plan must hold.
		want []platform.OpKind
	}{
		"an instance run by hand: groups, folders and grants to create": {
			prepare: func(*testing.T, *fake, *syncer.Recorded) {},
			model:   func(t *testing.T) *access.Snapshot { return model(t, true) },
			env:     platform.Environment{Name: "development"},
			want:    []platform.OpKind{platform.OpCreateFolder, platform.OpCreateGroup, platform.OpGrant},
		},
		"a read-only environment: the lock": {
			prepare: func(*testing.T, *fake, *syncer.Recorded) {},
			model:   func(t *testing.T) *access.Snapshot { return model(t, false) },
			env:     platform.Environment{Name: "development", ReadOnly: true},
			want:    []platform.OpKind{platform.OpSetLock},
		},
		"changes by hand to groups Governor created: revoke and remove": {
			prepare: func(t *testing.T, f *fake, rec *syncer.Recorded) {
				converge(t, f, model(t, true), rec, syncer.NewMemory())
				finance := f.groupNamed("Finance")
				f.grants[finance.ID][retool.ObjectRef{Type: "app", ID: "app-scratch"}] = "own"
				f.apps = append(f.apps, retool.App{ID: "app-scratch", Name: "scratch"})
				finance.Members = append(finance.Members, retool.GroupMember{ID: "user_root", Email: "root@example.com"})
				f.groups = append(f.groups, retool.Group{ID: 999, Name: "ops"})
			},
			model: func(t *testing.T) *access.Snapshot { return model(t, true) },
			env:   platform.Environment{Name: "development"},
			want:  []platform.OpKind{platform.OpRemoveMember, platform.OpRevoke},
		},
		"every group and rule deleted: Governor's groups to delete": {
			prepare: func(t *testing.T, f *fake, rec *syncer.Recorded) {
				converge(t, f, model(t, true), rec, syncer.NewMemory())
			},
			model: func(t *testing.T) *access.Snapshot { return model(t, false) },
			env:   platform.Environment{Name: "development"},
			want:  []platform.OpKind{platform.OpDeleteGroup},
		},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake()
			rec := syncer.NewRecorded()
			tc.prepare(t, f, &rec)
			before := len(f.calls)
			writesBefore := f.writes()
			groupsBefore := slices.Clone(f.groups)
			recordedBefore := rec.Clone()
			var effects []syncer.Effect
			snap := tc.model(t)
			res := syncer.Pass(context.Background(), f, syncer.Input{Model: snap, Environment: tc.env, Mode: platform.Observe,
				Recorded: rec.Clone(), GrantReads: -1, Apply: true,
				Recorder: syncer.RecorderFunc(func(e syncer.Effect) { effects = append(effects, e); rec.Apply(e) })})
			if res.Err != nil {
				t.Fatalf("observe pass: %v", res.Err)
			}
			if f.writes() != writesBefore || res.Writes != 0 || res.Complete {
				t.Errorf("Observe wrote %d call(s) (%v), result writes %d, complete %v", f.writes()-writesBefore, f.calls[before:], res.Writes, res.Complete)
			}
			if len(f.calls) == before {
				t.Error("Observe read nothing")
			}
			if !slices.EqualFunc(f.groups, groupsBefore, func(a, b retool.Group) bool { return a.ID == b.ID && len(a.Members) == len(b.Members) }) {
				t.Errorf("the instance's groups changed: %v", f.groups)
			}
			for _, e := range effects {
				if e.Kind != syncer.GroupMatched {
					t.Errorf("Observe recorded %s (%s); only matched groups may be", e.Kind, e)
				}
			}
			if len(rec.CreatedGroups) != len(recordedBefore.CreatedGroups) || len(rec.CreatedGrants) != len(recordedBefore.CreatedGrants) ||
				len(rec.PendingCreates) != 0 {
				t.Errorf("recorded %+v, was %+v", rec, recordedBefore)
			}
			kinds := map[platform.OpKind]bool{}
			for _, op := range res.Plan.Ops {
				kinds[op.Kind] = true
			}
			for _, k := range tc.want {
				if !kinds[k] {
					t.Errorf("the plan has no %s call: %v", k, res.Plan.Ops)
				}
			}

			// The plan shown is the plan Additive makes.
			additive := syncer.Pass(context.Background(), f, syncer.Input{Model: snap, Environment: tc.env, Mode: platform.Additive,
				Recorded: rec.Clone(), GrantReads: -1, Apply: true, Recorder: syncer.RecorderFunc(func(e syncer.Effect) { rec.Apply(e) })})
			if additive.Err != nil || !additive.Complete {
				t.Fatalf("additive pass: complete %v, %v", additive.Complete, additive.Err)
			}
			if got, want := opTexts(additive.Plan), opTexts(res.Plan); !slices.Equal(got, want) {
				t.Errorf("Additive made\n%v\nObserve showed\n%v", got, want)
			}
			if f.writes()-writesBefore != len(res.Plan.Ops) {
				t.Errorf("Additive wrote %d call(s), Observe showed %d", f.writes()-writesBefore, len(res.Plan.Ops))
			}
			again := syncer.Pass(context.Background(), f, syncer.Input{Model: snap, Environment: tc.env, Mode: platform.Observe,
				Recorded: rec.Clone(), GrantReads: -1, Apply: true})
			if again.Err != nil || again.Plan.Writes() != 0 {
				t.Errorf("after Additive, Observe still plans %v (%v)", opTexts(again.Plan), again.Err)
			}
		})
	}
}

func opTexts(p platform.Plan) []string {
	out := make([]string, len(p.Ops))
	for i, op := range p.Ops {
		out[i] = op.String()
	}
	return out
}

// Package syncer runs one environment's pass of the platform sync:
// Project (the compiled access model into what the instance should hold),
// Observe (what it holds, within the request budget), Plan (internal/platform)
// and Apply, through the Instance interface that the Retool API client
// implements. Every effect is reported through a Recorder the moment the
// instance confirms it, so that what Governor created is known however a
// pass ends. The controller, `governor platform plan` (apply off) and
// checks call the same Pass.
package syncer

import (
	"context"
	"fmt"
	"maps"
	"strings"

	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/platform"
	"github.com/governor-dev/governor/internal/platform/retool"
)

// EffectKind is what an effect did.
type EffectKind string

// The effects a pass reports.
const (
	// CreatePending: a group's create is about to be sent; if its answer is
	// lost, the next pass adopts a group of that name as created.
	CreatePending EffectKind = "CreatePending"
	// PendingResolved: a pending create was found (adopted) or found never
	// to have happened.
	PendingResolved EffectKind = "PendingResolved"
	GroupCreated    EffectKind = "GroupCreated"
	// GroupMatched: a declared group is the instance's group GroupID
	// (adopted by name, or the recorded one).
	GroupMatched  EffectKind = "GroupMatched"
	GroupDeleted  EffectKind = "GroupDeleted"
	GrantMade     EffectKind = "GrantMade"
	GrantRevoked  EffectKind = "GrantRevoked"
	FolderCreated EffectKind = "FolderCreated"
	// Gone: a recorded group or folder the instance no longer lists; it is
	// forgotten, and re-created when still declared.
	Gone EffectKind = "Gone"
	// SSOWritten: the SSO configuration was written with the secrets of
	// SSODigest; SSODeleted: it was removed.
	SSOWritten EffectKind = "SSOWritten"
	SSODeleted EffectKind = "SSODeleted"
)

// Effect is one thing a pass learnt or did to the instance.
type Effect struct {
	Kind EffectKind
	// Group is the PermissionGroup; GroupName the group's name in the
	// instance; GroupID its id.
	Group     string
	GroupName string
	GroupID   int64
	// Object is a grant's object, or the folder created or gone.
	Object platform.ObjectRef
	// Folder is a folder's type/path.
	Folder string
	Rule   string
	// SSODigest is the digest of the secrets an SSOWritten sent.
	SSODigest string
}

func (e Effect) String() string {
	switch {
	case e.Kind == SSOWritten || e.Kind == SSODeleted:
		return "the SSO configuration"
	case e.Folder != "":
		return fmt.Sprintf("folder %s (%s)", e.Folder, e.Object.ID)
	case e.Object.ID != "":
		return fmt.Sprintf("group %d: grant on %s", e.GroupID, e.Object)
	}
	return fmt.Sprintf("group %q (%d)", e.GroupName, e.GroupID)
}

// Recorder keeps the effects of passes (the controller persists them).
type Recorder interface{ Record(Effect) }

// RecorderFunc is a Recorder.
type RecorderFunc func(Effect)

// Record calls f.
func (f RecorderFunc) Record(e Effect) { f(e) }

// Recorded is what earlier passes recorded of an instance: hints, checked
// against the instance's listings every pass.
type Recorded struct {
	platform.Ownership
	// Folders maps folders Governor created (type/path) to their ids.
	Folders map[string]string
	// PendingCreates holds the instance names of groups whose create was
	// sent and not confirmed.
	PendingCreates map[string]bool
	// SpaceCreated is set when Governor created the Space in the instance:
	// Retool's default groups (All Users, admin, editor, viewer) came with
	// it, so they are Governor's as if it had created them, and setting them
	// to the model takes nothing from anyone.
	SpaceCreated bool
}

// Input is everything a pass needs that is decided elsewhere.
type Input struct {
	// Model is the Space's compiled access model; Environment and Source
	// are what the projection reads.
	Model       *access.Snapshot
	Environment platform.Environment
	Source      *platform.SpaceSource
	// Mode and InviteMissingMembers shape the plan; in platform.Observe
	// the pass plans (as Additive) and never applies, whatever Apply says.
	Mode                 platform.Mode
	InviteMissingMembers bool
	Recorded             Recorded
	// Credentials of the source control provider; without them the
	// instance's source control configuration is left as it is.
	Credentials Credentials
	// SSO is the identity provider's connection with its secrets (the
	// Space's, or inherited), nil when none is declared: the instance's SSO
	// configuration is then left as it is (removed in Authoritative mode,
	// or when Governor wrote it).
	SSO *retool.SSOConfig
	// Memory carries grant reads between passes (nil: none).
	Memory *Memory
	// GrantReads bounds the groups whose grants are read (negative: all).
	GrantReads int
	// UserGrantReads bounds the users whose direct grants are read
	// (negative: all; zero: none, only what Memory knows is reported).
	UserGrantReads int
	// Apply runs the plan; off, or in Observe mode, the pass only plans.
	Apply bool
	// Recorder receives the effects (nil: none kept).
	Recorder Recorder
	// Progress, when set, is told what the pass is doing.
	Progress func(step string)
}

// Result is what a pass saw, planned and did.
type Result struct {
	Desired  platform.Desired
	Observed platform.Observed
	Plan     platform.Plan
	// Notes are things the user should know that are not failures.
	Notes []string
	// Gone names the recorded objects the instance no longer has.
	Gone []Effect
	// Writes counts the calls made; Complete is set when the whole plan ran.
	Writes   int
	Complete bool
	// GroupIDs maps PermissionGroups to their ids in the instance, those
	// created by this pass included.
	GroupIDs map[string]int64
	// Err is why the pass stopped (an *Error), nil when it ran to its end.
	Err *Error
}

// Pass runs one environment's pass: Project, Observe, Plan and, with
// in.Apply and outside Observe mode, Apply. It stops at the first failure;
// what it did up to there has been recorded, and the next pass goes on from
// what the instance then holds.
func Pass(ctx context.Context, inst Instance, in Input) Result {
	var res Result
	rec := in.Recorder
	if rec == nil {
		rec = RecorderFunc(func(Effect) {})
	}
	mem := in.Memory
	if mem == nil {
		mem = NewMemory()
	}
	progress := in.Progress
	if progress == nil {
		progress = func(string) {}
	}

	desired, err := platform.Project(in.Model, in.Environment, in.Source)
	if err != nil {
		res.Err = Stalled(ReasonInvalid, "projecting the access model", err)
		return res
	}
	if desired.SourceControl != nil && len(in.Credentials) == 0 {
		// Retool configures source control only with the provider's
		// credentials: without them the instance's configuration is left alone.
		desired.SourceControl = nil
		res.Notes = append(res.Notes, "sourceControl: no provider credentials (personal_access_token, or app_id, installation_id and private_key, ...) in the Space's credentialsSecretRef: the instance's source control is left as it is")
	}
	if in.SSO != nil {
		platform.ProjectSSO(in.Model, &desired, *in.SSO)
	}
	res.Desired = desired

	progress("observing the instance")
	readSSO := in.Mode == platform.Authoritative || in.Recorded.SSODigest != ""
	observed, err := Observe(ctx, inst, desired, mem, ObserveOptions{GrantReads: in.GrantReads, UserGrantReads: in.UserGrantReads, Progress: progress, ReadSSO: readSSO})
	if err != nil {
		res.Err = step("observing the instance", err)
		return res
	}
	res.Observed = observed

	ownership := verify(desired, observed, in.Recorded, rec, &res, mem)
	plan := platform.NewPlan(desired, observed, platform.Options{Mode: in.Mode, InviteMissingMembers: in.InviteMissingMembers, Ownership: ownership})
	plan.Pending = append(plan.Pending, res.Notes...)
	res.Plan = plan
	res.GroupIDs = maps.Clone(plan.GroupIDs)
	for name, id := range plan.GroupIDs {
		rec.Record(Effect{Kind: GroupMatched, Group: name, GroupID: id})
	}
	progress(fmt.Sprintf("planned %d call(s)", plan.Writes()))
	if !in.Apply || in.Mode == platform.Observe {
		// The one place Observe mode is decided for the instance's Space:
		// the plan is reported, and no call of it is made.
		return res
	}

	a := &applier{c: inst, read: inst, rec: rec, mem: mem, creds: in.Credentials, sso: in.SSO, tree: platform.NewFolderIndex(observed.Folders),
		folders: map[string]string{}, groupIDs: res.GroupIDs}
	for i, op := range plan.Ops {
		if err := ctx.Err(); err != nil {
			res.Err = step(fmt.Sprintf("after %d of %d calls", i, len(plan.Ops)), err)
			return res
		}
		if err := a.apply(ctx, op); err != nil {
			res.Err = step(fmt.Sprintf("call %d of %d, %s", i+1, len(plan.Ops), strings.Join(strings.Fields(op.String()), " ")), err)
			return res
		}
		res.Writes++
		if res.Writes%25 == 0 {
			progress(fmt.Sprintf("%d of %d calls made", res.Writes, len(plan.Ops)))
		}
	}
	res.Complete = true
	return res
}

// step classifies err and says, in its cause, what the pass was doing (the
// message, what to do about it, stays as it is).
func step(doing string, err error) *Error {
	e := *Classify(err)
	if e.Err == nil {
		e.Err = err
	}
	e.Err = fmt.Errorf("%s: %w", doing, e.Err)
	return &e
}

// verify checks what was recorded against what the instance lists: a
// recorded group or folder it no longer has is reported gone (and planned
// anew, when declared); a pending create whose group the instance lists is
// adopted as created. It returns the ownership the plan may trust.
func verify(d platform.Desired, o platform.Observed, rec Recorded, out Recorder, res *Result, mem *Memory) platform.Ownership {
	own := platform.Ownership{GroupIDs: map[string]int64{}, CreatedGroups: map[int64]bool{}, CreatedGrants: map[string]bool{}, SSODigest: rec.SSODigest}
	listed := make(map[int64]bool, len(o.Groups))
	byName := map[string]int64{}
	for _, g := range o.Groups {
		listed[g.ID] = true
		if _, dup := byName[g.Name]; !dup {
			byName[g.Name] = g.ID
		}
	}
	mem.retain(listed)
	for name, id := range rec.GroupIDs {
		if !listed[id] {
			e := Effect{Kind: Gone, Group: name, GroupName: name, GroupID: id}
			res.Gone = append(res.Gone, e)
			out.Record(e)
			continue
		}
		own.GroupIDs[name] = id
	}
	for id := range rec.CreatedGroups {
		if listed[id] {
			own.CreatedGroups[id] = true
		}
	}
	if rec.SpaceCreated {
		for _, g := range o.Groups {
			if platform.IsBuiltinGroupName(g.Name) {
				own.CreatedGroups[g.ID] = true
			}
		}
	}
	for g := range rec.CreatedGrants {
		var id int64
		if _, err := fmt.Sscanf(g, "%d/", &id); err == nil && listed[id] {
			own.CreatedGrants[g] = true
		}
	}
	for name := range rec.PendingCreates {
		id, ok := byName[name]
		if ok && !own.CreatedGroups[id] {
			for _, dg := range d.Groups {
				if dg.PlatformName == name {
					own.GroupIDs[dg.Name] = id
					own.CreatedGroups[id] = true
					out.Record(Effect{Kind: GroupCreated, Group: dg.Name, GroupName: name, GroupID: id})
					break
				}
			}
			if !own.CreatedGroups[id] {
				// No longer declared: still Governor's, so that it is deleted.
				own.CreatedGroups[id] = true
				out.Record(Effect{Kind: GroupCreated, GroupName: name, GroupID: id})
			}
		}
		out.Record(Effect{Kind: PendingResolved, GroupName: name})
	}
	if o.Folders != nil {
		folders := make(map[string]bool, len(o.Folders))
		for _, f := range o.Folders {
			folders[f.ID] = true
		}
		for path, id := range rec.Folders {
			if !folders[id] {
				e := Effect{Kind: Gone, Folder: path, Object: platform.ObjectRef{Type: platform.ObjectFolder, ID: id}}
				res.Gone = append(res.Gone, e)
				out.Record(e)
			}
		}
	}
	return own
}

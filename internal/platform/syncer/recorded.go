package syncer

import (
	"maps"
	"slices"
	"strings"

	"github.com/governor-dev/governor/internal/platform"
)

// NewRecorded returns an empty record.
func NewRecorded() Recorded {
	return Recorded{Ownership: platform.Ownership{GroupIDs: map[string]int64{}, CreatedGroups: map[int64]bool{}, CreatedGrants: map[string]bool{}},
		Folders: map[string]string{}, PendingCreates: map[string]bool{}}
}

// Clone returns a deep copy.
func (r Recorded) Clone() Recorded {
	out := NewRecorded()
	out.SpaceCreated = r.SpaceCreated
	maps.Copy(out.GroupIDs, r.GroupIDs)
	maps.Copy(out.CreatedGroups, r.CreatedGroups)
	maps.Copy(out.CreatedGrants, r.CreatedGrants)
	maps.Copy(out.Folders, r.Folders)
	maps.Copy(out.PendingCreates, r.PendingCreates)
	out.SSODigest = r.SSODigest
	return out
}

// Apply folds an effect into the record and reports whether it changed.
func (r *Recorded) Apply(e Effect) bool {
	if r.GroupIDs == nil {
		*r = NewRecorded().merge(*r)
	}
	switch e.Kind {
	case CreatePending:
		return set(r.PendingCreates, e.GroupName, true)
	case PendingResolved:
		return del(r.PendingCreates, e.GroupName)
	case GroupCreated:
		changed := set(r.CreatedGroups, e.GroupID, true)
		if e.Group != "" {
			changed = set(r.GroupIDs, e.Group, e.GroupID) || changed
		}
		return del(r.PendingCreates, e.GroupName) || changed
	case GroupMatched:
		return set(r.GroupIDs, e.Group, e.GroupID)
	case GroupDeleted:
		return r.forgetGroup(e.GroupID)
	case GrantMade:
		return set(r.CreatedGrants, platform.GrantID(e.GroupID, e.Object), true)
	case GrantRevoked:
		return del(r.CreatedGrants, platform.GrantID(e.GroupID, e.Object))
	case FolderCreated:
		return set(r.Folders, e.Folder, e.Object.ID)
	case SSOWritten:
		changed := r.SSODigest != e.SSODigest
		r.SSODigest = e.SSODigest
		return changed
	case SSODeleted:
		changed := r.SSODigest != ""
		r.SSODigest = ""
		return changed
	case Gone:
		if e.Folder != "" {
			return del(r.Folders, e.Folder)
		}
		return r.forgetGroup(e.GroupID)
	}
	return false
}

// merge fills r's nil maps from other (used to initialise a zero record).
func (r Recorded) merge(other Recorded) Recorded {
	maps.Copy(r.GroupIDs, other.GroupIDs)
	maps.Copy(r.CreatedGroups, other.CreatedGroups)
	maps.Copy(r.CreatedGrants, other.CreatedGrants)
	maps.Copy(r.Folders, other.Folders)
	maps.Copy(r.PendingCreates, other.PendingCreates)
	r.SSODigest = other.SSODigest
	return r
}

func (r *Recorded) forgetGroup(id int64) bool {
	changed := del(r.CreatedGroups, id)
	for name, gid := range r.GroupIDs {
		if gid == id {
			delete(r.GroupIDs, name)
			changed = true
		}
	}
	prefix := platform.GrantID(id, platform.ObjectRef{})
	prefix = prefix[:strings.IndexByte(prefix, '/')+1]
	for g := range r.CreatedGrants {
		if strings.HasPrefix(g, prefix) {
			delete(r.CreatedGrants, g)
			changed = true
		}
	}
	return changed
}

// CreatedList returns what Governor created, sorted: groups by id, then grants.
func (r Recorded) CreatedList() ([]int64, []string) {
	groups := slices.Sorted(maps.Keys(r.CreatedGroups))
	grants := slices.Sorted(maps.Keys(r.CreatedGrants))
	return groups, grants
}

func set[K comparable, V comparable](m map[K]V, k K, v V) bool {
	if old, ok := m[k]; ok && old == v {
		return false
	}
	m[k] = v
	return true
}

func del[K comparable, V any](m map[K]V, k K) bool {
	if _, ok := m[k]; !ok {
		return false
	}
	delete(m, k)
	return true
}

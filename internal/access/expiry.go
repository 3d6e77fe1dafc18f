package access

import (
	"slices"
	"sort"
	"sync"
	"time"
)

// Time-bound access: a member (Member.Expires) or a rule (Rule.Expires)
// is in the model before its instant and out of it from that instant on. A
// snapshot is compiled for one instant (SpaceInput.At); NextExpiry says
// when the next entry in it ends, which is when the caller must compile
// again (the model controller requeues at exactly that instant), and AsOf
// answers for another instant.

// Expiry is a member's or a rule's end.
type Expiry struct {
	// Kind is PermissionGroup (a member) or AccessRule (the rule).
	Kind string `json:"kind"`
	// Name is the group's or the rule's name.
	Name string `json:"name"`
	// Email is the member's email (PermissionGroup).
	Email   string    `json:"email,omitempty"`
	Expires time.Time `json:"expires"`
}

// expiryState is what a snapshot knows of its entries' expiries.
type expiryState struct {
	at time.Time
	// next is the earliest expiry after at of the entries in the model.
	next time.Time
	// expired are the entries left out because they ended at or before at.
	expired []Expiry
	// active are the entries in the model that have an expiry.
	active []Expiry
	// rules: rule name -> its expiry, for the rules in the model that have one.
	rules map[string]time.Time
	// bounds are every distinct expiry of the input, sorted: between two
	// bounds the model is the same.
	bounds []time.Time
	// input is kept, when it has expiries, so that AsOf can compile it for
	// another instant; cache holds those compiles by interval.
	input *SpaceInput
	cache *asOfCache
}

type asOfCache struct {
	mu    sync.Mutex
	snaps map[int]*Snapshot
	order []int // oldest first
}

// asOfCacheLen bounds the other instants' snapshots a snapshot keeps.
const asOfCacheLen = 4

// admit records an entry's expiry and reports whether it is in the model at at.
func (e *expiryState) admit(at time.Time, x Expiry) bool {
	if x.Expires.IsZero() {
		return true
	}
	e.bounds = append(e.bounds, x.Expires)
	if !at.Before(x.Expires) {
		e.expired = append(e.expired, x)
		return false
	}
	e.active = append(e.active, x)
	if e.next.IsZero() || x.Expires.Before(e.next) {
		e.next = x.Expires
	}
	if x.Kind == "AccessRule" {
		if e.rules == nil {
			e.rules = map[string]time.Time{}
		}
		e.rules[x.Name] = x.Expires
	}
	return true
}

// finish sorts what admit gathered and keeps the input for AsOf.
func (e *expiryState) finish(in SpaceInput) {
	e.at = in.At
	if len(e.bounds) == 0 {
		return
	}
	slices.SortFunc(e.bounds, func(a, b time.Time) int { return a.Compare(b) })
	e.bounds = slices.CompactFunc(e.bounds, func(a, b time.Time) bool { return a.Equal(b) })
	sortExpiries(e.expired)
	sortExpiries(e.active)
	e.input = &in
	e.cache = &asOfCache{snaps: map[int]*Snapshot{}}
}

func sortExpiries(x []Expiry) {
	sort.Slice(x, func(i, j int) bool {
		a, b := x[i], x[j]
		if !a.Expires.Equal(b.Expires) {
			return a.Expires.Before(b.Expires)
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Email < b.Email
	})
}

func (e *expiryState) sortedRules() []string {
	names := make([]string, 0, len(e.rules))
	for n := range e.rules {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// interval is the index of the stretch of time between two bounds that t is
// in: every instant of one interval has the same model.
func (e *expiryState) interval(t time.Time) int {
	return sort.Search(len(e.bounds), func(i int) bool { return t.Before(e.bounds[i]) })
}

// At is the instant the snapshot answers for.
func (s *Snapshot) At() time.Time { return s.expiry.at }

// NextExpiry is when the first member or rule of the model ends (the zero
// time when none has an expiry): from then on the snapshot is out of date.
func (s *Snapshot) NextExpiry() time.Time { return s.expiry.next }

// Expired lists the members and rules left out because they ended at or
// before At, soonest first.
func (s *Snapshot) Expired() []Expiry { return slices.Clone(s.expiry.expired) }

// Expiring lists the members and rules of the model that end before
// At+within, soonest first.
func (s *Snapshot) Expiring(within time.Duration) []Expiry {
	end := s.expiry.at.Add(within)
	var out []Expiry
	for _, x := range s.expiry.active {
		if !x.Expires.Before(end) {
			break
		}
		out = append(out, x)
	}
	return out
}

// memberExpires is when email's listing in group g ends (zero: never, or
// not listed).
func (s *Snapshot) memberExpires(g int32, email string) time.Time {
	members := s.groups[g].members
	i := sort.Search(len(members), func(i int) bool { return members[i].Email >= email })
	var end time.Time
	for ; i < len(members) && members[i].Email == email; i++ {
		if members[i].Expires.IsZero() {
			return time.Time{}
		}
		end = later(end, members[i].Expires)
	}
	return end
}

// ruleExpires is when the rule ends (zero: never).
func (s *Snapshot) ruleExpires(rule string) time.Time { return s.expiry.rules[rule] }

// later is the later of two expiries.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// sooner is the sooner of two expiries, where the zero time is never.
func sooner(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}

// AsOf is the model as it is at instant t: the members and rules whose
// expiry is after t. Without expiries, or when t has the same entries as
// At, it is s itself; otherwise the input is compiled for t (and the result
// kept for the next questions about that stretch of time). Its problems are
// s's, so they are not returned again.
func (s *Snapshot) AsOf(t time.Time) *Snapshot {
	e := &s.expiry
	if e.input == nil {
		return s
	}
	i := e.interval(t)
	if i == e.interval(e.at) {
		return s
	}
	e.cache.mu.Lock()
	defer e.cache.mu.Unlock()
	if snap, ok := e.cache.snaps[i]; ok {
		return snap
	}
	in := *e.input
	in.At = t
	snap, _ := Compile(in)
	if len(e.cache.order) == asOfCacheLen {
		delete(e.cache.snaps, e.cache.order[0])
		e.cache.order = e.cache.order[1:]
	}
	e.cache.snaps[i] = snap
	e.cache.order = append(e.cache.order, i)
	return snap
}

// membershipEnds is when the user stops being in group g (zero: not
// before the model changes otherwise): their listing in g ends, and they are
// not in g through an IdP group. For AllUsers, when their last listing in
// the Space ends, unless an IdP group or JIT admits them too.
func (s *Snapshot) membershipEnds(email string, idpGroups []string, g int32) time.Time {
	if s.expiry.input == nil {
		return time.Time{}
	}
	for _, idp := range idpGroups {
		if g == s.allUsers && len(s.byIdP[idp]) > 0 {
			return time.Time{}
		}
		if slices.Contains(s.byIdP[idp], g) {
			return time.Time{}
		}
	}
	if g != s.allUsers {
		return s.memberExpires(g, email)
	}
	if s.jitAdmits(email) {
		return time.Time{}
	}
	var end time.Time
	for _, lg := range s.byEmail[email] {
		x := s.memberExpires(lg, email)
		if x.IsZero() {
			return time.Time{}
		}
		end = later(end, x)
	}
	return end
}

// accessEnds is when the access that group g gives the user through source
// src ends: their membership in g, or the deciding rule (zero: neither has
// an expiry).
func (s *Snapshot) accessEnds(email string, idpGroups []string, g int32, src Source) time.Time {
	if s.expiry.input == nil || g < 0 {
		return time.Time{}
	}
	end := s.membershipEnds(email, idpGroups, g)
	if src.Rule != "" {
		end = sooner(end, s.ruleExpires(src.Rule))
	}
	return end
}

package controller

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/revision"
)

// ObjectRef names a PermissionGroup or AccessRule inside a Space's namespace.
type ObjectRef struct {
	Kind string // PermissionGroup or AccessRule
	Name string
}

// Model is one Space's compiled access model, as every replica keeps it.
type Model struct {
	Space     string
	Namespace string
	Snapshot  *access.Snapshot
	// SpaceGeneration is the Space's generation the model was compiled from.
	SpaceGeneration int64
	// Generations are the compiled objects' generations: an object whose
	// generation differs is not in this model yet.
	Generations map[ObjectRef]int64
	// Problems are what kept objects (or parts of them) out of the model.
	Problems map[ObjectRef][]access.Problem
	// fingerprint identifies the input, to skip compiles that change nothing.
	fingerprint string
	// Position is where the model stands in its inputs' history (see
	// package revision); ordered is false when a resourceVersion was not a
	// number, and the model then has no ordered token.
	Position revision.Position
	ordered  bool
}

// Token is the model's revision for atLeastRevision: the content hash and,
// when ordered, the position ("this state or any later one").
func (m *Model) Token() string {
	return revision.Token{Hash: m.Snapshot.Revision(), Ordered: m.ordered, Position: m.Position}.String()
}

// ModelChange tells subscribers what a compile changed.
type ModelChange struct {
	Space     string
	Namespace string
	// Objects whose compiled generation or problems changed.
	Objects []ObjectRef
}

// Models holds the live access model of every Space. It is safe for
// concurrent use: checks read it while the model controller replaces entries.
type Models struct {
	mu          sync.RWMutex
	bySpace     map[string]*Model
	refused     map[string]Refusal  // Spaces that have no model, and why
	history     map[string][]string // recent revisions per Space, oldest first
	subscribers map[*subscriber]struct{}
	// observed is, per Space, the position of the input events the model
	// controller's watches delivered (deletions included: they leave no
	// object behind to read a resourceVersion from).
	observed map[string]revision.Position
	// unordered marks Spaces with an input whose resourceVersion is not a number.
	unordered map[string]bool
	// pendingSince is when the oldest event not yet compiled arrived, per Space.
	pendingSince map[string]time.Time
	// compiled marks the Spaces compiled (or found to have no model) since start.
	compiled map[string]bool
	// inflow counts each Space's input events, to tell a bulk load (bulk.go).
	inflow map[string]*inflow
	// lastCompile is each Space's last compile, to space them in a bulk load.
	lastCompile map[string]compileTiming
	// Clock is the time the models answer for: members and rules that have
	// ended by its Now are out of them (nil: the real clock). Set it before
	// the controllers start.
	Clock clock.PassiveClock
}

// now is the instant the models answer for.
func (m *Models) now() time.Time {
	if m.Clock == nil {
		return time.Now()
	}
	return m.Clock.Now()
}

// historyLen bounds how many past revisions of a Space are remembered.
const historyLen = 64

type subscriber struct {
	queue   workqueue.TypedRateLimitingInterface[reconcile.Request]
	request func(ModelChange) []reconcile.Request
}

// NewModels returns an empty registry.
func NewModels() *Models {
	return &Models{
		bySpace: map[string]*Model{}, refused: map[string]Refusal{}, history: map[string][]string{}, subscribers: map[*subscriber]struct{}{},
		observed: map[string]revision.Position{}, unordered: map[string]bool{},
		pendingSince: map[string]time.Time{}, compiled: map[string]bool{},
		inflow: map[string]*inflow{}, lastCompile: map[string]compileTiming{},
	}
}

// Refusal is why a Space has no model: it does not own its namespace, or it
// is over a limit.
type Refusal struct {
	Reason  string
	Message string
}

// RefusedBecause says why the Space has no model ("" when it was not
// refused), for the decision API's answers.
func (m *Models) RefusedBecause(space string) string {
	if r := m.Refused(space); r != nil {
		return r.Reason + ": " + r.Message
	}
	return ""
}

// Refused returns why the Space has no model, when the model controller
// refused to compile it (nil otherwise: compiled, not compiled yet, or gone).
func (m *Models) Refused(space string) *Refusal {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if r, ok := m.refused[space]; ok {
		return &r
	}
	return nil
}

// Get returns the Space's current model, or nil when it has none yet.
func (m *Models) Get(space string) *Model {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.bySpace[space]
}

// Snapshot returns the Space's live compiled snapshot, or nil.
func (m *Models) Snapshot(space string) *access.Snapshot {
	if model := m.Get(space); model != nil {
		return model.Snapshot
	}
	return nil
}

// Live returns the Space's live snapshot and its revision token, or nil.
func (m *Models) Live(space string) (*access.Snapshot, string) {
	if model := m.Get(space); model != nil {
		return model.Snapshot, model.Token()
	}
	return nil, ""
}

// Reached reports whether the Space's live model is at the revision or has
// moved past it. A plain content hash is matched exactly: the live model's
// or one this replica compiled before. An ordered token (package revision)
// is also reached by a model whose position is at or past the token's, so a
// replica that skipped that content or restarted since answers too. A
// malformed revision is never reached.
func (m *Models) Reached(space, rev string) bool {
	tok, err := revision.Parse(rev)
	if err != nil {
		return false
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	model := m.bySpace[space]
	if model == nil {
		return false
	}
	if model.Snapshot.Revision() == tok.Hash {
		return true
	}
	for _, r := range m.history[space] {
		if r == tok.Hash {
			return true
		}
	}
	return tok.Ordered && model.ordered && model.Position.AtLeast(tok.Position)
}

// observe records an input event of a Space's model (kind per package
// revision, rv its resourceVersion) as delivered by a watch: the Space has
// an event to compile from now on.
func (m *Models) observe(space string, kind int, rv string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.observed[space]
	if !p.Observe(kind, rv) && rv != "" {
		m.unordered[space] = true
	}
	m.observed[space] = p
	now := time.Now()
	if _, ok := m.pendingSince[space]; !ok {
		m.pendingSince[space] = now
	}
	f := m.inflow[space]
	if f == nil {
		f = &inflow{}
		m.inflow[space] = f
	}
	f.add(now)
}

// startCompile is called before a compile reads the cache: what was observed
// until now is in what it reads. It returns the observed position and
// whether every resourceVersion was a number, and the pending mark to put
// back should the compile fail.
func (m *Models) startCompile(space string) (revision.Position, bool, time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	since := m.pendingSince[space]
	delete(m.pendingSince, space)
	return m.observed[space], !m.unordered[space], since
}

// compileFailed puts a Space back among those with events to compile.
func (m *Models) compileFailed(space string, since time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if since.IsZero() {
		since = time.Now()
	}
	if cur, ok := m.pendingSince[space]; !ok || since.Before(cur) {
		m.pendingSince[space] = since
	}
}

// compiledOnce marks a Space compiled (or found to have no model) since start.
func (m *Models) compiledOnce(space string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.compiled[space] = true
}

// advance raises the live model's position without a new compile (its
// inputs' content did not change, their resourceVersions did).
func (m *Models) advance(space string, pos revision.Position, ordered bool) {
	m.mu.Lock()
	cur := m.bySpace[space]
	if cur == nil || (cur.Position.AtLeast(pos) && cur.ordered == ordered) {
		m.mu.Unlock()
		return
	}
	next := *cur
	next.Position = cur.Position.Max(pos)
	next.ordered = ordered
	m.bySpace[space] = &next
	subs := m.subscriberList()
	m.mu.Unlock()
	m.notify(subs, ModelChange{Space: space, Namespace: next.Namespace})
}

// Ready reports an error while a replica's models cannot be trusted to
// answer: a Space of spaces (those in the cache) not compiled since start,
// or one whose oldest uncompiled event is older than maxLag.
func (m *Models) Ready(spaces []string, maxLag time.Duration) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var notYet, lagging []string
	for _, s := range spaces {
		if !m.compiled[s] {
			notYet = append(notYet, s)
		}
	}
	now := time.Now()
	for s, since := range m.pendingSince {
		if maxLag > 0 && now.Sub(since) > maxLag {
			lagging = append(lagging, s)
		}
	}
	switch {
	case len(notYet) > 0:
		return fmt.Errorf("%d Space(s) not compiled since start: %s", len(notYet), listSome(notYet))
	case len(lagging) > 0:
		return fmt.Errorf("%d Space(s) with changes waiting more than %s to be compiled: %s", len(lagging), maxLag, listSome(lagging))
	}
	return nil
}

func listSome(names []string) string {
	sort.Strings(names)
	if len(names) > 5 {
		return strings.Join(names[:5], ", ") + ", ..."
	}
	return strings.Join(names, ", ")
}

// set replaces a Space's model and tells subscribers what changed.
func (m *Models) set(model *Model) {
	m.mu.Lock()
	prev := m.bySpace[model.Space]
	m.bySpace[model.Space] = model
	delete(m.refused, model.Space)
	if rev := model.Snapshot.Revision(); prev == nil || prev.Snapshot.Revision() != rev {
		h := append(m.history[model.Space], rev)
		if len(h) > historyLen {
			h = h[len(h)-historyLen:]
		}
		m.history[model.Space] = h
	}
	subs := m.subscriberList()
	m.mu.Unlock()
	m.notify(subs, ModelChange{Space: model.Space, Namespace: model.Namespace, Objects: changedObjects(prev, model)})
}

// drop removes a Space's model and sets (or clears) its refusal; subscribers
// hear of it when either changed, with every object the model held.
func (m *Models) drop(space string, why *Refusal) {
	m.mu.Lock()
	prev, had := m.bySpace[space]
	old, wasRefused := m.refused[space]
	delete(m.bySpace, space)
	delete(m.history, space)
	delete(m.observed, space)
	delete(m.unordered, space)
	delete(m.refused, space)
	delete(m.inflow, space)
	delete(m.lastCompile, space)
	if why != nil {
		m.refused[space] = *why
	}
	changed := had || (why != nil && (!wasRefused || old != *why)) || (why == nil && wasRefused)
	subs := m.subscriberList()
	m.mu.Unlock()
	if !changed {
		return
	}
	change := ModelChange{Space: space}
	if had {
		change.Namespace = prev.Namespace
		for ref := range prev.Generations {
			change.Objects = append(change.Objects, ref)
		}
	}
	m.notify(subs, change)
}

func (m *Models) subscriberList() []*subscriber {
	subs := make([]*subscriber, 0, len(m.subscribers))
	for s := range m.subscribers {
		subs = append(subs, s)
	}
	return subs
}

func (m *Models) notify(subs []*subscriber, change ModelChange) {
	for _, s := range subs {
		for _, req := range s.request(change) {
			s.queue.Add(req)
		}
	}
}

// Source is a controller source that enqueues, for every compile, the
// requests that request maps the change to. It only runs where its
// controller runs (on the leader), so followers queue nothing.
func (m *Models) Source(request func(ModelChange) []reconcile.Request) source.Source {
	return source.Func(func(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		s := &subscriber{queue: q, request: request}
		m.mu.Lock()
		m.subscribers[s] = struct{}{}
		m.mu.Unlock()
		go func() {
			<-ctx.Done()
			m.mu.Lock()
			delete(m.subscribers, s)
			m.mu.Unlock()
		}()
		return nil
	})
}

// changedObjects lists the objects whose compiled generation or problems differ
// between two models (all of them when there was no previous model).
func changedObjects(prev, next *Model) []ObjectRef {
	var out []ObjectRef
	seen := map[ObjectRef]struct{}{}
	for ref, gen := range next.Generations {
		seen[ref] = struct{}{}
		if prev == nil || prev.Generations[ref] != gen || !sameProblems(prev.Problems[ref], next.Problems[ref]) {
			out = append(out, ref)
		}
	}
	if prev != nil {
		for ref := range prev.Generations {
			if _, ok := seen[ref]; !ok {
				out = append(out, ref)
			}
		}
	}
	return out
}

func sameProblems(a, b []access.Problem) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

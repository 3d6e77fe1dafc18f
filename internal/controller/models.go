package controller

import (
	"context"
	"sync"
	"time"

	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/governor-dev/governor/internal/access"
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
	CompiledAt  time.Time
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
}

// historyLen bounds how many past revisions of a Space are remembered.
const historyLen = 64

type subscriber struct {
	queue   workqueue.TypedRateLimitingInterface[reconcile.Request]
	request func(ModelChange) []reconcile.Request
}

// NewModels returns an empty registry.
func NewModels() *Models {
	return &Models{bySpace: map[string]*Model{}, refused: map[string]Refusal{}, history: map[string][]string{}, subscribers: map[*subscriber]struct{}{}}
}

// Refusal is why a Space has no model: it does not own its namespace, or it
// is over a limit.
type Refusal struct {
	Reason  string
	Message string
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

// Reached reports whether the Space's live model is at revision or has moved
// past it. Revisions are content hashes, not ordered: a revision this replica
// has compiled before counts as passed; one it has never seen is still to come.
func (m *Models) Reached(space, revision string) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, r := range m.history[space] {
		if r == revision {
			return true
		}
	}
	return false
}

// Spaces lists the Spaces that have a model.
func (m *Models) Spaces() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]string, 0, len(m.bySpace))
	for s := range m.bySpace {
		out = append(out, s)
	}
	return out
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
	delete(m.refused, space)
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

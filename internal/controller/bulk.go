package controller

import (
	"context"
	"sync"
	"time"

	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
)

// A Space's objects can arrive in bulk: an Argo CD sync or a `kubectl apply`
// of a directory creates thousands of groups and rules in a minute. While
// they arrive, two parts of the operator's work would compete with that load
// for the API server and the operator's CPU, and gain nothing by it:
//
//   - compiling the whole Space after each event: during a bulk load a
//     Space's compiles are spaced by a few times the last one's duration, so
//     compiling takes a bounded share of a core and checks stay seconds
//     behind at most;
//   - writing each object's status as soon as it is compiled (each write
//     costs the API server about what the create it reports cost), and
//     creating the new groups' admin Roles and RoleBindings: both are held
//     until the Space's inputs quiet down, and then written at once (see
//     bulkHold). Changes to rights that exist, and revocations, never wait.
//
// A change at a human pace (a few objects a second) is never a bulk load,
// and nothing waits.
const (
	// bulkEventsPerSecond is the rate of a Space's input events (its own and
	// its groups' and rules' spec changes) from which they arrive in bulk.
	bulkEventsPerSecond = 100
	// bulkQuiet is how long after the last event a bulk load is over.
	bulkQuiet = time.Second
	// bulkCompileSpacing: during a bulk load a compile starts no sooner
	// than this many times the previous compile's duration after it ended.
	bulkCompileSpacing = 10
	// bulkMaxHold is the longest a request is held while a Space's inputs
	// keep arriving in bulk; then the held ones are handed back anyway.
	bulkMaxHold = 2 * time.Minute
)

// inflow counts a Space's input events per second of wall time.
type inflow struct {
	second int64 // the Unix second n counts
	n      int   // events in that second
	prev   int   // events in the second before it
	last   time.Time
}

func (f *inflow) add(now time.Time) {
	f.n, f.prev = f.counts(now)
	f.second = now.Unix()
	f.n++
	f.last = now
}

// counts are the events of now's second and of the one before it.
func (f *inflow) counts(now time.Time) (int, int) {
	switch s := now.Unix(); s {
	case f.second:
		return f.n, f.prev
	case f.second + 1:
		return 0, f.n
	default:
		return 0, 0
	}
}

// bulk reports whether the events arrive in bulk at now: at least
// bulkEventsPerSecond in this second or the last, and the last one less
// than bulkQuiet ago.
func (f *inflow) bulk(now time.Time) bool {
	if f == nil || now.Sub(f.last) >= bulkQuiet {
		return false
	}
	n, prev := f.counts(now)
	return max(n, prev) >= bulkEventsPerSecond
}

// compileTiming is when a Space's last compile ended and how long it took.
type compileTiming struct {
	ended time.Time
	took  time.Duration
}

// InBulk reports whether the Space's inputs are arriving in bulk.
func (m *Models) InBulk(space string) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.inflow[space].bulk(time.Now())
}

// compileWait is how long the Space's next compile waits: during a bulk
// load, until bulkCompileSpacing times the last compile's duration has
// passed since it ended; otherwise not at all. The caller looks again after
// at most bulkQuiet, so that the load's end is compiled at once.
func (m *Models) compileWait(space string) time.Duration {
	m.mu.RLock()
	defer m.mu.RUnlock()
	now := time.Now()
	last, ok := m.lastCompile[space]
	if !ok || !m.inflow[space].bulk(now) {
		return 0
	}
	return max(0, last.ended.Add(bulkCompileSpacing*last.took).Sub(now))
}

// compileTook records a compile of the Space (its duration, ending now).
func (m *Models) compileTook(space string, took time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lastCompile[space] = compileTiming{ended: time.Now(), took: took}
}

// bulkHold keeps a controller's requests for a Space's objects while the
// Space's inputs arrive in bulk, and hands them back to the controller's
// queue when the load is over (or has been held bulkMaxHold). Each object is
// then written once, with its final standing, after the load rather than
// during it.
type bulkHold struct {
	models *Models

	mu    sync.Mutex
	queue workqueue.TypedRateLimitingInterface[reconcile.Request]
	held  map[string]*heldReports // by Space
}

type heldReports struct {
	since time.Time
	reqs  map[reconcile.Request]struct{}
}

func newBulkHold(models *Models) *bulkHold {
	return &bulkHold{models: models, held: map[string]*heldReports{}}
}

// hold keeps req when the Space's inputs arrive in bulk, and says whether
// it did; the request comes back through the queue afterwards.
func (h *bulkHold) hold(space string, req reconcile.Request) bool {
	if space == "" || !h.models.InBulk(space) {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.queue == nil {
		return false // the controller has not started: nothing to hand back to
	}
	e := h.held[space]
	if e == nil {
		e = &heldReports{since: time.Now(), reqs: map[reconcile.Request]struct{}{}}
		h.held[space] = e
		time.AfterFunc(bulkQuiet/2, func() { h.release(space) })
	}
	e.reqs[req] = struct{}{}
	return true
}

// release hands the Space's held requests back to the queue once its bulk
// load is over, and looks again a little later while it is not.
func (h *bulkHold) release(space string) {
	h.mu.Lock()
	e := h.held[space]
	if e == nil {
		h.mu.Unlock()
		return
	}
	if h.models.InBulk(space) && time.Since(e.since) < bulkMaxHold {
		h.mu.Unlock()
		time.AfterFunc(bulkQuiet/2, func() { h.release(space) })
		return
	}
	delete(h.held, space)
	q := h.queue
	h.mu.Unlock()
	for req := range e.reqs {
		q.Add(req)
	}
}

// Source gives the hold its controller's queue; it enqueues nothing itself.
func (h *bulkHold) Source() source.Source {
	return source.Func(func(_ context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.queue = q
		return nil
	})
}

package controller

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

func TestInflowTellsABulkLoad(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	at := func(d time.Duration) time.Time { return t0.Add(d) }

	var f inflow
	if f.bulk(t0) {
		t.Fatal("no events: not a bulk load")
	}
	// A human pace: a handful of events a second is never a bulk load.
	for i := range 20 {
		f.add(at(time.Duration(i) * 50 * time.Millisecond))
	}
	if f.bulk(at(time.Second)) {
		t.Fatal("20 events a second: not a bulk load")
	}

	// bulkEventsPerSecond within one second is.
	var g inflow
	for i := range bulkEventsPerSecond {
		g.add(at(time.Duration(i) * time.Millisecond))
	}
	if !g.bulk(at(bulkEventsPerSecond * time.Millisecond)) {
		t.Fatalf("%d events in a tenth of a second: a bulk load", bulkEventsPerSecond)
	}
	// Early in the next second, the last second's count still tells it.
	g.add(at(time.Second + 10*time.Millisecond))
	if !g.bulk(at(time.Second + 20*time.Millisecond)) {
		t.Fatal("one event into the next second of a bulk load: still a bulk load")
	}
	// bulkQuiet after the last event it is over, whatever the counts.
	if g.bulk(at(time.Second + 10*time.Millisecond + bulkQuiet)) {
		t.Fatalf("%s without an event: the bulk load is over", bulkQuiet)
	}
	// Two seconds on, the old counts are forgotten.
	g.add(at(3 * time.Second))
	if g.bulk(at(3*time.Second + time.Millisecond)) {
		t.Fatal("one event after a pause: not a bulk load")
	}
}

func TestCompilesAreSpacedOnlyInABulkLoad(t *testing.T) {
	m := NewModels()
	m.compileTook("large", time.Hour)
	if w := m.compileWait("large"); w != 0 {
		t.Fatalf("without a bulk load a compile waits for nothing; waits %s", w)
	}
	for range bulkEventsPerSecond {
		m.observe("large", 0, "")
	}
	if w := m.compileWait("large"); w <= (bulkCompileSpacing*time.Hour)-time.Minute || w > bulkCompileSpacing*time.Hour {
		t.Fatalf("in a bulk load the next compile waits %d times the last one's duration; waits %s", bulkCompileSpacing, w)
	}
	if w := m.compileWait("small"); w != 0 {
		t.Fatalf("another Space's bulk load delays nothing here; waits %s", w)
	}
	m.drop("large", nil)
	if w := m.compileWait("large"); w != 0 {
		t.Fatalf("a dropped Space's counts are forgotten; waits %s", w)
	}
}

func TestBulkHoldReleasesAfterTheLoad(t *testing.T) {
	m := NewModels()
	h := newBulkHold(m)
	q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
	defer q.ShutDown()
	req := func(name string) reconcile.Request {
		return reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "large", Name: name}}
	}

	for range bulkEventsPerSecond {
		m.observe("large", 0, "")
	}
	if h.hold("large", req("a")) {
		t.Fatal("a hold whose controller has not started has no queue to hand back to: it must not hold")
	}
	if err := h.Source().Start(t.Context(), q); err != nil {
		t.Fatal(err)
	}
	if h.hold("small", req("x")) {
		t.Fatal("a Space with no bulk load: reports are not held")
	}
	for _, name := range []string{"a", "b", "a"} {
		if !h.hold("large", req(name)) {
			t.Fatalf("a Space in a bulk load: %s is held", name)
		}
	}
	if q.Len() != 0 {
		t.Fatalf("held reports stay out of the queue during the load; the queue holds %d", q.Len())
	}

	// No event for bulkQuiet: the load is over, and each held report comes back once.
	deadline := time.Now().Add(10 * bulkQuiet)
	for q.Len() < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	got := map[string]bool{}
	for q.Len() > 0 {
		r, _ := q.Get()
		got[r.Name] = true
		q.Done(r)
	}
	if len(got) != 2 || !got["a"] || !got["b"] {
		t.Fatalf("after the load the held reports come back once each: got %v", got)
	}
	if h.hold("large", req("c")) {
		t.Fatal("after the load nothing is held")
	}
}

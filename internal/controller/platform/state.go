package platform

import (
	"maps"
	"sync"
	"time"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/controller"
	"github.com/governor-dev/governor/internal/platform/syncer"
)

// spaceState is what this process knows of a Space's instances: each
// environment's last outcome, record and grant memory. Only passes of this
// process fill it: a status from before a restart is never taken as current.
type spaceState struct {
	mu       sync.Mutex
	results  map[string]outcome
	records  map[string]*envRecord
	memories map[string]*syncer.Memory
	// okSince is when each environment's last successful pass started;
	// failures counts its failed passes since.
	okSince  map[string]time.Time
	failures map[string]int
	// unreachableSince is when an environment's instance stopped answering.
	unreachableSince map[string]time.Time
	// reissue names environments whose child Space was created again: its
	// token must be issued again.
	reissue map[string]bool
	// effective is what the sync's slices of verify found, per environment.
	effective map[string]*effectiveDrift
	// publishMu serialises the Space's status writes; applied is the last
	// one (under publishMu).
	publishMu sync.Mutex
	applied   *applied
}

func (r *Reconciler) state(space string) *spaceState {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.spaces == nil {
		r.spaces = map[string]*spaceState{}
	}
	st := r.spaces[space]
	if st == nil {
		st = &spaceState{results: map[string]outcome{}, records: map[string]*envRecord{}, memories: map[string]*syncer.Memory{},
			okSince: map[string]time.Time{}, failures: map[string]int{}, unreachableSince: map[string]time.Time{}, reissue: map[string]bool{},
			effective: map[string]*effectiveDrift{}}
		r.spaces[space] = st
	}
	return st
}

func (r *Reconciler) forget(space string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.spaces, space)
}

func (st *spaceState) outcomes() map[string]outcome {
	st.mu.Lock()
	defer st.mu.Unlock()
	return maps.Clone(st.results)
}

func (st *spaceState) setOutcome(env string, o outcome, started time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.results[env] = o
	if o.err == nil {
		st.okSince[env], st.failures[env] = started, 0
		delete(st.unreachableSince, env)
		delete(st.reissue, env)
		return
	}
	st.failures[env]++
}

// record returns env's record (nil when no pass of this process touched it).
func (st *spaceState) record(env string) *envRecord {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.records[env]
}

func (st *spaceState) recordFor(env string) *envRecord {
	st.mu.Lock()
	defer st.mu.Unlock()
	rec := st.records[env]
	if rec == nil {
		rec = &envRecord{}
		st.records[env] = rec
	}
	return rec
}

func (st *spaceState) memory(env string) *syncer.Memory {
	st.mu.Lock()
	defer st.mu.Unlock()
	m := st.memories[env]
	if m == nil {
		m = syncer.NewMemory()
		st.memories[env] = m
	}
	return m
}

// dropEnvironments forgets environments the Space no longer has.
func (st *spaceState) dropEnvironments(keep []string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	want := map[string]bool{}
	for _, e := range keep {
		want[e] = true
	}
	for _, m := range []map[string]outcome{st.results} {
		for k := range m {
			if !want[k] {
				delete(m, k)
			}
		}
	}
}

// released reports whether an object deleted at deleted may let go: every
// environment had a successful pass start after it, or gave up after
// attempts failed passes (then the environments given up on are returned).
func (st *spaceState) released(envs []string, deleted time.Time, attempts int) (bool, []string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	var givenUp []string
	for _, env := range envs {
		if st.okSince[env].After(deleted) {
			continue
		}
		if st.failures[env] >= attempts {
			givenUp = append(givenUp, env)
			continue
		}
		return false, nil
	}
	return true, givenUp
}

func controllerEnvNames(space *governorv1alpha1.Space) []string {
	envs := controller.InstanceEnvironments(space)
	out := make([]string, 0, len(envs))
	for _, e := range envs {
		out = append(out, e.Name)
	}
	return out
}

// effectiveFor is what the slices of verify found in env's instance.
func (st *spaceState) effectiveFor(env string) *effectiveDrift {
	st.mu.Lock()
	defer st.mu.Unlock()
	d := st.effective[env]
	if d == nil {
		d = &effectiveDrift{}
		st.effective[env] = d
	}
	return d
}

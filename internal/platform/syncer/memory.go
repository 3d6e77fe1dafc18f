package syncer

import (
	"maps"
	"sync"

	"github.com/governor-dev/governor/internal/platform"
)

// Memory is what a syncer knows of one instance's Space between passes: the
// grants of each group and the direct grants of each user as last read or
// written, and where the periodic grant reads stopped. It is a cache: losing it costs reads, never
// correctness. It is safe for concurrent use.
type Memory struct {
	mu     sync.Mutex
	grants map[int64]map[platform.ObjectRef]string
	cursor int
	// users are users' direct grants by user id; userCursor is where the
	// reads of users' grants stopped.
	users      map[string]map[platform.ObjectRef]string
	userCursor int
}

// NewMemory returns an empty memory (a first pass reads everything it may).
func NewMemory() *Memory {
	return &Memory{grants: map[int64]map[platform.ObjectRef]string{}, users: map[string]map[platform.ObjectRef]string{}}
}

func (m *Memory) userKnown(id string) (map[platform.ObjectRef]string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	g, ok := m.users[id]
	return maps.Clone(g), ok
}

func (m *Memory) setUser(id string, grants map[platform.ObjectRef]string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.users[id] = grants
}

// revokedFromUser forgets a user's grant once revoked.
func (m *Memory) revokedFromUser(id string, obj platform.ObjectRef) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.users[id], obj)
}

func (m *Memory) known(id int64) (map[platform.ObjectRef]string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	g, ok := m.grants[id]
	if !ok {
		return nil, false
	}
	return maps.Clone(g), true
}

func (m *Memory) set(id int64, grants map[platform.ObjectRef]string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.grants[id] = grants
}

func (m *Memory) update(id int64, f func(map[platform.ObjectRef]string)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	g, ok := m.grants[id]
	if !ok {
		return // unknown: the next read fills it
	}
	f(g)
}

func (m *Memory) forget(id int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.grants, id)
}

// retain forgets the groups the instance no longer lists.
func (m *Memory) retain(listed map[int64]bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id := range m.grants {
		if !listed[id] {
			delete(m.grants, id)
		}
	}
}

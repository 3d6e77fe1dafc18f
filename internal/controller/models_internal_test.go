package controller

import (
	"strings"
	"testing"
	"time"

	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/revision"
)

func compiled(t *testing.T, space string, pos revision.Position) *Model {
	t.Helper()
	snap, problems := access.Compile(access.SpaceInput{Name: space})
	if len(problems) > 0 {
		t.Fatalf("compile: %v", problems)
	}
	return &Model{Space: space, Namespace: space, Snapshot: snap, Position: pos, ordered: true}
}

// TestOrderedTokenReachedBySkippingReplica: a replica whose model is past a
// token's position answers it although it never compiled the token's
// content (it skipped that revision, or restarted after it); a plain hash
// keeps its exact meaning; a position ahead in any kind is not reached.
func TestOrderedTokenReachedBySkippingReplica(t *testing.T) {
	m := NewModels()
	m.set(compiled(t, "pay", revision.Position{10, 20, 30}))
	other := strings.Repeat("ab", 32) // content this replica never compiled
	cases := map[string]bool{
		revision.Token{Hash: other}.String(): false, // exact: never here
		revision.Token{Hash: other, Ordered: true, Position: revision.Position{10, 19, 30}}.String(): true,
		revision.Token{Hash: other, Ordered: true, Position: revision.Position{10, 20, 30}}.String(): true,
		revision.Token{Hash: other, Ordered: true, Position: revision.Position{10, 21, 30}}.String(): false,
		revision.Token{Hash: other, Ordered: true, Position: revision.Position{11, 0, 0}}.String():   false,
		m.Get("pay").Token(): true,
		"not a revision":     false,
	}
	for tok, want := range cases {
		if got := m.Reached("pay", tok); got != want {
			t.Errorf("Reached(%q) = %v, want %v", tok, got, want)
		}
	}
	if m.Reached("nope", m.Get("pay").Token()) {
		t.Error("a Space without a model reached a revision")
	}
	// A model whose resourceVersions were not numbers answers plain hashes only.
	unordered := compiled(t, "odd", revision.Position{})
	unordered.ordered = false
	m.set(unordered)
	if tok := m.Get("odd").Token(); strings.Contains(tok, "@") {
		t.Errorf("unordered model token %q", tok)
	}
	if m.Reached("odd", revision.Token{Hash: other, Ordered: true}.String()) {
		t.Error("an unordered model reached an ordered token by position")
	}
}

// TestReadyUntilEverySpaceCompiledAndWhileLagging: /readyz's verdict.
func TestReadyUntilEverySpaceCompiledAndWhileLagging(t *testing.T) {
	m := NewModels()
	if err := m.Ready(nil, time.Minute); err != nil {
		t.Fatalf("no Spaces: %v", err)
	}
	m.observe("a", revision.KindSpace, "5")
	m.observe("b", revision.KindSpace, "6")
	if err := m.Ready([]string{"a", "b"}, time.Minute); err == nil || !strings.Contains(err.Error(), "not compiled since start: a, b") {
		t.Fatalf("before any compile: %v", err)
	}
	for _, s := range []string{"a", "b"} {
		m.startCompile(s)
		m.compiledOnce(s)
	}
	if err := m.Ready([]string{"a", "b"}, time.Minute); err != nil {
		t.Fatalf("all compiled: %v", err)
	}
	// A change waiting longer than the bound.
	m.observe("a", revision.KindGroup, "9")
	time.Sleep(5 * time.Millisecond)
	if err := m.Ready([]string{"a", "b"}, time.Millisecond); err == nil || !strings.Contains(err.Error(), "waiting more than") {
		t.Fatalf("lagging: %v", err)
	}
	// A compile that fails keeps the change waiting since it first arrived.
	_, _, since := m.startCompile("a")
	m.compileFailed("a", since)
	if err := m.Ready([]string{"a", "b"}, time.Millisecond); err == nil {
		t.Fatal("a failed compile cleared the lag")
	}
	m.startCompile("a")
	m.compiledOnce("a")
	if err := m.Ready([]string{"a", "b"}, time.Millisecond); err != nil {
		t.Fatalf("caught up: %v", err)
	}
}

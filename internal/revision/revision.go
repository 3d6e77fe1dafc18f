// Package revision names a Space's compiled access model in a form that
// callers can hand back as "answer from this state or a later one".
//
// A model has a content hash (access.Snapshot.Revision: equal inputs, equal
// hash) and, on each replica, a Position: for each kind of input (Spaces,
// PermissionGroups, AccessRules), the highest resourceVersion of an event the
// model reflects. A Token joins the two as "<hash>@<spaces>.<groups>.<rules>".
//
// Each kind is watched as one stream in resourceVersion order, so a replica
// whose model has reached a position has seen every earlier event of that
// kind: a replica answers an ordered token when its model's position is at
// or past the token's in every kind, whether or not it ever compiled the
// token's exact content (it skipped it, or it restarted). A plain hash keeps
// its exact-match meaning. Ordering compares resourceVersions as numbers,
// which holds for API servers backed by etcd; a replica whose
// resourceVersions are not numbers issues plain hashes only.
package revision

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Kinds of input, the components of a Position.
const (
	KindSpace = iota
	KindGroup
	KindRule
	numKinds
)

// Position is, per kind of input, the highest resourceVersion reflected.
type Position [numKinds]uint64

// AtLeast reports whether p is at or past q in every kind.
func (p Position) AtLeast(q Position) bool {
	for i := range p {
		if p[i] < q[i] {
			return false
		}
	}
	return true
}

// Max is the componentwise maximum of p and q.
func (p Position) Max(q Position) Position {
	for i := range p {
		p[i] = max(p[i], q[i])
	}
	return p
}

// Observe raises the kind's component to resourceVersion rv; an rv that is
// not a number is ignored (and reported false).
func (p *Position) Observe(kind int, rv string) bool {
	if rv == "" || kind < 0 || kind >= numKinds {
		return false
	}
	n, err := strconv.ParseUint(rv, 10, 64)
	if err != nil {
		return false
	}
	p[kind] = max(p[kind], n)
	return true
}

// IsZero reports whether nothing was observed.
func (p Position) IsZero() bool { return p == Position{} }

// Token is what a caller passes as atLeastRevision.
type Token struct {
	// Hash is the content hash (access.Snapshot.Revision).
	Hash string
	// Ordered tokens also carry a Position: "this state or any later one".
	Ordered  bool
	Position Position
}

// String formats the token: the hash alone, or hash@spaces.groups.rules.
func (t Token) String() string {
	if !t.Ordered {
		return t.Hash
	}
	return fmt.Sprintf("%s@%d.%d.%d", t.Hash, t.Position[KindSpace], t.Position[KindGroup], t.Position[KindRule])
}

// MaxLen bounds a token's length: a 64-character hash and three 20-digit numbers.
const MaxLen = 64 + 1 + 3*20 + 2

// Parse reads a token: a content hash (lowercase hex, as Governor writes
// it), optionally followed by @ and three decimal resourceVersions.
func Parse(s string) (Token, error) {
	if len(s) > MaxLen {
		return Token{}, fmt.Errorf("a revision is at most %d characters", MaxLen)
	}
	hash, pos, ordered := strings.Cut(s, "@")
	if err := checkHash(hash); err != nil {
		return Token{}, err
	}
	t := Token{Hash: hash, Ordered: ordered}
	if !ordered {
		return t, nil
	}
	parts := strings.Split(pos, ".")
	if len(parts) != numKinds {
		return Token{}, fmt.Errorf("an ordered revision is HASH@SPACES.GROUPS.RULES (three resourceVersions), got %d parts after @", len(parts))
	}
	for i, p := range parts {
		if p == "" || strings.TrimLeft(p, "0123456789") != "" || (len(p) > 1 && p[0] == '0') {
			return Token{}, fmt.Errorf("resourceVersion %q in an ordered revision is not a decimal number", p)
		}
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return Token{}, fmt.Errorf("resourceVersion %q in an ordered revision: %w", p, err)
		}
		t.Position[i] = n
	}
	return t, nil
}

var errHash = errors.New("a revision's hash is 1 to 64 lowercase hexadecimal characters")

func checkHash(h string) error {
	if h == "" || len(h) > 64 {
		return errHash
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return errHash
		}
	}
	return nil
}

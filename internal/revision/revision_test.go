package revision

import (
	"strings"
	"testing"
)

const hash = "3f5a0c2e9b1d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e8b0d2f4a"

func TestParseRoundTrips(t *testing.T) {
	for _, s := range []string{hash, "abc", hash + "@1.2.3", hash + "@0.0.0", hash + "@18446744073709551615.7.0"} {
		tok, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(%q): %v", s, err)
		}
		if got := tok.String(); got != s {
			t.Errorf("Parse(%q).String() = %q", s, got)
		}
	}
	tok, _ := Parse(hash + "@10.20.30")
	if !tok.Ordered || tok.Position != (Position{10, 20, 30}) || tok.Hash != hash {
		t.Errorf("Parse: %+v", tok)
	}
}

func TestParseRefuses(t *testing.T) {
	for _, s := range []string{
		"", "XYZ", strings.ToUpper(hash), hash + "0", hash + "@", hash + "@1.2", hash + "@1.2.3.4",
		hash + "@1.-2.3", hash + "@1.+2.3", hash + "@01.2.3", hash + "@1..3", hash + "@1.2.18446744073709551616",
		"@1.2.3", hash + "@1.2.3@4", hash + " ", strings.Repeat("a", MaxLen+1),
	} {
		if tok, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", s, tok)
		}
	}
}

func TestPositionOrder(t *testing.T) {
	a := Position{5, 10, 7}
	if !a.AtLeast(a) || !a.AtLeast(Position{5, 9, 0}) {
		t.Error("a position is at least itself and anything below it in every kind")
	}
	// Ahead in one kind, behind in another: not at least (the kinds are
	// separate streams; neither state contains the other).
	if a.AtLeast(Position{4, 11, 7}) || (Position{4, 11, 7}).AtLeast(a) {
		t.Error("positions ahead in different kinds are not ordered")
	}
	if got := a.Max(Position{6, 1, 7}); got != (Position{6, 10, 7}) {
		t.Errorf("Max = %v", got)
	}
	var p Position
	if p.Observe(KindGroup, "not-a-number") || !p.Observe(KindGroup, "42") || p.Observe(KindGroup, "7") && p[KindGroup] != 42 {
		t.Errorf("Observe: %v", p)
	}
	if p[KindGroup] != 42 {
		t.Errorf("Observe keeps the highest: %v", p)
	}
}

// FuzzParse: any input either fails or round-trips through String.
func FuzzParse(f *testing.F) {
	for _, s := range []string{hash, hash + "@1.2.3", "", "@", hash + "@01.2.3", hash + "@1.2", "ff@18446744073709551615.0.0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := Parse(s)
		if err != nil {
			return
		}
		again, err := Parse(tok.String())
		if err != nil || again != tok {
			t.Fatalf("%q parsed as %+v, which formats as %q and parses as %+v (%v)", s, tok, tok.String(), again, err)
		}
		if tok.String() != s {
			t.Fatalf("%q parsed, but formats as %q: two spellings of one token", s, tok.String())
		}
	})
}

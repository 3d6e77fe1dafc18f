package importer

import (
	"math/rand"
	"testing"
)

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{
		"Finance Team":      "finance-team",
		"  Finance  Team  ": "finance-team",
		"Data & Analytics":  "data-analytics",
		"On-call (EU)":      "on-call-eu",
		"Ærø":               "r",
		"日本":                "",
		"support":           "support",
		"A_B.C":             "a-b-c",
		"x0123456789012345678901234567890123456789012345678901234567890123456789": "x01234567890123456789012345678901234567890123456",
		"x---y": "x-y",
	} {
		if got := slug(in); got != want {
			t.Errorf("slug(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGroupNamesResolveClashesDeterministically(t *testing.T) {
	instance := []string{"Finance Team", "finance-team", "Finance_Team", "All Users", "admin", "viewer", "editor", "Viewer", "All-Users", "日本", "中文", "Support"}
	want := map[string]string{
		"All Users": "all-users", "admin": "admin", "viewer": "viewer", "editor": "editor",
		// Byte order of the instance names decides who keeps the slug.
		"All-Users":    "all-users-2",
		"Finance Team": "finance-team", "Finance_Team": "finance-team-2", "finance-team": "finance-team-3",
		"Support": "support", "Viewer": "viewer-2",
		"中文": "group", "日本": "group-2",
	}
	for i := 0; i < 20; i++ {
		shuffled := append([]string(nil), instance...)
		rand.New(rand.NewSource(int64(i))).Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
		got := groupNames(shuffled)
		for inst, name := range want {
			if got[inst] != name {
				t.Fatalf("order %v: %q -> %q, want %q", shuffled, inst, got[inst], name)
			}
		}
	}
}

func TestValidName(t *testing.T) {
	for _, c := range []struct {
		name   string
		folder bool
		want   bool
	}{
		{"payouts", false, true}, {"finance/reports", true, true}, {"finance/reports", false, false},
		{"Refund Tool", false, false}, {"a/../b", true, false}, {"", false, false}, {"a//b", true, false},
	} {
		if got := validName(c.name, c.folder); got != c.want {
			t.Errorf("validName(%q, %t) = %t", c.name, c.folder, got)
		}
	}
}

package access_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/governor-dev/governor/internal/access"
)

func TestCanonicalEmail(t *testing.T) {
	ok := map[string]string{
		"karl@example.com":           "karl@example.com",
		"Karl@Example.COM":           "karl@example.com",
		"karl@example.com.":          "karl@example.com",
		"ana@bücher.example":         "ana@xn--bcher-kva.example",
		"ana@xn--bcher-kva.example":  "ana@xn--bcher-kva.example",
		"o'neil+tag@sub.example.org": "o'neil+tag@sub.example.org",
	}
	for in, want := range ok {
		got, err := access.CanonicalEmail(in)
		if err != nil || got != want {
			t.Errorf("CanonicalEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := map[string]string{
		"\u212Aarl@example.com":                    "must be ASCII", // the Kelvin sign, which Unicode folds to k
		"k\u0430rl@example.com":                    "must be ASCII", // a Cyrillic a
		"karl@\u212Aexample.com":                   "domain",        // IDNA maps it: refused, not folded
		"karl@BÜCHER.example":                      "domain",        // a non-ASCII capital is not lower-cased
		"karl@ＥＸＡＭＰＬＥ.com":                         "domain",        // full-width letters
		"karl@ex_ample.com":                        "domain",
		"not-an-email":                             "not an email",
		"@example.com":                             "not an email",
		"karl@":                                    "not an email",
		"ka rl@example.com":                        "space or control",
		"karl\x00@example.com":                     "space or control",
		"karl@" + strings.Repeat("a", 64) + ".com": "domain",
	}
	for in, want := range bad {
		got, err := access.CanonicalEmail(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CanonicalEmail(%q) = %q, %v; want an error saying %q", in, got, err, want)
		}
	}
}

// The Kelvin sign does not make "\u212Aarl" the "karl" a group lists: as a
// user it is invalid input, as a member it is left out with a problem.
func TestKelvinSignIsNotKarl(t *testing.T) {
	in := access.SpaceInput{Name: "s", Groups: []access.Group{
		{Name: "admins", Builtin: access.Admin, Members: []access.Member{{Email: "karl@example.com"}}},
		{Name: "lookalikes", Members: []access.Member{{Email: "\u212Aarl@example.com"}, {Email: "eve@example.com"}}},
	}}
	s, problems := access.Compile(in)
	if len(problems) != 1 || problems[0].Field != "spec.members[0].email" || problems[0].Reason != access.ReasonInvalidEmail ||
		problems[0].Object != (access.ObjectRef{Kind: "PermissionGroup", Name: "lookalikes"}) {
		t.Fatalf("problems %v, want one InvalidEmail on lookalikes spec.members[0].email", problems)
	}
	_, err := s.Check(access.Request{User: "\u212Aarl@example.com", Action: "manage-settings", Target: access.Target{Type: access.TargetSpace}})
	var inv *access.InvalidInputError
	if !errors.As(err, &inv) || inv.Reason != access.ReasonInvalidUser {
		t.Fatalf("a check as \\u212Aarl: %v, want invalid input (%s)", err, access.ReasonInvalidUser)
	}
	if _, err := s.Permissions("\u212Aarl@example.com", nil); !errors.As(err, &inv) {
		t.Fatalf("permissions of \\u212Aarl: %v, want invalid input", err)
	}
	d, err := s.Check(access.Request{User: "KARL@example.com", Action: "manage-settings", Target: access.Target{Type: access.TargetSpace}})
	if err != nil || !d.Allowed || d.User != "karl@example.com" {
		t.Fatalf("ASCII case still folds: %+v, %v", d, err)
	}
	if st := s.Stats(); st.Members != 2 {
		t.Fatalf("members %d, want karl and eve only", st.Members)
	}
}

// A domain is compared after IDNA: the Unicode and punycode spellings are
// the same member, and JIT's allowed domains match either.
func TestIDNADomains(t *testing.T) {
	in := access.SpaceInput{Name: "s",
		SSO: access.SSO{JIT: true, AllowedDomains: []string{"xn--mnchen-3ya.example"}},
		Groups: []access.Group{
			{Name: "everyone", Builtin: access.AllUsers},
			{Name: "editors", Builtin: access.Editor, Members: []access.Member{{Email: "ana@bücher.example"}}},
		}}
	s, problems := access.Compile(in)
	if len(problems) != 0 {
		t.Fatal(problems)
	}
	edit := access.Request{Action: "edit", Target: access.Target{Type: access.TargetApp, Name: "a"}}
	for _, user := range []string{"ana@bücher.example", "ANA@xn--bcher-kva.example"} {
		edit.User = user
		if d, err := s.Check(edit); err != nil || !d.Allowed || d.User != "ana@xn--bcher-kva.example" {
			t.Errorf("%s: %+v, %v", user, d, err)
		}
	}
	edit.User = "otto@münchen.example"
	if d, err := s.Check(edit); err != nil || d.Membership != access.MemberJIT {
		t.Errorf("JIT in an IDNA domain: %+v, %v", d, err)
	}
}

// Folder paths are canonical in rules as in checks.
func TestFolderPathsAreCanonical(t *testing.T) {
	for _, p := range []string{"a/b", "a", "finance/2024 q1", "a.b/..c"} {
		if err := access.CheckFolderPath(p); err != nil {
			t.Errorf("%q is canonical: %v", p, err)
		}
	}
	for _, p := range []string{"/a", "a/", "a//b", "./a", "a/.", "a/../b", "..", "/"} {
		if err := access.CheckFolderPath(p); err == nil {
			t.Errorf("%q is not canonical", p)
		}
		in := access.SpaceInput{Name: "s", Groups: []access.Group{{Name: "g"}}, Rules: []access.Rule{{Name: "r", Group: "g", Level: access.Use,
			Targets: []access.RuleTarget{{Kind: access.App, Folder: true, Name: p}}}}}
		s, problems := access.Compile(in)
		if len(problems) != 1 || problems[0].Field != "spec.targets[0].name" || problems[0].Reason != access.ReasonInvalidTarget {
			t.Errorf("folder rule on %q: problems %v", p, problems)
		}
		if s.Stats().Rules != 0 {
			t.Errorf("folder rule on %q compiled", p)
		}
		if _, err := access.ParseTarget("appfolder/" + p); err == nil && p != "/" {
			t.Errorf("ParseTarget(appfolder/%s) accepted", p)
		}
	}
}

// Two groups with the same builtin: the older holds it, whatever the names.
func TestBuiltinClashIsDecidedByCreationTime(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	in := access.SpaceInput{Name: "s", Groups: []access.Group{
		{Name: "a-squatter", Builtin: access.Admin, Members: []access.Member{{Email: "mallory@example.com"}}, Created: t0.Add(time.Hour)},
		{Name: "z-admins", Builtin: access.Admin, Members: []access.Member{{Email: "alice@example.com"}}, Created: t0},
	}}
	s, problems := access.Compile(in)
	if len(problems) != 1 || problems[0].Object.Name != "a-squatter" || problems[0].Reason != access.ReasonDuplicateBuiltin ||
		!strings.Contains(problems[0].Message, `"z-admins"`) {
		t.Fatalf("problems %v: the newer a-squatter must be the one left out", problems)
	}
	manage := access.Request{Action: "manage-settings", Target: access.Target{Type: access.TargetSpace}}
	for user, want := range map[string]bool{"alice@example.com": true, "mallory@example.com": false} {
		manage.User = user
		if d, err := s.Check(manage); err != nil || d.Allowed != want {
			t.Errorf("%s: allowed %v (%v), want %v", user, d.Allowed, err, want)
		}
	}
	// The same creation time: the lower name.
	in.Groups[0].Created = t0
	if _, problems := access.Compile(in); len(problems) != 1 || problems[0].Object.Name != "z-admins" {
		t.Fatalf("a tie goes to the lower name: %v", problems)
	}
}

// FuzzCanonicalEmail: the canonical form is ASCII, lower-case, idempotent,
// and no non-ASCII local part ever has one.
func FuzzCanonicalEmail(f *testing.F) {
	for _, s := range []string{"karl@example.com", "\u212Aarl@example.com", "Ana@Bücher.Example", "a@xn--bcher-kva.example", "@", "a@b@c", "a@.", "a@-x.com", "a@example.com.", "ß@straße.de"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := access.CanonicalEmail(s)
		if err != nil {
			if access.EmailKey(s) != s && strings.TrimSpace(s) == s {
				t.Fatalf("EmailKey(%q) changed an email with no canonical form", s)
			}
			return
		}
		for i := 0; i < len(c); i++ {
			if c[i] >= 0x80 || (c[i] >= 'A' && c[i] <= 'Z') {
				t.Fatalf("CanonicalEmail(%q) = %q: not lower-case ASCII", s, c)
			}
		}
		if again, err := access.CanonicalEmail(c); err != nil || again != c {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, c, again, err)
		}
		local := s[:strings.LastIndexByte(s, '@')]
		for i := 0; i < len(local); i++ {
			if local[i] >= 0x80 {
				t.Fatalf("a non-ASCII local part %q has a canonical form %q", s, c)
			}
		}
	})
}

// FuzzCheckFolderPath: a canonical path's segments are non-empty and never
// . or .., and ParseTarget agrees with CheckFolderPath.
func FuzzCheckFolderPath(f *testing.F) {
	for _, s := range []string{"a/b", "/a", "a//b", "..", "a/./b", "", "a/b/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		err := access.CheckFolderPath(p)
		if err == nil {
			for seg := range strings.SplitSeq(p, "/") {
				if p != "" && (seg == "" || seg == "." || seg == "..") {
					t.Fatalf("%q accepted with segment %q", p, seg)
				}
			}
		}
		if p == "" {
			return
		}
		_, perr := access.ParseTarget("appfolder/" + p)
		if (err == nil) != (perr == nil) && strings.TrimSpace("appfolder/"+p) == "appfolder/"+p {
			t.Fatalf("CheckFolderPath(%q) = %v but ParseTarget: %v", p, err, perr)
		}
	})
}

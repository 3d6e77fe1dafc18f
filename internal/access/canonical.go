package access

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Reasons of invalid canonical input.
const (
	// ReasonInvalidEmail: a member's email that has no canonical form.
	ReasonInvalidEmail = "InvalidEmail"
	// ReasonInvalidFolder: a folder path that is not canonical.
	ReasonInvalidFolder = "InvalidFolder"
)

// idnaProfile converts a domain to ASCII (punycode) without mapping: no
// Unicode case folding or compatibility mapping, so that no two spellings
// meet by a rule the user cannot see; a character IDNA maps (an upper-case
// or compatibility letter) is refused.
var idnaProfile = idna.New(idna.ValidateForRegistration(), idna.StrictDomainName(true))

// CanonicalEmail is the one form Governor compares emails in (the engine,
// RBAC subjects, the platform sync): the domain after IDNA (punycode), the
// whole address lower-cased with ASCII rules only. A local part that is not
// ASCII, or a domain IDNA refuses, is an error, never folded: the Kelvin sign
// of "\u212Aarl@example.com" does not become the "k" of "karl@example.com".
func CanonicalEmail(s string) (string, error) {
	return canonicalEmail(s, canonicalDomain)
}

// canonicalEmail is CanonicalEmail with the domain's canonical form from domainOf.
func canonicalEmail(s string, domainOf func(string) (string, error)) (string, error) {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return "", fmt.Errorf("%q is not an email address (want LOCAL@DOMAIN)", s)
	}
	local, domain := s[:at], s[at+1:]
	for i := 0; i < len(local); i++ {
		if c := local[i]; c <= ' ' || c >= 0x7f {
			if c >= utf8.RuneSelf {
				return "", fmt.Errorf("%q: the part before @ must be ASCII (Governor does not fold Unicode, so look-alike letters never match)", s)
			}
			return "", fmt.Errorf("%q: the part before @ has a space or control character", s)
		}
	}
	d, err := domainOf(domain)
	if err != nil {
		return "", fmt.Errorf("%q: %w", s, err)
	}
	return asciiLower(local) + "@" + d, nil
}

// domainMemo remembers canonical domains for one compile: a Space's
// thousands of members share a few domains, and IDNA is most of the cost of
// canonicalising an email.
type domainMemo map[string]memoDomain

type memoDomain struct {
	ascii string
	err   error
}

func (m domainMemo) canonical(domain string) (string, error) {
	if r, ok := m[domain]; ok {
		return r.ascii, r.err
	}
	ascii, err := canonicalDomain(domain)
	m[domain] = memoDomain{ascii, err}
	return ascii, err
}

// canonicalDomain is a domain in ASCII: lower-cased with ASCII rules, then
// IDNA (punycode) for what is left non-ASCII.
func canonicalDomain(domain string) (string, error) {
	lower := asciiLower(strings.TrimSuffix(domain, ".")) // example.com. is example.com
	if lower == "" || strings.HasPrefix(lower, ".") || strings.HasSuffix(lower, ".") || strings.Contains(lower, "..") {
		return "", fmt.Errorf("domain %q has an empty label", domain)
	}
	ascii, err := idnaProfile.ToASCII(lower)
	if err != nil {
		return "", fmt.Errorf("domain %q is not a valid (internationalised) domain name: %v", domain, err)
	}
	return ascii, nil
}

// asciiLower lower-cases A-Z only.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// errFolderPath says what a canonical folder path is.
var errFolderPath = errors.New("a folder path is '/'-separated names, none of them empty, '.' or '..', with no leading or trailing '/'")

// CheckFolderPath reports whether p is a canonical folder path: non-empty
// '/'-separated segments, none of them '.' or '..', no leading or trailing
// '/'. "" (the root) is canonical.
func CheckFolderPath(p string) error {
	if p == "" {
		return nil
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("%q: %w", p, errFolderPath)
		}
	}
	return nil
}

// EmailKey is what an email read from elsewhere (a platform instance) is
// compared by: its canonical form, or the string itself when it has none,
// which then equals no canonical email (canonical emails are valid).
func EmailKey(s string) string {
	if c, err := CanonicalEmail(strings.TrimSpace(s)); err == nil {
		return c
	}
	return s
}

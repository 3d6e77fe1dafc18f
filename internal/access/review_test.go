package access

import (
	"errors"
	"testing"
	"time"
)

func reviewRows(t *testing.T, s *Snapshot) map[string][]ReviewRow {
	t.Helper()
	out := map[string][]ReviewRow{}
	if err := s.Review("", func(r ReviewRow) error {
		out[r.Subject] = append(out[r.Subject], r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func findRow(rows []ReviewRow, target string) *ReviewRow {
	for i := range rows {
		if rows[i].Target.String() == target {
			return &rows[i]
		}
	}
	return nil
}

func TestReviewCoversEverySubjectWithWhy(t *testing.T) {
	in := temporaryAccess(t0)
	in.SSO = SSO{JIT: true, AllowedDomains: []string{"example.com"}, RoleMappings: []RoleMapping{{IdPGroup: "auditors", Group: "finance"}}}
	s := mustCompile(t, in)
	subjects := s.ReviewSubjects()
	want := []string{"user:alice@example.com", "user:bob@example.com", "user:carol@example.com", "user:dan@example.com", "user:ed@example.com",
		"user:olga@example.com", "user:oscar@example.com", "user:root@example.com", "idp:auditors", "idp:ops-team", "jit:*@example.com"}
	if len(subjects) != len(want) {
		t.Fatalf("subjects %v, want %v", subjects, want)
	}
	for i := range want {
		if subjects[i] != want[i] {
			t.Fatalf("subjects %v, want %v", subjects, want)
		}
	}
	rows := reviewRows(t, s)

	// carol: Edit on the finance app folder through the finance-folder
	// rule, listed in finance until t0+1h.
	r := findRow(rows["user:carol@example.com"], "appfolder/finance")
	if r == nil || r.Level != Edit || r.Group != "finance" || r.Source.Rule != "finance-folder" || r.Via != "listed" || !r.Expires.Equal(t0.Add(time.Hour)) {
		t.Fatalf("carol on appfolder/finance: %+v", r)
	}
	// Her payouts access ends with the rule (t0+2h) or her membership (t0+1h): the sooner.
	if r := findRow(rows["user:carol@example.com"], "app/payouts"); r == nil || !r.Expires.Equal(t0.Add(time.Hour)) || r.Source.Rule != "finance-payouts" {
		t.Fatalf("carol on app/payouts: %+v", r)
	}
	if r := findRow(rows["user:alice@example.com"], "app/payouts"); r == nil || !r.Expires.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("alice on app/payouts ends with the rule: %+v", r)
	}
	// An IdP group's users, through a role mapping.
	if r := findRow(rows["idp:auditors"], "appfolder/finance"); r == nil || r.Membership != MemberIdP || r.Via != "idp:auditors" || !r.Expires.IsZero() {
		t.Fatalf("idp:auditors on appfolder/finance: %+v", r)
	}
	// Organisation permissions and group admins.
	if r := findRow(rows["user:olga@example.com"], "space"); r == nil || r.Group != "ops" || len(r.Actions) == 0 {
		t.Fatalf("olga's Space actions: %+v", r)
	}
	if r := findRow(rows["user:olga@example.com"], "group/ops"); r == nil || r.Source.Kind != SourceGroupAdmin {
		t.Fatalf("olga administers ops: %+v", r)
	}
	if r := findRow(rows["user:root@example.com"], "space"); r == nil || r.Group != "admin" || r.Source.Builtin != Admin {
		t.Fatalf("root is Admin: %+v", r)
	}
	// JIT users get AllUsers only: universal None, so only what it gives.
	for _, r := range rows["jit:*@example.com"] {
		if r.Group != "all-users" || r.Via != "every member" {
			t.Fatalf("a JIT row not from all-users: %+v", r)
		}
	}
	// Rows with nothing reachable are left out.
	for subject, rs := range rows {
		for _, r := range rs {
			if r.Level == None && len(r.Actions) == 0 {
				t.Fatalf("%s: an empty row %+v", subject, r)
			}
		}
	}
}

func TestReviewStopsAtEmitError(t *testing.T) {
	s := mustCompile(t, workedExample())
	stop := errors.New("stop")
	n := 0
	err := s.Review("", func(ReviewRow) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Fatalf("Review returned %v after %d rows", err, n)
	}
}

func TestReviewInAnEnvironment(t *testing.T) {
	s := mustCompile(t, workedExample())
	var prod []ReviewRow
	if err := s.Review("production", func(r ReviewRow) error {
		if r.Subject == "user:olga@example.com" {
			prod = append(prod, r)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// ops-db gives Edit on ledger-db, Use in production.
	if r := findRow(prod, "resource/ledger-db"); r == nil || r.Level != Use || r.Source.Environment != "production" {
		t.Fatalf("olga on resource/ledger-db in production: %+v", r)
	}
	var in *InvalidInputError
	if err := s.Review("moon", func(ReviewRow) error { return nil }); !errors.As(err, &in) || in.Reason != ReasonUnknownEnvironment {
		t.Fatalf("an undeclared environment: %v", err)
	}
}

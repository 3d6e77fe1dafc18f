package access

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)

// temporaryAccess: carol is in finance until t0+1h; the finance-payouts
// rule ends at t0+2h; dan's listing ends at t0+30m but an IdP group keeps him
// in ops.
func temporaryAccess(at time.Time) SpaceInput {
	in := workedExample()
	in.At = at
	in.Groups[0].Members = append(in.Groups[0].Members, Member{Email: "Carol@Example.com", Expires: t0.Add(time.Hour)})
	in.Groups[5].Members = append(in.Groups[5].Members, Member{Email: "dan@example.com", Expires: t0.Add(30 * time.Minute)})
	in.Rules[1].Expires = t0.Add(2 * time.Hour)
	return in
}

func TestMemberExpires(t *testing.T) {
	before := mustCompile(t, temporaryAccess(t0))
	d := check(t, before, "carol@example.com", "edit", "app/ledger", "finance/reports", "")
	if !d.Allowed || !d.Expires.Equal(t0.Add(time.Hour)) {
		t.Fatalf("before the expiry: allowed %v, expires %v; want allowed until %v", d.Allowed, d.Expires, t0.Add(time.Hour))
	}
	// The instant itself is out: expires is the first instant without access.
	at := mustCompile(t, temporaryAccess(t0.Add(time.Hour)))
	if d := check(t, at, "carol@example.com", "edit", "app/ledger", "finance/reports", ""); d.Allowed || d.Reason != ReasonNotAMember {
		t.Fatalf("at the expiry: %s %s; want NotAMember", d.Reason, d.Message)
	}
	if d := check(t, at, "alice@example.com", "edit", "app/ledger", "finance/reports", ""); !d.Allowed || !d.Expires.IsZero() {
		t.Fatalf("alice has no expiry: allowed %v expires %v", d.Allowed, d.Expires)
	}
	if before.Revision() == at.Revision() {
		t.Fatal("a member's expiry did not change the revision")
	}
	same := mustCompile(t, temporaryAccess(t0.Add(time.Minute)))
	if same.Revision() != before.Revision() {
		t.Fatal("two instants with the same entries give different revisions")
	}
}

func TestIdPGroupOutlivesListing(t *testing.T) {
	s := mustCompile(t, temporaryAccess(t0))
	d := check(t, s, "dan@example.com", "use", "app/anything", "", "")
	if !d.Allowed || !d.Expires.Equal(t0.Add(30*time.Minute)) {
		t.Fatalf("listed only: allowed %v expires %v", d.Allowed, d.Expires)
	}
	d = check(t, s, "dan@example.com", "use", "app/anything", "", "", "ops-team")
	if !d.Allowed || !d.Expires.IsZero() {
		t.Fatalf("also through ops-team: allowed %v expires %v; want no expiry", d.Allowed, d.Expires)
	}
	later := mustCompile(t, temporaryAccess(t0.Add(31*time.Minute)))
	if d := check(t, later, "dan@example.com", "use", "app/anything", "", "", "ops-team"); !d.Allowed {
		t.Fatalf("through ops-team after the listing ended: %s", d.Message)
	}
}

func TestRuleExpires(t *testing.T) {
	// finance-payouts (Use on payouts) narrows the finance folder's Edit;
	// when it ends, the folder rule decides.
	before := mustCompile(t, temporaryAccess(t0))
	d := check(t, before, "alice@example.com", "use", "app/payouts", "finance", "")
	if d.Source == nil || d.Source.Rule != "finance-payouts" || !d.Expires.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("before: %+v expires %v", d.Source, d.Expires)
	}
	after := mustCompile(t, temporaryAccess(t0.Add(2*time.Hour)))
	d = check(t, after, "alice@example.com", "edit", "app/payouts", "finance", "")
	if !d.Allowed || d.Source.Rule != "finance-folder" {
		t.Fatalf("after: %s", d.Message)
	}
	if got := after.Stats().Rules; got != before.Stats().Rules-1 {
		t.Fatalf("rules after the expiry: %d, want %d", got, before.Stats().Rules-1)
	}
}

func TestNextExpiryExpiredExpiring(t *testing.T) {
	s := mustCompile(t, temporaryAccess(t0.Add(45*time.Minute)))
	if !s.NextExpiry().Equal(t0.Add(time.Hour)) {
		t.Fatalf("NextExpiry %v, want %v", s.NextExpiry(), t0.Add(time.Hour))
	}
	exp := s.Expired()
	if len(exp) != 1 || exp[0] != (Expiry{Kind: "PermissionGroup", Name: "ops", Email: "dan@example.com", Expires: t0.Add(30 * time.Minute)}) {
		t.Fatalf("Expired %+v", exp)
	}
	soon := s.Expiring(time.Hour)
	if len(soon) != 1 || soon[0].Email != "carol@example.com" {
		t.Fatalf("Expiring(1h) %+v, want carol only", soon)
	}
	if got := s.Expiring(7 * 24 * time.Hour); len(got) != 2 || got[1].Kind != "AccessRule" || got[1].Name != "finance-payouts" {
		t.Fatalf("Expiring(7d) %+v", got)
	}
	none := mustCompile(t, workedExample())
	if !none.NextExpiry().IsZero() || none.AsOf(t0.Add(-time.Hour)) != none {
		t.Fatal("a Space without expiries has a next expiry, or AsOf compiles again")
	}
}

func TestAsOf(t *testing.T) {
	now := mustCompile(t, temporaryAccess(t0.Add(3*time.Hour)))
	if d := check(t, now, "carol@example.com", "use", "app/ledger", "finance", ""); d.Allowed {
		t.Fatal("carol allowed after her expiry")
	}
	past := now.AsOf(t0)
	if !past.At().Equal(t0) {
		t.Fatalf("AsOf(t0).At() = %v", past.At())
	}
	if d := check(t, past, "carol@example.com", "edit", "app/ledger", "finance", ""); !d.Allowed {
		t.Fatalf("carol at t0: %s", d.Message)
	}
	if now.AsOf(t0.Add(time.Minute)) != past {
		t.Fatal("an instant of the same stretch of time compiled again")
	}
	if now.AsOf(t0.Add(4*time.Hour)) != now {
		t.Fatal("an instant with the same entries as the snapshot's compiled again")
	}
	if past.Revision() != mustCompile(t, temporaryAccess(t0)).Revision() {
		t.Fatal("AsOf gives another model than compiling for that instant")
	}
}

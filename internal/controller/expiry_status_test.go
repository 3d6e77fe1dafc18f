package controller

import (
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
)

func TestSetExpiryStatus(t *testing.T) {
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *metav1.Time { t := metav1.NewTime(now.Add(d)); return &t }
	day := 24 * time.Hour
	group := func(ends ...*metav1.Time) *governorv1alpha1.PermissionGroup {
		g := &governorv1alpha1.PermissionGroup{}
		g.Spec.Members = append(g.Spec.Members, governorv1alpha1.Member{Email: "always@example.com"})
		for i, e := range ends {
			g.Spec.Members = append(g.Spec.Members, governorv1alpha1.Member{Email: string(rune('a'+i)) + "@example.com", Expires: e})
		}
		return g
	}
	for name, tc := range map[string]struct {
		group             *governorv1alpha1.PermissionGroup
		members           int32
		expiring, expired []string
		next              *metav1.Time
		requeue           time.Duration
	}{
		"no expiries": {group: group(), members: 1},
		"ends in 8 days: not expiring yet, requeued when it enters the window": {
			group: group(at(8 * day)), members: 2, next: at(8 * day), requeue: day,
		},
		"ends in 7 days exactly: expiring": {
			group: group(at(7 * day)), members: 2, expiring: []string{"a@example.com"}, next: at(7 * day), requeue: 7 * day,
		},
		"ended a second ago, another in an hour": {
			group: group(at(-time.Second), at(time.Hour)), members: 2, expiring: []string{"b@example.com"}, expired: []string{"a@example.com"},
			next: at(time.Hour), requeue: time.Hour,
		},
		"ends now: expired at its instant": {
			group: group(at(0)), members: 1, expired: []string{"a@example.com"},
		},
		"soonest first": {
			group: group(at(3*day), at(day), at(2*day)), members: 4, expiring: []string{"b@example.com", "c@example.com", "a@example.com"},
			next: at(day), requeue: day,
		},
	} {
		t.Run(name, func(t *testing.T) {
			g := tc.group
			requeue := setExpiryStatus(g, now)
			if g.Status.MemberCount != tc.members {
				t.Errorf("memberCount %d, want %d", g.Status.MemberCount, tc.members)
			}
			if got := emails(g.Status.Expiring); !equalStrings(got, tc.expiring) {
				t.Errorf("expiring %v, want %v", got, tc.expiring)
			}
			if got := emails(g.Status.Expired); !equalStrings(got, tc.expired) {
				t.Errorf("expired %v, want %v", got, tc.expired)
			}
			if (g.Status.NextExpiry == nil) != (tc.next == nil) || (tc.next != nil && !g.Status.NextExpiry.Equal(tc.next)) {
				t.Errorf("nextExpiry %v, want %v", g.Status.NextExpiry, tc.next)
			}
			if requeue != tc.requeue {
				t.Errorf("requeue after %v, want %v", requeue, tc.requeue)
			}
		})
	}
}

func TestSetExpiryStatusRule(t *testing.T) {
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	ends := metav1.NewTime(now.Add(time.Hour))
	r := &governorv1alpha1.AccessRule{Spec: governorv1alpha1.AccessRuleSpec{Expires: &ends}}
	if d := setExpiryStatus(r, now); d != time.Hour || len(r.Status.Expiring) != 1 || len(r.Status.Expired) != 0 {
		t.Fatalf("an hour before: requeue %v, status %+v", d, r.Status)
	}
	if msg := expiredRuleMessage(r, "payments", now); msg != "" {
		t.Fatalf("a live rule has an expired message: %s", msg)
	}
	if d := setExpiryStatus(r, ends.Time); d != 0 || len(r.Status.Expiring) != 0 || len(r.Status.Expired) != 1 {
		t.Fatalf("at its end: requeue %v, status %+v", d, r.Status)
	}
	if msg := expiredRuleMessage(r, "payments", ends.Time); msg == "" {
		t.Fatal("an ended rule has no expired message")
	}
}

func emails(x []governorv1alpha1.Expiry) []string {
	var out []string
	for _, e := range x {
		out = append(out, e.Email)
	}
	return out
}

func equalStrings(a, b []string) bool { return slices.Equal(a, b) }

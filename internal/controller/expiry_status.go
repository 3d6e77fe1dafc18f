package controller

import (
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/access"
)

// Time-bound access in status: what ends soon (status.expiring), what has
// ended (status.expired), the next end (a group's status.nextExpiry), and
// when the status changes next by the clock alone. Pure functions of the
// object and the instant; the model controller leaves the ended entries out
// of the model (access.SpaceInput.At) and compiles again at the next end.

// ExpiringWithin is how far ahead status.expiring looks.
const ExpiringWithin = 7 * 24 * time.Hour

// setExpiryStatus sets the object's expiry fields as of now (and a group's
// memberCount: its members whose membership has not ended), and returns
// how long until they change by the clock alone: when an entry enters the
// expiring window or ends (0: never).
func setExpiryStatus(obj modelObject, now time.Time) time.Duration {
	var entries []governorv1alpha1.Expiry
	switch o := obj.(type) {
	case *governorv1alpha1.PermissionGroup:
		active := int32(0)
		for _, m := range o.Spec.Members {
			if m.Expires == nil {
				active++
				continue
			}
			if now.Before(m.Expires.Time) {
				active++
			}
			entries = append(entries, governorv1alpha1.Expiry{Email: m.Email, Expires: *m.Expires})
		}
		o.Status.MemberCount = active
		var next *metav1.Time
		o.Status.Expiring, o.Status.Expired, next = expiries(entries, now)
		o.Status.NextExpiry = next
	case *governorv1alpha1.AccessRule:
		if o.Spec.Expires != nil {
			entries = append(entries, governorv1alpha1.Expiry{Expires: *o.Spec.Expires})
		}
		o.Status.Expiring, o.Status.Expired, _ = expiries(entries, now)
	}
	return nextExpiryChange(entries, now)
}

// expiries splits entries into those ending within ExpiringWithin and
// those that have ended, each soonest first, and finds the next end.
func expiries(entries []governorv1alpha1.Expiry, now time.Time) (expiring, expired []governorv1alpha1.Expiry, next *metav1.Time) {
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].Expires.Before(&entries[j].Expires) })
	for _, e := range entries {
		switch {
		case !now.Before(e.Expires.Time):
			expired = append(expired, e)
		default:
			if next == nil {
				t := e.Expires
				next = &t
			}
			if e.Expires.Sub(now) <= ExpiringWithin {
				expiring = append(expiring, e)
			}
		}
	}
	return expiring, expired, next
}

// nextExpiryChange is how long until an entry enters the expiring window
// or ends (0: none will).
func nextExpiryChange(entries []governorv1alpha1.Expiry, now time.Time) time.Duration {
	var next time.Duration
	for _, e := range entries {
		for _, at := range []time.Time{e.Expires.Add(-ExpiringWithin), e.Expires.Time} {
			// An entry enters the window at exactly expires-7d (<=), and
			// ends at exactly expires: the status changes at those instants.
			if d := at.Sub(now); d > 0 && (next == 0 || d < next) {
				next = d
			}
		}
	}
	return next
}

// recordExpired records an event for each membership that has ended since
// the status before. (A rule's end is its Ready reason turning Expired,
// which recordTransition reports.)
func recordExpired(rec events.EventRecorder, obj modelObject, before, after []governorv1alpha1.Expiry) {
	seen := make(map[string]bool, len(before))
	for _, e := range before {
		seen[e.Email] = true
	}
	for _, e := range after {
		if e.Email == "" || seen[e.Email] {
			continue
		}
		rec.Eventf(obj, nil, corev1.EventTypeNormal, "MemberExpired", "Expire",
			"the membership of %s ended at %s: it is out of the access model and leaves the instances; remove it from spec.members",
			e.Email, e.Expires.UTC().Format(time.RFC3339))
	}
}

// expiredOf returns the object's status.expired.
func expiredOf(obj modelObject) []governorv1alpha1.Expiry {
	switch o := obj.(type) {
	case *governorv1alpha1.PermissionGroup:
		return o.Status.Expired
	case *governorv1alpha1.AccessRule:
		return o.Status.Expired
	}
	return nil
}

// requeueAtNextExpiry is the model controller's result after a compile:
// compile again at exactly the instant the model's next entry ends.
func requeueAtNextExpiry(model *Model, now time.Time) time.Duration {
	if model == nil {
		return 0
	}
	next := model.Snapshot.NextExpiry()
	if next.IsZero() {
		return 0
	}
	return max(next.Sub(now), time.Nanosecond)
}

// outOfDate reports whether an entry of the snapshot has ended by now: the
// model must be compiled again even though its input has not changed.
func outOfDate(s *access.Snapshot, now time.Time) bool {
	next := s.NextExpiry()
	return !next.IsZero() && !now.Before(next)
}

// expiredRuleMessage is the Ready message of a rule that has ended ("" when it has not).
func expiredRuleMessage(obj modelObject, space string, now time.Time) string {
	r, ok := obj.(*governorv1alpha1.AccessRule)
	if !ok || r.Spec.Expires == nil || now.Before(r.Spec.Expires.Time) {
		return ""
	}
	return fmt.Sprintf("ended at %s (spec.expires): it is no longer in the access model of Space %s", r.Spec.Expires.UTC().Format(time.RFC3339), space)
}

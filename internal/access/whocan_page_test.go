package access_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/access/accesstest"
)

// Paging through WhoCanPage, whatever the page size, gives exactly WhoCan's
// grants and Together's groups, in the same order, in full pages.
func TestWhoCanPagesMakeTheWhole(t *testing.T) {
	in := accesstest.Medium()
	snap, _ := access.Compile(in)
	reqs := accesstest.Requests(in, 64, 7)
	// A question with pairs, and a group-admin grant.
	reqs = append(reqs,
		access.Request{Action: "view-unpublished", Target: access.Target{Type: access.TargetApp, Name: "x"}},
		access.Request{Action: "manage-members", Target: access.Target{Type: access.TargetGroup, Name: accesstest.GroupName(3)}})
	for _, limit := range []int{1, 7, 100, 5000} {
		for i, req := range reqs {
			req.User, req.Groups = "", nil
			whole, err := snap.WhoCan(req)
			if err != nil {
				continue
			}
			var grants, levelGroups, flagGroups []access.Grant
			var all []access.WhoCanResult
			pages := 0
			for from := 0; ; {
				page, next, err := snap.WhoCanPage(req, from, limit)
				if err != nil {
					t.Fatalf("request %d page at %d: %v", i, from, err)
				}
				if len(page.Grants)+togetherLen(page.Together) > limit {
					t.Fatalf("request %d: a page of %d holds %d", i, limit, len(page.Grants)+togetherLen(page.Together))
				}
				grants = append(grants, page.Grants...)
				all = append(all, page)
				if page.Together != nil {
					levelGroups = append(levelGroups, page.Together.LevelGroups...)
					flagGroups = append(flagGroups, page.Together.FlagGroups...)
				}
				pages++
				// The medium Space has fewer groups than a page's scan
				// budget: only the last page may be short.
				if n := len(page.Grants) + togetherLen(page.Together); next != 0 && n != limit {
					t.Fatalf("request %d: a page of %d followed by others holds %d", i, limit, n)
				}
				if next == 0 {
					break
				}
				if next <= from {
					t.Fatalf("request %d: the next page starts at %d, not after %d", i, next, from)
				}
				from = next
			}
			if !reflect.DeepEqual(grants, whole.Grants) && !(len(grants) == 0 && len(whole.Grants) == 0) {
				t.Fatalf("request %d (%s %s), limit %d: %d grants over %d pages, WhoCan has %d", i, req.Action, req.Target, limit, len(grants), pages, len(whole.Grants))
			}
			if joined := access.JoinWhoCanPages(all...); !reflect.DeepEqual(joined.Together, whole.Together) || len(joined.Grants) != len(whole.Grants) {
				t.Fatalf("request %d, limit %d: JoinWhoCanPages differs from WhoCan", i, limit)
			}
			if whole.Together != nil && (!reflect.DeepEqual(levelGroups, whole.Together.LevelGroups) || !reflect.DeepEqual(flagGroups, whole.Together.FlagGroups)) {
				t.Fatalf("request %d, limit %d: Together's groups differ from WhoCan's", i, limit)
			}
		}
	}
}

func togetherLen(j *access.JointGrant) int {
	if j == nil {
		return 0
	}
	return len(j.LevelGroups) + len(j.FlagGroups)
}

func TestWhoCanPageRefusesBadPages(t *testing.T) {
	snap, _ := access.Compile(accesstest.Small())
	req := access.Request{Action: "use", Target: access.Target{Type: access.TargetApp, Name: "x"}}
	var in *access.InvalidInputError
	if _, _, err := snap.WhoCanPage(req, 0, 0); !errors.As(err, &in) || in.Reason != access.ReasonInvalidPage {
		t.Errorf("limit 0: %v", err)
	}
	if _, _, err := snap.WhoCanPage(req, 1<<20, 10); !errors.As(err, &in) || in.Reason != access.ReasonInvalidPage {
		t.Errorf("a position past the end: %v", err)
	}
}

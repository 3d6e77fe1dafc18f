package decisionapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/access"
	"github.com/governor-dev/governor/internal/decisionapi"
)

// at answers for another instant: a membership that ends in an hour allows
// now, not in two hours; a malformed instant is 400 naming the field.
func TestAtAnswersForAnotherInstant(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ends := time.Now().Add(time.Hour).Truncate(time.Second).UTC()
	expires := metav1.NewTime(ends)
	group := &governorv1alpha1.PermissionGroup{
		ObjectMeta: metav1.ObjectMeta{Namespace: "payments", Name: "contractors"},
		Spec:       governorv1alpha1.PermissionGroupSpec{Members: []governorv1alpha1.Member{{Email: "temp@example.com", Expires: &expires}}},
	}
	rule := &governorv1alpha1.AccessRule{
		ObjectMeta: metav1.ObjectMeta{Namespace: "payments", Name: "contractors-tool"},
		Spec: governorv1alpha1.AccessRuleSpec{Group: "contractors", Level: governorv1alpha1.LevelUse,
			Targets: []governorv1alpha1.Target{{Kind: governorv1alpha1.TargetApp, Name: "contractor-tool"}}},
	}
	g.Expect(env.Client.Create(ctx, group)).To(Succeed())
	g.Expect(env.Client.Create(ctx, rule)).To(Succeed())
	t.Cleanup(func() {
		_ = env.Client.Delete(ctx, rule)
		_ = env.Client.Delete(ctx, group)
	})
	ask := decisionapi.CheckRequest{User: "temp@example.com", Action: "use", Target: "app/contractor-tool"}
	var d decisionapi.CheckResponse
	g.Eventually(func(g Gomega) {
		r := call(t, "POST", "/v1/spaces/payments/check", tokens["instance"], ask)
		g.Expect(r.status).To(Equal(http.StatusOK), string(r.body))
		g.Expect(json.Unmarshal(r.body, &d)).To(Succeed())
		g.Expect(d.Allowed).To(BeTrue(), d.Message)
	}, time.Minute, 100*time.Millisecond).Should(Succeed())
	g.Expect(d.Expires.Equal(ends)).To(BeTrue(), "the decision says when the access ends: %v", d.Expires)

	ask.At = ends.Add(time.Hour).Format(time.RFC3339)
	r := call(t, "POST", "/v1/spaces/payments/check", tokens["instance"], ask)
	g.Expect(r.status).To(Equal(http.StatusOK), string(r.body))
	g.Expect(json.Unmarshal(r.body, &d)).To(Succeed())
	g.Expect(d.Allowed).To(BeFalse())
	g.Expect(d.Reason).To(Equal(access.ReasonNotAMember))
	g.Expect(d.At).To(Equal(ask.At))

	ask.At = "next week"
	r = call(t, "POST", "/v1/spaces/payments/check", tokens["instance"], ask)
	g.Expect(r.status).To(Equal(http.StatusBadRequest))
	g.Expect(errorOf(t, r).Field).To(Equal("at"))

	// A batch answers at one instant; a check of a batch may not set its own.
	r = call(t, "POST", "/v1/spaces/payments/check", tokens["instance"], decisionapi.BatchRequest{
		At: ends.Add(time.Hour).Format(time.RFC3339),
		Checks: []decisionapi.CheckRequest{
			{User: "temp@example.com", Action: "use", Target: "app/contractor-tool"},
			{User: "temp@example.com", Action: "use", Target: "app/contractor-tool", At: ends.Format(time.RFC3339)},
		},
	})
	g.Expect(r.status).To(Equal(http.StatusOK), string(r.body))
	var b decisionapi.BatchResponse
	g.Expect(json.Unmarshal(r.body, &b)).To(Succeed())
	g.Expect(b.Results[0].Decision.Allowed).To(BeFalse())
	g.Expect(b.Results[1].Error.Field).To(Equal("checks[1].at"))

	// who-can and permissions take it too.
	whoCan := func(at string) []string {
		r := call(t, "POST", "/v1/spaces/payments/who-can", tokens["instance"], decisionapi.WhoCanRequest{Action: "use", Target: "app/contractor-tool", At: at})
		g.Expect(r.status).To(Equal(http.StatusOK), string(r.body))
		var w decisionapi.WhoCanResponse
		g.Expect(json.Unmarshal(r.body, &w)).To(Succeed())
		for _, gr := range w.Grants {
			if gr.Group == "contractors" {
				return gr.Members
			}
		}
		return nil
	}
	g.Expect(whoCan("")).To(Equal([]string{"temp@example.com"}))
	g.Expect(whoCan(ends.Format(time.RFC3339))).To(BeEmpty())
	r = call(t, "GET", "/v1/spaces/payments/users/temp@example.com/permissions?at="+url.QueryEscape(ends.Format(time.RFC3339)), tokens["instance"], nil)
	g.Expect(r.status).To(Equal(http.StatusOK), string(r.body))
	var p decisionapi.PermissionsResponse
	g.Expect(json.Unmarshal(r.body, &p)).To(Succeed())
	g.Expect(p.Membership).To(BeEmpty(), "not a member once the membership ended")
}

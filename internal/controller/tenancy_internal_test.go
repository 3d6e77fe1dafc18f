package controller

import (
	"strings"
	"testing"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
	"github.com/governor-dev/governor/internal/spacemodel"
)

// Each limit names its flag; a Space at a limit is still under it.
func TestLimitsNameTheirFlag(t *testing.T) {
	loaded := &spacemodel.Loaded{Namespace: "big",
		Groups: make([]governorv1alpha1.PermissionGroup, 3),
		Rules:  make([]governorv1alpha1.AccessRule, 3),
	}
	loaded.Groups[0].Spec.Members = make([]governorv1alpha1.Member, 3)
	cases := map[string]struct {
		limits Limits
		flag   string
	}{
		"groups":  {Limits{Groups: 2}, "--max-groups-per-space"},
		"rules":   {Limits{Rules: 2}, "--max-rules-per-space"},
		"members": {Limits{Members: 2}, "--max-members-per-space"},
	}
	for name, tc := range cases {
		why := tc.limits.exceeded(loaded)
		if why == nil || why.Reason != ReasonLimitExceeded || !strings.Contains(why.Message, tc.flag) || !strings.Contains(why.Message, "namespace big holds 3") {
			t.Errorf("%s: %+v", name, why)
		}
	}
	if why := (Limits{Groups: 3, Rules: 3, Members: 3}).exceeded(loaded); why != nil {
		t.Errorf("at the limits is under them: %+v", why)
	}
	if why := (Limits{}).exceeded(loaded); why != nil {
		t.Errorf("zero limits are the defaults: %+v", why)
	}
}

func TestProtectedNamespaces(t *testing.T) {
	o := TenancyOptions{OwnNamespace: "governor-system", ProtectedNamespaces: []string{"vault"}}
	for ns, want := range map[string]bool{"kube-system": true, "kube-node-lease": true, "default": true, "governor-system": true, "vault": true,
		"payments": false, "kubeflow": false, "defaults": false} {
		if got := o.protected(ns); got != want {
			t.Errorf("protected(%s) = %v", ns, got)
		}
	}
}

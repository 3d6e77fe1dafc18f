package controller

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
)

func TestAwaitingMerge(t *testing.T) {
	merged := metav1.Now()
	cases := map[string]struct {
		pub  *governorv1alpha1.ReleasePublication
		want bool
	}{
		"not published":                   {nil, false},
		"created, branch not merged":      {&governorv1alpha1.ReleasePublication{Branch: "release/a/1.0.0", Commit: "c0ffee"}, true},
		"created, branch merged":          {&governorv1alpha1.ReleasePublication{Branch: "release/a/1.0.0", Commit: "c0ffee", MergedTime: &merged}, false},
		"adopted":                         {&governorv1alpha1.ReleasePublication{Adopted: true}, false},
		"published before merges counted": {&governorv1alpha1.ReleasePublication{Branch: "release/a/1.0.0"}, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := awaitingMerge(tc.pub); got != tc.want {
				t.Errorf("awaitingMerge = %v, want %v", got, tc.want)
			}
		})
	}
	if got := mergeTarget(nil); got != "main" {
		t.Errorf("mergeTarget(nil) = %q, want main", got)
	}
	if got := mergeTarget(&governorv1alpha1.SourceControl{DefaultBranch: "trunk"}); got != "trunk" {
		t.Errorf("mergeTarget = %q, want trunk", got)
	}
}

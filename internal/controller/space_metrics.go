package controller

import (
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	governorv1alpha1 "github.com/governor-dev/governor/api/v1alpha1"
)

// spaceStalled is 1 while a Space is Stalled: it needs a change (to its
// spec, its namespace or the operator's limits) before it can go on. The
// Space's reconcile errors count passes, not Spaces, and a stall is not
// retried, so only this gauge says which Spaces are stuck now.
var spaceStalled = prometheus.NewGaugeVec(prometheus.GaugeOpts{
	Name: "governor_space_stalled",
	Help: "1 while a Space is Stalled (it needs a change before it can go on), else 0.",
}, []string{labelSpace})

func init() {
	metrics.Registry.MustRegister(spaceStalled)
}

// observeSpaceConditions records a Space's Stalled condition.
func observeSpaceConditions(space *governorv1alpha1.Space) {
	v := 0.0
	if meta.IsStatusConditionTrue(space.Status.Conditions, governorv1alpha1.ConditionStalled) {
		v = 1
	}
	spaceStalled.WithLabelValues(space.Name).Set(v)
}

// forgetSpaceConditions drops a deleted Space's series.
func forgetSpaceConditions(space string) {
	spaceStalled.DeleteLabelValues(space)
}

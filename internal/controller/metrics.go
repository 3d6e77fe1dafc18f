package controller

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Metrics beside controller-runtime's own (reconcile totals, errors and
// durations per controller: controller_runtime_reconcile_*).
// labelSpace is the metrics' label for the Space's name.
const labelSpace = "space"

var (
	compileSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "governor_access_model_compile_seconds",
		Help:    "Time to compile a Space's access model.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16), // 0.5ms .. ~16s
	}, []string{labelSpace})
	modelSize = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "governor_access_model_size",
		Help: "Size of a Space's compiled access model, by what is counted (groups, rules, members, problems).",
	}, []string{labelSpace, "count"})
	reconcileErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "governor_reconcile_errors_total",
		Help: "Reconcile passes that ended in an error, by kind and class (transient, stalled).",
	}, []string{"kind", "class"})
)

func init() {
	metrics.Registry.MustRegister(compileSeconds, modelSize, reconcileErrors)
}

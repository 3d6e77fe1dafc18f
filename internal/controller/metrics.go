package controller

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Metrics beside controller-runtime's own (reconcile totals, errors and
// durations per controller: controller_runtime_reconcile_*).
// labelSpace is the metrics' label for the Space's name.
const (
	labelSpace = "space"
)

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

// Platform metrics.
var (
	platformRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "governor_platform_requests_total",
		Help: "Requests to the platform's instances, by instance, endpoint (method and path template) and status code (0: no answer).",
	}, []string{"instance", "endpoint", "code"})
)

func init() {
	metrics.Registry.MustRegister(compileSeconds, modelSize, reconcileErrors,
		platformRequests)
}

// observeRequest counts an instance's API calls.
func observeRequest(instance string) func(method, path string, code int, _ time.Duration) {
	return func(method, path string, code int, _ time.Duration) {
		platformRequests.WithLabelValues(instance, method+" "+path, strconv.Itoa(code)).Inc()
	}
}

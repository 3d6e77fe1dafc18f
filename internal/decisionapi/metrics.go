package decisionapi

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// labelOperation is the metrics' label for the API operation.
const labelOperation = "operation"

// The decision API's request metrics, served with the operator's other
// metrics (docs/observability.md). operation is check, who-can, permissions
// or unknown (any other path); code is the HTTP status.
var (
	apiRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "governor_decision_api_requests_total",
		Help: "Decision API requests, by operation and HTTP status code.",
	}, []string{labelOperation, "code"})
	apiRequestSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "governor_decision_api_request_seconds",
		Help:    "Time to answer a decision API request, authentication and authorisation included, by operation.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14), // 0.5ms .. ~4s
	}, []string{labelOperation})
)

func init() {
	metrics.Registry.MustRegister(apiRequests, apiRequestSeconds)
}

// instrumented counts and times an operation's requests. Its series start
// at zero (200s counted, durations observed) so that rates and ratios are
// defined before the first request.
func instrumented(operation string, h http.Handler) http.Handler {
	labels := prometheus.Labels{labelOperation: operation}
	apiRequests.WithLabelValues(operation, "200")
	apiRequestSeconds.WithLabelValues(operation)
	return promhttp.InstrumentHandlerDuration(apiRequestSeconds.MustCurryWith(labels),
		promhttp.InstrumentHandlerCounter(apiRequests.MustCurryWith(labels), h))
}

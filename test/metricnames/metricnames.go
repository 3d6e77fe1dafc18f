// Package metricnames lists, in one place, the metrics that the operator
// chart's alerts and Grafana dashboard (charts/governor) read. The chart
// tests check that the rendered PrometheusRule and dashboard read these and
// no others; the end-to-end test checks that a running operator exports
// each one.
package metricnames

// Used are the metric families the alerts and the dashboard read, by family
// name (a histogram's _bucket, _sum and _count series belong to its family).
var Used = []string{
	// Platform sync (internal/controller/metrics.go).
	"governor_platform_requests_total",
	"governor_platform_sync_seconds",
	"governor_platform_pending",
	"governor_platform_drift",
	"governor_platform_effective_drift",
	"governor_platform_writes_total",
	// Access models.
	"governor_access_model_compile_seconds",
	"governor_access_model_size",
	// controller-runtime's work queue of the access model controller (named "accessmodel").
	"workqueue_queue_duration_seconds",
	"workqueue_depth",
	// Decision API (internal/decisionapi/metrics.go).
	"governor_decision_api_requests_total",
	"governor_decision_api_request_seconds",
	// Spaces (internal/controller/space_metrics.go, metrics.go).
	"governor_space_stalled",
	"governor_reconcile_errors_total",
}

// Pending are families of Used that the operator on this branch does not
// export yet, with the change that adds them. The end-to-end test accepts
// their absence and nothing else's; once exported, they are checked like the
// others (and should leave this map).
var Pending = map[string]string{}

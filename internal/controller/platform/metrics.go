package platform

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

const (
	labelSpace       = "space"
	labelEnvironment = "environment"
)

var (
	platformSyncSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "governor_platform_sync_seconds",
		Help:    "Time of one sync pass of a Space's environment.",
		Buckets: prometheus.ExponentialBuckets(0.01, 2, 16), // 10ms .. ~5m
	}, []string{labelSpace, labelEnvironment})
	platformPending = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "governor_platform_pending",
		Help: "What could not be placed in an environment's instance yet (members without an account, missing apps or resources).",
	}, []string{labelSpace, labelEnvironment})
	platformDrift = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "governor_platform_drift",
		Help: "Groups, members and grants an environment's instance holds in the Space that nothing declares.",
	}, []string{labelSpace, labelEnvironment})
	platformPlanned = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "governor_platform_planned",
		Help: "Calls a sync would make to an environment's instance, reported in Observe mode (0 in the other modes, whose passes make them).",
	}, []string{labelSpace, labelEnvironment})
	platformEffectiveDrift = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "governor_platform_effective_drift",
		Help: "Users whose level on an object of an environment's instance (Retool's own access list) differs from the model's, over the objects compared so far.",
	}, []string{labelSpace, labelEnvironment})
	platformWrites = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "governor_platform_writes_total",
		Help: "Write calls made to an environment's instance.",
	}, []string{labelSpace, labelEnvironment})
)

func init() {
	metrics.Registry.MustRegister(platformSyncSeconds, platformPending, platformDrift, platformPlanned, platformEffectiveDrift, platformWrites)
}

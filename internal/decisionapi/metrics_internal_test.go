package decisionapi

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// TestInstrumentedCountsAndTimesByOperationAndCode: every answer is counted
// under its operation and status code and timed under its operation, in the
// registry the operator serves on /metrics.
func TestInstrumentedCountsAndTimesByOperationAndCode(t *testing.T) {
	h := instrumented("test-op", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	for _, path := range []string{"/ok", "/ok", "/fail"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, path, nil))
	}
	families, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]float64{}
	var timed uint64
	for _, f := range families {
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["operation"] != "test-op" {
				continue
			}
			switch f.GetName() {
			case "governor_decision_api_requests_total":
				counts[labels["code"]] += m.GetCounter().GetValue()
			case "governor_decision_api_request_seconds":
				timed += m.GetHistogram().GetSampleCount()
			}
		}
	}
	if counts["200"] != 2 || counts["503"] != 1 {
		t.Errorf("requests counted by code %v, want 200: 2 and 503: 1", counts)
	}
	if timed != 3 {
		t.Errorf("%d requests timed, want 3", timed)
	}
}

package charts_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/governor-dev/governor/test/metricnames"
)

// monitoringOn renders the operator chart with its ServiceMonitor,
// PrometheusRule and Grafana dashboard.
var monitoringOn = []string{
	"--set", "metrics.serviceMonitor.enabled=true",
	"--set", "metrics.prometheusRule.enabled=true",
	"--set", "metrics.grafanaDashboard.enabled=true",
}

// alertNames are the alerts the chart renders with its defaults; the
// schema's metrics.prometheusRule.disabled enum and docs/observability.md
// list the same.
var alertNames = []string{
	"GovernorPlatformSyncFailing", "GovernorPlatformRateLimited", "GovernorPlatformBudgetSaturated",
	"GovernorPlatformSyncSlow", "GovernorEffectiveDrift", "GovernorAccessModelsLagging",
	"GovernorAccessModelCompileSlow", "GovernorDecisionAPIErrors", "GovernorDecisionAPISlow", "GovernorSpaceStalled",
}

// ruleGroups returns the rendered PrometheusRule's spec.groups.
func ruleGroups(t *testing.T, objs []*unstructured.Unstructured) []any {
	t.Helper()
	rules := byKind(objs, "PrometheusRule")
	if len(rules) != 1 {
		t.Fatalf("%d PrometheusRules rendered, want 1", len(rules))
	}
	groups, _, _ := unstructured.NestedSlice(rules[0].Object, "spec", "groups")
	return groups
}

// alerts returns the rendered alerts by name.
func alerts(t *testing.T, objs []*unstructured.Unstructured) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, g := range ruleGroups(t, objs) {
		rules, _, _ := unstructured.NestedSlice(g.(map[string]any), "rules")
		for _, r := range rules {
			r := r.(map[string]any)
			out[r["alert"].(string)] = r
		}
	}
	return out
}

// TestMonitoringObjects: nothing of the Prometheus Operator or Grafana by
// default; when enabled, a ServiceMonitor keeping the metrics' instance
// label, a PrometheusRule with every alert (severity, summary, description
// and a runbook link to docs/observability.md), and the dashboard's
// ConfigMap labelled for Grafana's sidecar, with valid JSON.
func TestMonitoringObjects(t *testing.T) {
	requireHelm(t)
	for _, kind := range []string{"ServiceMonitor", "PrometheusRule", "ConfigMap"} {
		if n := len(byKind(objects(t, mustTemplate(t, operatorChart, nil)), kind)); n != 0 {
			t.Errorf("%d %s rendered by default", n, kind)
		}
	}
	objs := objects(t, mustTemplate(t, operatorChart, nil, append(monitoringOn,
		"--set", "metrics.prometheusRule.alertLabels.team=platform",
		"--set", "metrics.grafanaDashboard.namespace=monitoring")...))
	sm := find(t, objs, "ServiceMonitor", "governor")
	endpoints, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
	if honor, _, _ := unstructured.NestedBool(endpoints[0].(map[string]any), "honorLabels"); !honor {
		t.Error("the ServiceMonitor renames the metrics' instance label (honorLabels is not true)")
	}
	got := alerts(t, objs)
	var names []string
	for name, r := range got {
		names = append(names, name)
		labels, _, _ := unstructured.NestedStringMap(r, "labels")
		if labels["severity"] == "" || labels["team"] != "platform" {
			t.Errorf("%s: labels %v, want a severity and the alertLabels", name, labels)
		}
		ann, _, _ := unstructured.NestedStringMap(r, "annotations")
		if ann["summary"] == "" || ann["description"] == "" {
			t.Errorf("%s: no summary or description", name)
		}
		if want := "https://github.com/governor-dev/governor/blob/main/docs/observability.md#" + strings.ToLower(name); ann["runbook_url"] != want {
			t.Errorf("%s: runbook_url %q, want %q", name, ann["runbook_url"], want)
		}
	}
	sort.Strings(names)
	want := slices.Clone(alertNames)
	sort.Strings(want)
	if !slices.Equal(names, want) {
		t.Errorf("alerts %v, want %v", names, want)
	}
	cm := find(t, objs, "ConfigMap", "governor-dashboard")
	if cm.GetNamespace() != "monitoring" || cm.GetLabels()["grafana_dashboard"] != "1" {
		t.Errorf("dashboard ConfigMap in %q with labels %v, want namespace monitoring and grafana_dashboard=1", cm.GetNamespace(), cm.GetLabels())
	}
	dashboard := dashboardJSON(t, objs)
	if dashboard["uid"] != "governor-operator" || len(dashboard["panels"].([]any)) < 15 {
		t.Errorf("dashboard uid %v with %d panels", dashboard["uid"], len(dashboard["panels"].([]any)))
	}

	// Disabled alerts are left out; an unlimited budget drops the budget alert.
	objs = objects(t, mustTemplate(t, operatorChart, nil, append(monitoringOn,
		"--set", "metrics.prometheusRule.disabled={GovernorAccessModelCompileSlow}", "--set", "platform.requestsPerMinute=-1")...))
	got = alerts(t, objs)
	for _, gone := range []string{"GovernorAccessModelCompileSlow", "GovernorPlatformBudgetSaturated"} {
		if _, ok := got[gone]; ok {
			t.Errorf("%s rendered", gone)
		}
	}
	if len(got) != len(alertNames)-2 {
		t.Errorf("%d alerts, want %d", len(got), len(alertNames)-2)
	}
	if _, err := template(t, operatorChart, nil, "--set", "metrics.prometheusRule.disabled={GovernorNoSuchAlert}"); err == nil {
		t.Error("an unknown alert name in metrics.prometheusRule.disabled was accepted")
	}
}

func dashboardJSON(t *testing.T, objs []*unstructured.Unstructured) map[string]any {
	t.Helper()
	cm := find(t, objs, "ConfigMap", "governor-dashboard")
	raw, _, _ := unstructured.NestedString(cm.Object, "data", "governor.json")
	var d map[string]any
	if err := json.Unmarshal([]byte(raw), &d); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	return d
}

// metricName finds metric names in PromQL: Governor's and the work queue's.
var metricName = regexp.MustCompile(`\b(?:governor|workqueue|controller_runtime)_[a-z_]+\b`)

// family maps a series name to its family (a histogram's _bucket, _sum, _count).
func family(name string) string {
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && slices.Contains(metricnames.Used, base) {
			return base
		}
	}
	return name
}

// TestAlertsAndDashboardReadTheListedMetrics: the metrics the alerts and the
// dashboard read are exactly metricnames.Used, the list the end-to-end test
// checks a running operator exports; every panel queries one.
func TestAlertsAndDashboardReadTheListedMetrics(t *testing.T) {
	requireHelm(t)
	objs := objects(t, mustTemplate(t, operatorChart, nil, monitoringOn...))
	read := map[string][]string{} // family -> where
	for name, r := range alerts(t, objs) {
		for _, m := range metricName.FindAllString(r["expr"].(string), -1) {
			read[family(m)] = append(read[family(m)], "alert "+name)
		}
	}
	var walk func(panels []any)
	walk = func(panels []any) {
		for _, p := range panels {
			p := p.(map[string]any)
			if p["type"] == "row" {
				walk(p["panels"].([]any))
				continue
			}
			targets, _ := p["targets"].([]any)
			if len(targets) == 0 {
				t.Errorf("panel %q queries nothing", p["title"])
			}
			for _, target := range targets {
				expr := target.(map[string]any)["expr"].(string)
				found := metricName.FindAllString(expr, -1)
				if len(found) == 0 {
					t.Errorf("panel %q: %q reads no Governor metric", p["title"], expr)
				}
				for _, m := range found {
					read[family(m)] = append(read[family(m)], "panel "+p["title"].(string))
				}
			}
		}
	}
	walk(dashboardJSON(t, objs)["panels"].([]any))
	for name, where := range read {
		if !slices.Contains(metricnames.Used, name) {
			t.Errorf("%s (read by %s) is not in metricnames.Used, which the end-to-end test checks", name, strings.Join(where, ", "))
		}
	}
	for _, name := range metricnames.Used {
		if _, ok := read[name]; !ok {
			t.Errorf("metricnames.Used lists %s, which no alert or panel reads", name)
		}
	}
}

// TestAlertsPromtool unit-tests every alert with promtool on made-up series
// (testdata/alerts.promtool.yaml): each fires on some and stays quiet on
// others. `promtool check rules` first validates the rendered rules,
// annotation templates included.
func TestAlertsPromtool(t *testing.T) {
	requireHelm(t)
	if promtoolBin == "" {
		t.Skip("-short without $PROMTOOL: skipping the promtool tests")
	}
	dir := t.TempDir()
	groups := ruleGroups(t, objects(t, mustTemplate(t, operatorChart, nil, monitoringOn...)))
	full, err := yaml.Marshal(map[string]any{"groups": groups})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "checked-rules.yaml"), full, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtoolBin, "check", "rules", filepath.Join(dir, "checked-rules.yaml")).CombinedOutput(); err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	// The unit tests compare labels; annotations (long prose) are checked above.
	for _, g := range groups {
		rules, _, _ := unstructured.NestedSlice(g.(map[string]any), "rules")
		for _, r := range rules {
			delete(r.(map[string]any), "annotations")
		}
		g.(map[string]any)["rules"] = rules
	}
	stripped, err := yaml.Marshal(map[string]any{"groups": groups})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "governor-rules.yaml"), stripped, 0o600); err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile(filepath.Join("testdata", "alerts.promtool.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "alerts.promtool.yaml"), tests, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(promtoolBin, "test", "rules", "alerts.promtool.yaml")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}

	// Every alert is tested firing and quiet.
	var suite struct {
		Tests []struct {
			AlertRuleTest []struct {
				Alertname string `json:"alertname"`
				ExpAlerts []any  `json:"exp_alerts"`
			} `json:"alert_rule_test"`
		} `json:"tests"`
	}
	if err := yaml.Unmarshal(tests, &suite); err != nil {
		t.Fatal(err)
	}
	fires, quiet := map[string]bool{}, map[string]bool{}
	for _, tc := range suite.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				fires[a.Alertname] = true
			} else {
				quiet[a.Alertname] = true
			}
		}
	}
	for _, name := range alertNames {
		if !fires[name] || !quiet[name] {
			t.Errorf("%s: tested firing %v, quiet %v; want both", name, fires[name], quiet[name])
		}
	}
}

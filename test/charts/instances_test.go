package charts_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// The five services of an instance, by component label.
var instanceComponents = []string{"backend", "jobs-runner", "workflows-backend", "workflows-worker", "code-executor"}

// The components running the backend image (the code executor runs its own).
var backendImageComponents = []string{"backend", "jobs-runner", "workflows-backend", "workflows-worker"}

// secretLooking matches variable names that must never carry an inline value.
var secretLooking = regexp.MustCompile(`SECRET|PASSWORD|TOKEN|PRIVATE_KEY|ACCESS_KEY|ENCRYPTION_KEY|LICENSE_KEY|TLS_KEY`)

func appVersion(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(instancesChart.dir(), "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		AppVersion string `json:"appVersion"`
	}
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c.AppVersion
}

func podSpec(d *unstructured.Unstructured) map[string]any {
	spec, _, _ := unstructured.NestedMap(d.Object, "spec", "template", "spec")
	return spec
}

// mainContainer returns the container named after the Deployment's component.
func mainContainer(t *testing.T, d *unstructured.Unstructured) map[string]any {
	t.Helper()
	component := d.GetLabels()["app.kubernetes.io/component"]
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	for _, c := range containers {
		if c.(map[string]any)["name"] == component {
			return c.(map[string]any)
		}
	}
	t.Fatalf("%s: no container named %s", d.GetName(), component)
	return nil
}

// env returns the main container's plain environment (name -> value) and
// the variables taken from Secrets (name -> "secret/key").
func env(t *testing.T, d *unstructured.Unstructured) (plain, secret map[string]string) {
	t.Helper()
	plain, secret = map[string]string{}, map[string]string{}
	vars, _, _ := unstructured.NestedSlice(mainContainer(t, d), "env")
	for _, v := range vars {
		v := v.(map[string]any)
		name := v["name"].(string)
		if _, dup := plain[name]; dup {
			t.Errorf("%s: %s set twice", d.GetName(), name)
		}
		if ref, ok, _ := unstructured.NestedMap(v, "valueFrom", "secretKeyRef"); ok {
			secret[name] = ref["name"].(string) + "/" + ref["key"].(string)
			continue
		}
		value, _ := v["value"].(string)
		plain[name] = value
	}
	return plain, secret
}

func deployment(t *testing.T, objs []*unstructured.Unstructured, env, component string) *unstructured.Unstructured {
	t.Helper()
	return find(t, objs, "Deployment", "retool-"+env+"-"+component)
}

func nestedString(obj map[string]any, fields ...string) string {
	s, _, _ := unstructured.NestedString(obj, fields...)
	return s
}

// TestInstancesDefaults checks what the defaults promise: development,
// staging and production, each with the five services Retool runs wired to
// one another, per-environment image tags, graceful shutdown, probes and
// secrets only by reference; secure cookies everywhere, read-only instances
// locked by Source Control's instance setting (no legacy variable), every
// instance pulling main, and Retool's chart's probes, spreading and worker
// metrics.
func TestInstancesDefaults(t *testing.T) {
	requireHelm(t)
	objs := objects(t, mustTemplate(t, instancesChart, nil))
	version := appVersion(t)
	want := map[string]struct {
		readOnly bool
		branch   string
	}{
		"development": {false, ""},
		"staging":     {true, "main"},
		"production":  {true, "main"},
	}
	serviceTypes := map[string]string{
		"backend":           "MAIN_BACKEND,DB_CONNECTOR,DB_SSH_CONNECTOR",
		"jobs-runner":       "JOBS_RUNNER",
		"workflows-backend": "WORKFLOW_BACKEND,DB_CONNECTOR,DB_SSH_CONNECTOR",
		"workflows-worker":  "WORKFLOW_TEMPORAL_WORKER",
	}
	for envName, w := range want {
		prefix := "retool-" + envName + "-"
		for _, component := range backendImageComponents {
			d := deployment(t, objs, envName, component)
			plain, secret := env(t, d)
			if plain["SERVICE_TYPE"] != serviceTypes[component] {
				t.Errorf("%s: SERVICE_TYPE=%q, want %q", d.GetName(), plain["SERVICE_TYPE"], serviceTypes[component])
			}
			if got, ok := plain["COOKIE_INSECURE"]; !ok || got != "false" {
				t.Errorf("%s: COOKIE_INSECURE=%q (set %v), want false (Retool's default is true)", d.GetName(), got, ok)
			}
			if got, ok := plain["VERSION_CONTROL_LOCKED"]; ok {
				t.Errorf("%s: VERSION_CONTROL_LOCKED=%q; Source Control locks through the instance setting, the Git Syncing variable is opt-in", d.GetName(), got)
			}
			for name := range plain {
				if strings.HasSuffix(name, "_MAIN_BRANCH") {
					t.Errorf("%s: %s set without a provider", d.GetName(), name)
				}
			}
			if got := d.GetAnnotations()["governor.dev/branch"]; got != w.branch {
				t.Errorf("%s: governor.dev/branch=%q, want %q", d.GetName(), got, w.branch)
			}
			for _, name := range []string{"POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD", "ENCRYPTION_KEY", "JWT_SECRET", "LICENSE_KEY"} {
				if _, ok := secret[name]; !ok {
					t.Errorf("%s: %s is not taken from a Secret", d.GetName(), name)
				}
			}
			for name := range plain {
				if strings.HasPrefix(name, "WORKFLOW_TEMPORAL_") {
					t.Errorf("%s: %s set, but Temporal is Retool-managed by default (no WORKFLOW_TEMPORAL_* variables)", d.GetName(), name)
				}
			}
			_, migrationsOff := plain["DISABLE_DATABASE_MIGRATIONS"]
			if wantOff := strings.HasPrefix(component, "workflows-"); migrationsOff != wantOff {
				t.Errorf("%s: DISABLE_DATABASE_MIGRATIONS set %v, want %v (only the workflows services leave migrations to others)", d.GetName(), migrationsOff, wantOff)
			}
			if image := nestedString(mainContainer(t, d), "image"); image != "tryretool/backend:"+version {
				t.Errorf("%s: image %s, want tryretool/backend:%s", d.GetName(), image, version)
			}
			if component != "jobs-runner" {
				if got := plain["CODE_EXECUTOR_INGRESS_DOMAIN"]; got != "http://"+prefix+"code-executor" {
					t.Errorf("%s: CODE_EXECUTOR_INGRESS_DOMAIN=%q", d.GetName(), got)
				}
				if got := plain["WORKFLOW_BACKEND_HOST"]; got != "http://"+prefix+"workflows-backend:3000" {
					t.Errorf("%s: WORKFLOW_BACKEND_HOST=%q", d.GetName(), got)
				}
			}
			if got := d.GetLabels()["governor.dev/environment"]; got != envName {
				t.Errorf("%s: governor.dev/environment=%q", d.GetName(), got)
			}
		}
		for _, component := range instanceComponents {
			d := deployment(t, objs, envName, component)
			spec := podSpec(d)
			if g, _, _ := unstructured.NestedInt64(spec, "terminationGracePeriodSeconds"); g != 391 {
				t.Errorf("%s: terminationGracePeriodSeconds %d, want Retool's 391", d.GetName(), g)
			}
			if arch := nestedString(spec, "nodeSelector", "kubernetes.io/arch"); arch != "amd64" {
				t.Errorf("%s: nodeSelector kubernetes.io/arch=%q, want amd64", d.GetName(), arch)
			}
			if spec["automountServiceAccountToken"] != false {
				t.Errorf("%s: mounts a Kubernetes token by default", d.GetName())
			}
			c := mainContainer(t, d)
			served := slices.Contains([]string{"backend", "workflows-backend", "code-executor"}, component)
			preStop, _, _ := unstructured.NestedStringSlice(c, "lifecycle", "preStop", "exec", "command")
			if served != slices.Equal(preStop, []string{"sleep", "30"}) {
				t.Errorf("%s: preStop %v; want sleep 30 on the components behind a Service", d.GetName(), preStop)
			}
			if component == "jobs-runner" {
				for _, probe := range []string{"readinessProbe", "livenessProbe"} {
					if path, port := nestedString(c, probe, "httpGet", "path"), nestedString(c, probe, "httpGet", "port"); path != "/api/checkJobsRunnerHealth" || port != "health" {
						t.Errorf("%s: %s on %s port %s, want /api/checkJobsRunnerHealth on health (3003)", d.GetName(), probe, path, port)
					}
				}
				if ports, _, _ := unstructured.NestedSlice(c, "ports"); len(ports) != 1 || ports[0].(map[string]any)["containerPort"] != int64(3003) {
					t.Errorf("%s: ports %v, want health 3003", d.GetName(), ports)
				}
				if _, ok := spec["affinity"]; ok {
					t.Errorf("%s: one pod, yet an anti-affinity", d.GetName())
				}
				continue
			}
			for _, probe := range []string{"startupProbe", "readinessProbe", "livenessProbe"} {
				if path := nestedString(c, probe, "httpGet", "path"); path != "/api/checkHealth" {
					t.Errorf("%s: %s path %q", d.GetName(), probe, path)
				}
			}
			if st, _, _ := unstructured.NestedInt64(c, "readinessProbe", "successThreshold"); st != 5 {
				t.Errorf("%s: readiness successThreshold %d, want Retool's 5", d.GetName(), st)
			}
			terms, _, _ := unstructured.NestedSlice(spec, "affinity", "podAntiAffinity", "preferredDuringSchedulingIgnoredDuringExecution")
			if len(terms) != 1 {
				t.Errorf("%s: preferred pod anti-affinity %v, want one term", d.GetName(), terms)
			} else {
				term := terms[0].(map[string]any)
				sel, _, _ := unstructured.NestedStringMap(term, "podAffinityTerm", "labelSelector", "matchLabels")
				if nestedString(term, "podAffinityTerm", "topologyKey") != "kubernetes.io/hostname" || sel["app.kubernetes.io/component"] != component || sel["governor.dev/environment"] != envName {
					t.Errorf("%s: anti-affinity %v, want the component's own pods spread by hostname", d.GetName(), term)
				}
			}
		}
		wb := mainContainer(t, deployment(t, objs, envName, "workflows-backend"))
		if cpu, mem := nestedString(wb, "resources", "requests", "cpu"), nestedString(wb, "resources", "requests", "memory"); envName != "development" && (cpu != "2" || mem != "4Gi") {
			t.Errorf("%s workflows backend requests %s CPU / %s, want Retool's 2 / 4Gi", envName, cpu, mem)
		}
		worker := deployment(t, objs, envName, "workflows-worker")
		if plain, _ := env(t, worker); plain["WORKFLOW_WORKER_HEALTHCHECK_PORT"] != "3005" {
			t.Errorf("%s: WORKFLOW_WORKER_HEALTHCHECK_PORT=%q", worker.GetName(), plain["WORKFLOW_WORKER_HEALTHCHECK_PORT"])
		}
		if port := nestedString(mainContainer(t, worker), "livenessProbe", "httpGet", "port"); port != "health" {
			t.Errorf("%s: liveness probe on port %q, want health (3005)", worker.GetName(), port)
		}
		annotations, _, _ := unstructured.NestedStringMap(worker.Object, "spec", "template", "metadata", "annotations")
		if annotations["prometheus.io/scrape"] != "true" || annotations["prometheus.io/port"] != "9090" {
			t.Errorf("%s: pod annotations %v, want prometheus.io/scrape and port 9090", worker.GetName(), annotations)
		}
		workerSvc := find(t, objs, "Service", prefix+"workflows-worker")
		svcPorts, _, _ := unstructured.NestedSlice(workerSvc.Object, "spec", "ports")
		var workerPorts []int64
		for _, p := range svcPorts {
			workerPorts = append(workerPorts, p.(map[string]any)["port"].(int64))
		}
		if !slices.Equal(workerPorts, []int64{3005, 9090}) {
			t.Errorf("Service %s ports %v, want 3005 and 9090", workerSvc.GetName(), workerPorts)
		}
		np := find(t, objs, "NetworkPolicy", prefix+"block-cloud-metadata")
		egress, _, _ := unstructured.NestedSlice(np.Object, "spec", "egress")
		except, _, _ := unstructured.NestedStringSlice(egress[0].(map[string]any)["to"].([]any)[0].(map[string]any), "ipBlock", "except")
		if !slices.Contains(except, "169.254.169.254/32") {
			t.Errorf("NetworkPolicy %s lets pods reach the cloud metadata endpoint: %v", np.GetName(), egress)
		}
		if sel, _, _ := unstructured.NestedStringMap(np.Object, "spec", "podSelector", "matchLabels"); sel["governor.dev/environment"] != envName || sel["app.kubernetes.io/instance"] != "retool" {
			t.Errorf("NetworkPolicy %s selects %v", np.GetName(), sel)
		}

		ce := deployment(t, objs, envName, "code-executor")
		ceContainer := mainContainer(t, ce)
		if image := nestedString(ceContainer, "image"); image != "tryretool/code-executor-service:"+version {
			t.Errorf("%s: image %s", ce.GetName(), image)
		}
		if p, _, _ := unstructured.NestedBool(ceContainer, "securityContext", "privileged"); !p {
			t.Errorf("%s: not privileged; nsjail sandboxes need it by default", ce.GetName())
		}
		ports, _, _ := unstructured.NestedSlice(ceContainer, "ports")
		if len(ports) != 1 || ports[0].(map[string]any)["containerPort"] != int64(3004) {
			t.Errorf("%s: ports %v, want http 3004", ce.GetName(), ports)
		}
		svc := find(t, objs, "Service", prefix+"code-executor")
		svcPorts, _, _ = unstructured.NestedSlice(svc.Object, "spec", "ports")
		if len(svcPorts) != 1 || svcPorts[0].(map[string]any)["port"] != int64(80) || svcPorts[0].(map[string]any)["targetPort"] != "http" {
			t.Errorf("Service %s ports %v, want 80 -> http", svc.GetName(), svcPorts)
		}
		if sel, _, _ := unstructured.NestedStringMap(svc.Object, "spec", "selector"); sel["app.kubernetes.io/component"] != "code-executor" {
			t.Errorf("Service %s selects %v", svc.GetName(), sel)
		}
		for _, component := range backendImageComponents {
			c := mainContainer(t, deployment(t, objs, envName, component))
			if ape, ok, _ := unstructured.NestedBool(c, "securityContext", "allowPrivilegeEscalation"); !ok || ape {
				t.Errorf("%s %s: allowPrivilegeEscalation not false", envName, component)
			}
		}

		runner := deployment(t, objs, envName, "jobs-runner")
		if r, _, _ := unstructured.NestedInt64(runner.Object, "spec", "replicas"); r != 1 {
			t.Errorf("%s: %d replicas, want exactly 1", runner.GetName(), r)
		}
		if s := nestedString(runner.Object, "spec", "strategy", "type"); s != "Recreate" {
			t.Errorf("%s: strategy %q, want Recreate", runner.GetName(), s)
		}
		for _, component := range []string{"backend", "workflows-worker"} {
			hpa := find(t, objs, "HorizontalPodAutoscaler", prefix+component)
			if target := nestedString(hpa.Object, "spec", "scaleTargetRef", "name"); target != prefix+component {
				t.Errorf("%s: scales %q", hpa.GetName(), target)
			}
			d := deployment(t, objs, envName, component)
			if _, ok, _ := unstructured.NestedFieldNoCopy(d.Object, "spec", "replicas"); ok {
				t.Errorf("%s: sets spec.replicas although its HPA owns them", d.GetName())
			}
			find(t, objs, "PodDisruptionBudget", prefix+component)
		}
		find(t, objs, "PodDisruptionBudget", prefix+"workflows-backend")
		find(t, objs, "Service", "retool-"+envName)

		test := find(t, objs, "Pod", prefix+"test-health")
		if hook := test.GetAnnotations()["helm.sh/hook"]; hook != "test" {
			t.Errorf("%s: helm.sh/hook %q, want test", test.GetName(), hook)
		}
		containers, _, _ := unstructured.NestedSlice(test.Object, "spec", "containers")
		cmd, _, _ := unstructured.NestedStringSlice(containers[0].(map[string]any), "command")
		if !slices.Contains(cmd, "http://retool-"+envName+":3000/api/checkHealth") {
			t.Errorf("%s: command %v does not call the backend's health endpoint", test.GetName(), cmd)
		}
	}
	if n := len(byKind(objs, "Deployment")); n != 15 {
		t.Errorf("%d Deployments, want 15 (5 per environment)", n)
	}
	noInlineSecrets(t, objs)
}

// noInlineSecrets fails on any Secret object and on any plain variable whose
// name looks like a secret.
func noInlineSecrets(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	if n := len(byKind(objs, "Secret")); n != 0 {
		t.Errorf("the chart renders %d Secrets; secrets are referenced by name, never inlined", n)
	}
	for _, d := range byKind(objs, "Deployment") {
		containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
		for _, c := range containers {
			vars, _, _ := unstructured.NestedSlice(c.(map[string]any), "env")
			for _, v := range vars {
				v := v.(map[string]any)
				if _, inline := v["value"]; inline && secretLooking.MatchString(v["name"].(string)) {
					t.Errorf("%s: %s has an inline value", d.GetName(), v["name"])
				}
			}
		}
	}
}

// TestInstancesImageTags: each environment runs its own tag (default the
// chart's appVersion), and the code executor follows its environment's tag.
func TestInstancesImageTags(t *testing.T) {
	requireHelm(t)
	version := appVersion(t)
	objs := objects(t, mustTemplate(t, instancesChart, nil,
		"--set", "environments.development.image.tag=3.300.1-stable",
		"--set", "environments.staging.image.tag=3.300.1-stable",
		"--set", "environments.production.codeExecutor.image.tag=3.284.5-support"))
	want := map[string][2]string{ // backend image tag, code executor tag
		"development": {"3.300.1-stable", "3.300.1-stable"},
		"staging":     {"3.300.1-stable", "3.300.1-stable"},
		"production":  {version, "3.284.5-support"},
	}
	for envName, tags := range want {
		for _, component := range backendImageComponents {
			d := deployment(t, objs, envName, component)
			if image := nestedString(mainContainer(t, d), "image"); image != "tryretool/backend:"+tags[0] {
				t.Errorf("%s: image %s, want tag %s", d.GetName(), image, tags[0])
			}
			if v := d.GetLabels()["app.kubernetes.io/version"]; v != tags[0] {
				t.Errorf("%s: app.kubernetes.io/version %q, want %s", d.GetName(), v, tags[0])
			}
		}
		ce := deployment(t, objs, envName, "code-executor")
		if image := nestedString(mainContainer(t, ce), "image"); image != "tryretool/code-executor-service:"+tags[1] {
			t.Errorf("%s: image %s, want tag %s", ce.GetName(), image, tags[1])
		}
	}
}

// TestInstancesTemporal: an external Temporal gets host, port, namespace and
// TLS from a Secret on every service that talks to it; disabling workflows
// removes the workflows services and their wiring, not the code executor.
func TestInstancesTemporal(t *testing.T) {
	requireHelm(t)
	objs := objects(t, mustTemplate(t, instancesChart, nil,
		"--set", "instanceDefaults.workflows.temporal.mode=External",
		"--set", "instanceDefaults.workflows.temporal.host=temporal-frontend.temporal",
		"--set", "instanceDefaults.workflows.temporal.port=7234",
		"--set", "environments.production.workflows.temporal.tls.enabled=true",
		"--set", "environments.production.workflows.temporal.tls.secretName=temporal-mtls"))
	for _, component := range backendImageComponents {
		plain, secret := env(t, deployment(t, objs, "production", component))
		if plain["WORKFLOW_TEMPORAL_CLUSTER_FRONTEND_HOST"] != "temporal-frontend.temporal" ||
			plain["WORKFLOW_TEMPORAL_CLUSTER_FRONTEND_PORT"] != "7234" ||
			plain["WORKFLOW_TEMPORAL_CLUSTER_NAMESPACE"] != "retool-production" ||
			plain["WORKFLOW_TEMPORAL_TLS_ENABLED"] != "true" {
			t.Errorf("production %s: Temporal variables %v", component, plain)
		}
		if secret["WORKFLOW_TEMPORAL_TLS_CRT"] != "temporal-mtls/temporal-tls-crt" || secret["WORKFLOW_TEMPORAL_TLS_KEY"] != "temporal-mtls/temporal-tls-key" {
			t.Errorf("production %s: TLS client certificate not from Secret temporal-mtls: %v", component, secret)
		}
		plain, _ = env(t, deployment(t, objs, "staging", component))
		if _, ok := plain["WORKFLOW_TEMPORAL_TLS_ENABLED"]; ok || plain["WORKFLOW_TEMPORAL_CLUSTER_FRONTEND_HOST"] == "" {
			t.Errorf("staging %s: want an external Temporal without TLS: %v", component, plain)
		}
	}
	vars, _, _ := unstructured.NestedSlice(mainContainer(t, deployment(t, objs, "production", "code-executor")), "env")
	for _, v := range vars {
		if name := v.(map[string]any)["name"].(string); strings.HasPrefix(name, "WORKFLOW_") {
			t.Errorf("the code executor gets %s; it does not talk to Temporal", name)
		}
	}

	objs = objects(t, mustTemplate(t, instancesChart, nil, "--set", "environments.staging.workflows.enabled=false"))
	for _, o := range objs {
		if strings.HasPrefix(o.GetName(), "retool-staging-workflows-") {
			t.Errorf("workflows disabled, yet %s %s", o.GetKind(), o.GetName())
		}
	}
	plain, _ := env(t, deployment(t, objs, "staging", "backend"))
	if _, ok := plain["WORKFLOW_BACKEND_HOST"]; ok {
		t.Error("workflows disabled, yet the backend gets WORKFLOW_BACKEND_HOST")
	}
	if plain["CODE_EXECUTOR_INGRESS_DOMAIN"] == "" {
		t.Error("workflows disabled: the backend lost CODE_EXECUTOR_INGRESS_DOMAIN (custom API authentication needs the code executor)")
	}

	objs = objects(t, mustTemplate(t, instancesChart, nil, "--set", "instanceDefaults.codeExecutor.enabled=false", "--set", "instanceDefaults.jobsRunner.enabled=false"))
	for _, o := range objs {
		if strings.HasSuffix(o.GetName(), "-code-executor") || strings.HasSuffix(o.GetName(), "-jobs-runner") {
			t.Errorf("disabled, yet %s %s", o.GetKind(), o.GetName())
		}
	}
	plain, _ = env(t, deployment(t, objs, "production", "backend"))
	if _, ok := plain["CODE_EXECUTOR_INGRESS_DOMAIN"]; ok {
		t.Error("code executor disabled, yet CODE_EXECUTOR_INGRESS_DOMAIN is set")
	}
	if plain["SERVICE_TYPE"] != "MAIN_BACKEND,DB_CONNECTOR,DB_SSH_CONNECTOR,JOBS_RUNNER" {
		t.Errorf("without a jobs runner the backend runs the jobs; SERVICE_TYPE=%q", plain["SERVICE_TYPE"])
	}
}

// TestInstancesSourceControl renders each provider and checks its variables:
// only names found in Retool's documentation or chart (docs/instances.md
// gives each one's source), settings as values, credentials from the
// environment's Secret, the branch in the provider's documented variable.
func TestInstancesSourceControl(t *testing.T) {
	requireHelm(t)
	cases := []struct {
		provider string
		set      []string
		plain    map[string]string
		secret   map[string]string
		branch   string   // the provider's documented branch variable, or ""
		absent   []string // names found in no Retool document or chart
	}{
		{"GitHub", nil, nil,
			map[string]string{"GITHUB_APP_PRIVATE_KEY": "github-app-private-key"}, "",
			[]string{"GITHUB_ORG", "GITHUB_REPO", "GITHUB_APP_ID", "GITHUB_APP_INSTALLATION_ID", "GITHUB_MAIN_BRANCH"}},
		{"GitLab", nil, nil, nil, "",
			[]string{"GITLAB_URL", "GITLAB_PROJECT_ID", "GITLAB_PROJECT_SLUG", "GITLAB_PROJECT_ACCESS_TOKEN", "GITLAB_MAIN_BRANCH"}},
		{"Bitbucket", nil, nil,
			map[string]string{"BITBUCKET_APP_PASSWORD": "bitbucket-app-password"}, "BITBUCKET_MAIN_BRANCH",
			[]string{"BITBUCKET_WORKSPACE", "BITBUCKET_REPO_SLUG", "BITBUCKET_USERNAME", "BITBUCKET_URL"}},
		{"AzureRepos", []string{"sourceControl.azureRepos.organization=acme", "sourceControl.azureRepos.repositoryName=apps", "sourceControl.azureRepos.user=retool"},
			map[string]string{"AZURE_REPOS_ORGANIZATION": "acme", "AZURE_REPOS_REPO": "apps", "AZURE_REPOS_USER": "retool"},
			map[string]string{"AZURE_REPOS_PERSONAL_ACCESS_TOKEN": "azure-repos-personal-access-token"}, "AZURE_REPOS_MAIN_BRANCH",
			[]string{"AZURE_REPOS_URL", "AZURE_REPOS_PROJECT"}},
		{"AWSCodeCommit", nil, nil, nil, "",
			[]string{"CODE_COMMIT_REGION", "CODE_COMMIT_REPOSITORY_NAME", "CODE_COMMIT_AWS_ACCESS_KEY_ID", "CODE_COMMIT_AWS_SECRET_ACCESS_KEY", "CODE_COMMIT_HTTPS_USERNAME", "CODE_COMMIT_HTTPS_PASSWORD", "CODE_COMMIT_MAIN_BRANCH"}},
	}
	for _, tc := range cases {
		t.Run(tc.provider, func(t *testing.T) {
			args := []string{"--set", "sourceControl.provider=" + tc.provider,
				"--set", "environments.development.sourceControl.enabled=false",
				"--set", "environments.production.sourceControl.secretName=retool-git"}
			for _, s := range tc.set {
				args = append(args, "--set", s)
			}
			objs := objects(t, mustTemplate(t, instancesChart, nil, args...))
			for envName, secretName := range map[string]string{"staging": "retool-staging-source-control", "production": "retool-git"} {
				for _, component := range backendImageComponents {
					plain, secret := env(t, deployment(t, objs, envName, component))
					for k, v := range tc.plain {
						if plain[k] != v {
							t.Errorf("%s %s: %s=%q, want %q", envName, component, k, plain[k], v)
						}
					}
					for k, key := range tc.secret {
						if secret[k] != secretName+"/"+key {
							t.Errorf("%s %s: %s from %q, want Secret %s key %s", envName, component, k, secret[k], secretName, key)
						}
					}
					for _, k := range tc.absent {
						_, inPlain := plain[k]
						_, inSecret := secret[k]
						if inPlain || inSecret {
							t.Errorf("%s %s: sets %s, which no Retool document or chart names", envName, component, k)
						}
					}
					if tc.branch != "" && plain[tc.branch] != "main" {
						t.Errorf("%s %s: %s=%q, want main (every instance pulls the protected main)", envName, component, tc.branch, plain[tc.branch])
					}
					if _, ok := plain["VERSION_CONTROL_LOCKED"]; ok {
						t.Errorf("%s %s: VERSION_CONTROL_LOCKED set without legacyGitSyncingLock", envName, component)
					}
				}
			}
			plain, secret := env(t, deployment(t, objs, "development", "backend"))
			for k := range tc.plain {
				if _, ok := plain[k]; ok {
					t.Errorf("development has sourceControl.enabled=false, yet %s", k)
				}
			}
			for k := range tc.secret {
				if _, ok := secret[k]; ok {
					t.Errorf("development has sourceControl.enabled=false, yet %s", k)
				}
			}
			noInlineSecrets(t, objs)
		})
	}

	// A required setting missing fails naming it and the variable.
	_, err := template(t, instancesChart, nil, "--set", "sourceControl.provider=AzureRepos", "--set", "sourceControl.azureRepos.organization=acme", "--set", "sourceControl.azureRepos.user=retool")
	if err == nil || !strings.Contains(err.Error(), "sourceControl.azureRepos.repositoryName") || !strings.Contains(err.Error(), "AZURE_REPOS_REPO") {
		t.Errorf("AzureRepos without repositoryName: %v", err)
	}
	// Settings the chart dropped are refused by the schema, not silently ignored.
	if _, err := template(t, instancesChart, nil, "--set", "sourceControl.github.appId=1"); err == nil || !strings.Contains(err.Error(), "appId") {
		t.Errorf("sourceControl.github.appId (no documented variable) rendered: %v", err)
	}
}

// TestInstancesReadOnlyLock: read-only instances are locked by Source
// Control's instance setting, so no variable by default; the Git Syncing
// variable only on request and only on read-only instances; per-environment
// branches still possible; the chart's variables cannot be set through env.
func TestInstancesReadOnlyLock(t *testing.T) {
	requireHelm(t)
	objs := objects(t, mustTemplate(t, instancesChart, nil,
		"--set", "sourceControl.legacyGitSyncingLock=true",
		"--set", "sourceControl.branchVariable=GIT_BRANCH",
		"--set", "environments.staging.branch=staging"))
	for envName, want := range map[string][2]string{"development": {"", ""}, "staging": {"true", "staging"}, "production": {"true", "main"}} {
		for _, component := range backendImageComponents {
			plain, _ := env(t, deployment(t, objs, envName, component))
			if plain["VERSION_CONTROL_LOCKED"] != want[0] || plain["GIT_BRANCH"] != want[1] {
				t.Errorf("%s %s: VERSION_CONTROL_LOCKED=%q GIT_BRANCH=%q, want %q %q", envName, component, plain["VERSION_CONTROL_LOCKED"], plain["GIT_BRANCH"], want[0], want[1])
			}
		}
	}
	for _, v := range []string{"VERSION_CONTROL_LOCKED", "COOKIE_INSECURE"} {
		_, err := template(t, instancesChart, nil, "--set", "environments.production.env."+v+"=true")
		if err == nil || !strings.Contains(err.Error(), "environments.production.env."+v) {
			t.Errorf("env.%s accepted: %v", v, err)
		}
	}
}

// TestInstancesInsecureCookies: COOKIE_INSECURE is false on every Retool
// container (the code executor's too) unless an environment served over
// plain HTTP asks for true.
func TestInstancesInsecureCookies(t *testing.T) {
	requireHelm(t)
	objs := objects(t, mustTemplate(t, instancesChart, nil, "--set", "environments.development.useInsecureCookies=true"))
	for envName, want := range map[string]string{"development": "true", "staging": "false", "production": "false"} {
		for _, component := range instanceComponents {
			if plain, _ := env(t, deployment(t, objs, envName, component)); plain["COOKIE_INSECURE"] != want {
				t.Errorf("%s %s: COOKIE_INSECURE=%q, want %s", envName, component, plain["COOKIE_INSECURE"], want)
			}
		}
	}
}

// TestInstancesTemporalNamespaces: one Temporal namespace per instance, as
// Retool requires; a render sharing one fails naming the namespace and both
// environments. The same name on another Temporal cluster is another namespace.
func TestInstancesTemporalNamespaces(t *testing.T) {
	requireHelm(t)
	shared := []string{
		"--set", "instanceDefaults.workflows.temporal.mode=External",
		"--set", "instanceDefaults.workflows.temporal.host=temporal.example.com",
		"--set", "instanceDefaults.workflows.temporal.namespace=retool",
	}
	_, err := template(t, instancesChart, nil, shared...)
	if err == nil {
		t.Fatal("three environments in one Temporal namespace rendered")
	}
	for _, want := range []string{`"retool"`, "temporal.example.com:7233", "environments.development", "environments.production", "one namespace per instance"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not mention %s:\n%v", want, err)
		}
	}
	// Each its own namespace (the default, <release>-<env>), or the same name on separate clusters: fine.
	mustTemplate(t, instancesChart, nil, shared[:4]...)
	mustTemplate(t, instancesChart, nil, append(shared,
		"--set", "environments.development.workflows.temporal.host=temporal-dev.example.com",
		"--set", "environments.staging.workflows.temporal.namespace=retool-staging")...)
	// Workflows off in all but one: nothing shared.
	mustTemplate(t, instancesChart, nil, append(shared,
		"--set", "environments.development.workflows.enabled=false",
		"--set", "environments.staging.workflows.enabled=false")...)
}

// TestInstancesEnvFromSecrets: secretEnv entries of the defaults and of an
// environment merge by name, envFrom of an environment replaces the default,
// and the code executor gets them too (as in Retool's chart), but none of the
// backend's own variables.
func TestInstancesEnvFromSecrets(t *testing.T) {
	requireHelm(t)
	objs := objects(t, mustTemplate(t, instancesChart, nil,
		"--set", "instanceDefaults.secretEnv.SCIM_AUTH_TOKEN.secretName=retool-scim",
		"--set", "instanceDefaults.secretEnv.SCIM_AUTH_TOKEN.key=token",
		"--set", "environments.production.secretEnv.CUSTOM_OAUTH2_SSO_CLIENT_SECRET.secretName=retool-sso",
		"--set", "environments.production.secretEnv.CUSTOM_OAUTH2_SSO_CLIENT_SECRET.key=client-secret",
		"--set", "instanceDefaults.envFrom[0].secretRef.name=retool-common",
		"--set", "environments.staging.envFrom[0].configMapRef.name=retool-staging-settings"))
	for _, component := range backendImageComponents {
		_, secret := env(t, deployment(t, objs, "production", component))
		if secret["SCIM_AUTH_TOKEN"] != "retool-scim/token" || secret["CUSTOM_OAUTH2_SSO_CLIENT_SECRET"] != "retool-sso/client-secret" {
			t.Errorf("production %s: %v", component, secret)
		}
		_, secret = env(t, deployment(t, objs, "development", component))
		if _, ok := secret["CUSTOM_OAUTH2_SSO_CLIENT_SECRET"]; ok || secret["SCIM_AUTH_TOKEN"] == "" {
			t.Errorf("development %s: %v, want the default's SCIM_AUTH_TOKEN only", component, secret)
		}
	}
	envFrom := func(envName, component string) []any {
		l, _, _ := unstructured.NestedSlice(mainContainer(t, deployment(t, objs, envName, component)), "envFrom")
		return l
	}
	if l := envFrom("production", "backend"); len(l) != 1 || nestedString(l[0].(map[string]any), "secretRef", "name") != "retool-common" {
		t.Errorf("production envFrom %v", l)
	}
	if l := envFrom("staging", "workflows-worker"); len(l) != 1 || nestedString(l[0].(map[string]any), "configMapRef", "name") != "retool-staging-settings" {
		t.Errorf("staging envFrom %v, want the environment's list instead of the default", l)
	}
	if l := envFrom("production", "code-executor"); len(l) != 1 || nestedString(l[0].(map[string]any), "secretRef", "name") != "retool-common" {
		t.Errorf("the code executor's envFrom %v, want the environment's", l)
	}
	plain, secret := env(t, deployment(t, objs, "production", "code-executor"))
	if secret["SCIM_AUTH_TOKEN"] != "retool-scim/token" || secret["CUSTOM_OAUTH2_SSO_CLIENT_SECRET"] != "retool-sso/client-secret" {
		t.Errorf("the code executor's secretEnv %v", secret)
	}
	for _, backendOnly := range []string{"POSTGRES_HOST", "ENCRYPTION_KEY", "SERVICE_TYPE", "JWT_SECRET"} {
		if _, ok := plain[backendOnly]; ok {
			t.Errorf("the code executor gets the backend's %s", backendOnly)
		}
		if _, ok := secret[backendOnly]; ok {
			t.Errorf("the code executor gets the backend's %s", backendOnly)
		}
	}
	objs = objects(t, mustTemplate(t, instancesChart, nil, "--set", "environments.staging.env.LOG_LEVEL=debug"))
	if plain, _ := env(t, deployment(t, objs, "staging", "code-executor")); plain["LOG_LEVEL"] != "debug" || plain["NODE_ENV"] != "production" {
		t.Errorf("the code executor's env %v, want LOG_LEVEL=debug beside its own", plain)
	}
	noInlineSecrets(t, objs)
}

// notes renders a chart's NOTES.txt (helm install --dry-run=client).
func notes(t *testing.T, c chart, valuesFiles []string, extra ...string) string {
	t.Helper()
	args := []string{"install", c.release, c.dir(), "--namespace", c.namespace, "--dry-run=client"}
	for _, f := range valuesFiles {
		args = append(args, "--values", f)
	}
	out, err := helm(t, append(args, extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	_, n, ok := strings.Cut(out, "\nNOTES:\n")
	if !ok {
		t.Fatalf("no NOTES in:\n%.2000s", out)
	}
	return n
}

// TestInstancesSharedBySpaces: one set serving the admin Space and two more
// routes each Space's host to the backend, and NOTES.txt prints each
// Space's instance URL per environment.
func TestInstancesSharedBySpaces(t *testing.T) {
	requireHelm(t)
	values := valuesPaths(instancesChart, []string{"shared-values.yaml"})
	objs := objects(t, mustTemplate(t, instancesChart, values))
	wantHosts := []string{"retool.example.com", "payments.retool.example.com", "ledger.retool.example.com"}
	route := find(t, objs, "HTTPRoute", "retool-production")
	if hosts, _, _ := unstructured.NestedStringSlice(route.Object, "spec", "hostnames"); !slices.Equal(hosts, wantHosts) {
		t.Errorf("production HTTPRoute hostnames %v, want %v", hosts, wantHosts)
	}
	rules, _, _ := unstructured.NestedSlice(route.Object, "spec", "rules")
	refs, _, _ := unstructured.NestedSlice(rules[0].(map[string]any), "backendRefs")
	if len(rules) != 1 || len(refs) != 1 || refs[0].(map[string]any)["name"] != "retool-production" || refs[0].(map[string]any)["port"] != int64(3000) {
		t.Errorf("production HTTPRoute rules %v, want all paths to the backend's Service", rules)
	}
	parents, _, _ := unstructured.NestedSlice(route.Object, "spec", "parentRefs")
	if len(parents) != 1 || parents[0].(map[string]any)["name"] != "public" {
		t.Errorf("production HTTPRoute parentRefs %v", parents)
	}
	if n := len(byKind(objs, "Ingress")); n != 0 {
		t.Errorf("%d Ingresses, want none (the HTTPRoute replaces them)", n)
	}
	// The same hosts through an Ingress, with TLS.
	ingObjs := objects(t, mustTemplate(t, instancesChart, values, "--set", "instanceDefaults.httpRoute.enabled=false",
		"--set", "instanceDefaults.ingress.enabled=true", "--set", "environments.production.ingress.tlsSecretName=retool-wildcard-tls"))
	ing := find(t, ingObjs, "Ingress", "retool-production")
	ingRules, _, _ := unstructured.NestedSlice(ing.Object, "spec", "rules")
	var hosts []string
	for _, r := range ingRules {
		hosts = append(hosts, r.(map[string]any)["host"].(string))
		paths, _, _ := unstructured.NestedSlice(r.(map[string]any), "http", "paths")
		if len(paths) != 1 || nestedString(paths[0].(map[string]any), "backend", "service", "name") != "retool-production" {
			t.Errorf("host %v routes %v, want the production backend's Service", r.(map[string]any)["host"], paths)
		}
	}
	if !slices.Equal(hosts, wantHosts) {
		t.Errorf("production Ingress hosts %v, want %v", hosts, wantHosts)
	}
	tls, _, _ := unstructured.NestedSlice(ing.Object, "spec", "tls")
	tlsHosts, _, _ := unstructured.NestedStringSlice(tls[0].(map[string]any), "hosts")
	if !slices.Equal(tlsHosts, wantHosts) {
		t.Errorf("production TLS hosts %v, want %v", tlsHosts, wantHosts)
	}
	extra := find(t, objs, "PodDisruptionBudget", "retool-production-jobs-runner")
	if sel, _, _ := unstructured.NestedStringMap(extra.Object, "spec", "selector", "matchLabels"); sel["app.kubernetes.io/instance"] != "retool" {
		t.Errorf("extraManifests: the PodDisruptionBudget's templated selector %v", sel)
	}
	svc := find(t, objs, "Service", "retool-production")
	if a := svc.GetAnnotations()["governor.dev/additional-spaces"]; a != "payments=payments,billing=ledger" {
		t.Errorf("Service annotation governor.dev/additional-spaces=%q", a)
	}
	for _, o := range objs {
		if o.GetLabels()["helm.sh/chart"] == "" {
			continue // extraManifests: the user's objects, as written
		}
		if o.GetLabels()["governor.dev/space"] != "hub" {
			t.Errorf("%s %s: governor.dev/space=%q, want the admin Space hub", o.GetKind(), o.GetName(), o.GetLabels()["governor.dev/space"])
		}
	}

	n := notes(t, instancesChart, values)
	for _, want := range []string{
		"# Space hub", "url: https://retool.example.com", "url: https://retool-dev.example.com",
		"# Space payments", "url: https://payments.retool.example.com", "url: https://payments.retool-staging.example.com",
		"# Space billing", "url: https://ledger.retool.example.com", "url: https://ledger.retool-dev.example.com",
	} {
		if !strings.Contains(n, want) {
			t.Errorf("NOTES.txt lacks %q:\n%s", want, n)
		}
	}
}

// TestNotes: both charts print what to do next; the instances chart prints
// each environment's instance URL in the form a Space's
// spec.environments[].instance.url wants.
func TestNotes(t *testing.T) {
	requireHelm(t)
	n := notes(t, instancesChart, nil, "--set", "space.name=payments", "--set", "environments.production.host=retool.example.com")
	for _, want := range []string{
		"# Space payments",
		"- name: development\n        instance:\n          url: http://retool-development.retool.svc:3000",
		"- name: production\n        readOnly: true\n        branch: main\n        instance:\n          url: https://retool.example.com",
		"helm test retool --namespace retool",
	} {
		if !strings.Contains(n, want) {
			t.Errorf("instances NOTES.txt lacks %q:\n%s", want, n)
		}
	}
	if strings.Contains(n, "space.name is empty") {
		t.Errorf("space.name is set, yet NOTES.txt asks for it:\n%s", n)
	}
	if n := notes(t, operatorChart, nil); !strings.Contains(n, "kubectl get spaces") || !strings.Contains(n, "charts/instances") {
		t.Errorf("governor NOTES.txt:\n%s", n)
	}
}

// TestInstancesValuesSchemaDescribed: every value of the instances chart has
// a description in values.schema.json (editors and `helm show values`
// readers see it), at every depth, in $defs too.
func TestInstancesValuesSchemaDescribed(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(instancesChart.dir(), "values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := yaml.Unmarshal(raw, &schema); err != nil {
		t.Fatal(err)
	}
	var walk func(path string, node map[string]any)
	walk = func(path string, node map[string]any) {
		props, _ := node["properties"].(map[string]any)
		for name, p := range props {
			p := p.(map[string]any)
			if d, _ := p["description"].(string); strings.TrimSpace(d) == "" {
				t.Errorf("%s.%s has no description", path, name)
			}
			walk(path+"."+name, p)
		}
		if items, ok := node["items"].(map[string]any); ok {
			walk(path+"[]", items)
		}
	}
	walk("values", schema)
	defs, _ := schema["$defs"].(map[string]any)
	if len(defs) == 0 {
		t.Fatal("no $defs: the schema's shape changed, update this test")
	}
	for name, d := range defs {
		walk("$defs."+name, d.(map[string]any))
	}
}

// TestReadmesDescribeEveryValue: each chart's README generated by helm-docs
// (make chart-docs; make verify keeps it current) has a description for
// every value it lists, so every value in values.yaml carries a `# --`
// comment.
func TestReadmesDescribeEveryValue(t *testing.T) {
	for _, tc := range []struct {
		chart   chart
		minRows int
	}{{instancesChart, 100}, {operatorChart, 60}} {
		raw, err := os.ReadFile(filepath.Join(tc.chart.dir(), "README.md"))
		if err != nil {
			t.Fatalf("%v (run make chart-docs)", err)
		}
		rows := 0
		for _, line := range strings.Split(string(raw), "\n") {
			if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| Key ") {
				continue
			}
			cells := strings.Split(strings.Trim(line, "|"), " | ")
			rows++
			if len(cells) < 4 || strings.TrimSpace(cells[len(cells)-1]) == "" {
				t.Errorf("%s README row without a description: %s", tc.chart.name, line)
			}
		}
		if rows < tc.minRows {
			t.Errorf("the %s README lists %d values; helm-docs did not see the comments (run make chart-docs)", tc.chart.name, rows)
		}
	}
}

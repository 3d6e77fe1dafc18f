package charts_test

import (
	"strings"
	"testing"
)

// TestSchemaRejections renders nonsense and expects Helm to refuse it with a
// message that names the offending value (a JSON pointer from
// values.schema.json, or a dotted path from a template's cross-field check).
func TestSchemaRejections(t *testing.T) {
	requireHelm(t)
	cases := []struct {
		name  string
		chart chart
		set   []string
		want  []string // every string must appear in the error
	}{
		// instances: values.schema.json
		{"negative backend replicas", instancesChart,
			[]string{"environments.production.backend.replicas=-1"},
			[]string{"/environments/production/backend/replicas", "minimum"}},
		{"negative worker replicas", instancesChart,
			[]string{"environments.staging.workflows.worker.replicas=-3"},
			[]string{"/environments/staging/workflows/worker/replicas", "minimum"}},
		{"zero HPA minimum", instancesChart,
			[]string{"environments.production.backend.autoscaling.minReplicas=0"},
			[]string{"/environments/production/backend/autoscaling/minReplicas", "minimum"}},
		{"unknown environment key", instancesChart,
			[]string{"environments.staging.replica=2"},
			[]string{"/environments/staging", "'replica'"}},
		{"unknown key in a component", instancesChart,
			[]string{"environments.production.workflows.worker.autoscaling.cpu=80"},
			[]string{"/environments/production/workflows/worker/autoscaling", "'cpu'"}},
		{"environment name not a DNS label", instancesChart,
			[]string{"environments.Prod.enabled=true"},
			[]string{"/environments", "'Prod'"}},
		{"unknown top-level key", instancesChart,
			[]string{"replicas=3"},
			[]string{"'replicas'", "not allowed"}},
		{"readOnly not a boolean", instancesChart,
			[]string{"environments.staging.readOnly=yes"},
			[]string{"/environments/staging/readOnly"}},
		{"bad branch variable", instancesChart,
			[]string{"sourceControl.branchVariable=main-branch"},
			[]string{"/sourceControl/branchVariable"}},
		{"service port out of range", instancesChart,
			[]string{"environments.development.service.port=70000"},
			[]string{"/environments/development/service/port", "maximum"}},
		{"service account name not an object name", instancesChart,
			[]string{"environments.production.serviceAccount.name=Retool_Prod"},
			[]string{"/environments/production/serviceAccount/name", "pattern"}},
		{"unknown service account key", instancesChart,
			[]string{"instanceDefaults.serviceAccount.automount=true"},
			[]string{"/instanceDefaults/serviceAccount", "'automount'"}},
		{"unknown Temporal mode", instancesChart,
			[]string{"instanceDefaults.workflows.temporal.mode=SelfHosted"},
			[]string{"/instanceDefaults/workflows/temporal/mode"}},
		{"secretEnv without a key", instancesChart,
			[]string{"environments.production.secretEnv.SCIM_AUTH_TOKEN.secretName=retool-scim"},
			[]string{"/environments/production/secretEnv/SCIM_AUTH_TOKEN", "'key'"}},
		{"secretEnv Secret not an object name", instancesChart,
			[]string{"instanceDefaults.secretEnv.SCIM_AUTH_TOKEN.secretName=Retool_SCIM", "instanceDefaults.secretEnv.SCIM_AUTH_TOKEN.key=token"},
			[]string{"/instanceDefaults/secretEnv/SCIM_AUTH_TOKEN/secretName", "pattern"}},
		{"unknown source control provider", instancesChart,
			[]string{"sourceControl.provider=Gitea"},
			[]string{"/sourceControl/provider"}},
		{"unknown GitHub setting", instancesChart,
			[]string{"sourceControl.github.privateKey=abc"},
			[]string{"/sourceControl/github", "'privateKey'"}},
		{"image tag with a space", instancesChart,
			[]string{"environments.staging.image.tag=3.284 stable"},
			[]string{"/environments/staging/image/tag"}},
		{"additional Space without a name", instancesChart,
			[]string{"space.name=hub", "space.additional[0].subdomain=payments"},
			[]string{"/space/additional/0", "'name'"}},
		{"grace period negative", instancesChart,
			[]string{"instanceDefaults.terminationGracePeriodSeconds=-1"},
			[]string{"/instanceDefaults/terminationGracePeriodSeconds", "minimum"}},
		// instances: cross-field checks in templates
		{"backend min above max", instancesChart,
			[]string{"environments.production.backend.autoscaling.minReplicas=12", "environments.production.backend.autoscaling.maxReplicas=4"},
			[]string{"environments.production.backend.autoscaling.minReplicas", "above maxReplicas (4)"}},
		{"worker min above max", instancesChart,
			[]string{"environments.development.workflows.worker.autoscaling.minReplicas=3"},
			[]string{"environments.development.workflows.worker.autoscaling.minReplicas", "above maxReplicas (2)"}},
		{"read-only without a branch", instancesChart,
			[]string{"environments.production.branch="},
			[]string{"environments.production.branch", "read-only"}},
		{"secret inlined as a variable", instancesChart,
			[]string{"environments.development.env.POSTGRES_PASSWORD=hunter2"},
			[]string{"environments.development.env.POSTGRES_PASSWORD", "secretName"}},
		{"ingress without a host", instancesChart,
			[]string{"environments.staging.ingress.enabled=true"},
			[]string{"environments.staging.host"}},
		{"secret-looking plain variable", instancesChart,
			[]string{"instanceDefaults.env.SCIM_AUTH_TOKEN=abc"},
			[]string{"env.SCIM_AUTH_TOKEN", "secretEnv"}},
		{"source control credential inlined", instancesChart,
			[]string{"environments.production.env.GITHUB_APP_PRIVATE_KEY=abc"},
			[]string{"environments.production.env.GITHUB_APP_PRIVATE_KEY", "the chart sets"}},
		{"chart-owned variable from a Secret", instancesChart,
			[]string{"environments.production.secretEnv.SERVICE_TYPE.secretName=x", "environments.production.secretEnv.SERVICE_TYPE.key=y"},
			[]string{"environments.production.secretEnv.SERVICE_TYPE", "the chart sets"}},
		{"external Temporal without a host", instancesChart,
			[]string{"environments.staging.workflows.temporal.mode=External"},
			[]string{"environments.staging.workflows.temporal.host"}},
		{"TLS to Retool-managed Temporal", instancesChart,
			[]string{"environments.production.workflows.temporal.tls.enabled=true"},
			[]string{"environments.production.workflows.temporal.tls.enabled", "External"}},
		{"GitHub without its App id", instancesChart,
			[]string{"sourceControl.provider=GitHub", "sourceControl.github.installationId=1", "sourceControl.github.organization=acme", "sourceControl.github.repositoryName=apps"},
			[]string{"sourceControl.github.appId", "GITHUB_APP_ID"}},
		{"additional Spaces without the admin Space", instancesChart,
			[]string{"space.additional[0].name=payments"},
			[]string{"space.name", "admin Space"}},
		{"additional Spaces without hosts", instancesChart,
			[]string{"space.name=hub", "space.additional[0].name=payments"},
			[]string{"host", "<subdomain>.<host>"}},
		{"two Spaces on one subdomain", instancesChart,
			[]string{"space.name=hub", "space.additional[0].name=payments", "space.additional[1].name=billing", "space.additional[1].subdomain=payments"},
			[]string{"space.additional[1]", "subdomain \"payments\""}},
		{"additional Space is the main one", instancesChart,
			[]string{"space.name=hub", "space.additional[0].name=hub"},
			[]string{"space.additional[0].name", "main organisation"}},

		// governor: values.schema.json
		{"operator replicas below one", operatorChart,
			[]string{"replicaCount=0"},
			[]string{"/replicaCount", "minimum"}},
		{"operator negative replicas", operatorChart,
			[]string{"replicaCount=-1"},
			[]string{"/replicaCount", "minimum"}},
		{"unknown pull policy", operatorChart,
			[]string{"image.pullPolicy=Sometimes"},
			[]string{"/image/pullPolicy"}},
		{"root container", operatorChart,
			[]string{"securityContext.runAsNonRoot=false"},
			[]string{"/securityContext/runAsNonRoot"}},
		{"privilege escalation", operatorChart,
			[]string{"securityContext.allowPrivilegeEscalation=true"},
			[]string{"/securityContext/allowPrivilegeEscalation"}},
		{"metrics port zero", operatorChart,
			[]string{"metrics.port=0"},
			[]string{"/metrics/port", "minimum"}},
		{"unknown operator key", operatorChart,
			[]string{"leaderElection.namespace=kube-system"},
			[]string{"/leaderElection", "'namespace'"}},
		{"bad digest", operatorChart,
			[]string{"image.digest=latest"},
			[]string{"/image/digest"}},
		{"API TLS Secret not an object name", operatorChart,
			[]string{"api.tls.secretName=API_TLS"},
			[]string{"/api/tls/secretName", "pattern"}},
		{"API client namespace not a DNS label", operatorChart,
			[]string{"api.clients[0].serviceAccount.namespace=Retool.Apps"},
			[]string{"/api/clients/0/serviceAccount/namespace", "pattern"}},
		{"API client without a service account", operatorChart,
			[]string{"api.clients[0].serviceAccount=null", "api.clients[0].spaces={payments}"},
			[]string{"/api/clients/0/serviceAccount", "want object"}},
		{"API client with a typo", operatorChart,
			[]string{"api.clients[0].space=payments"},
			[]string{"/api/clients/0", "'space'"}},
		{"API client Space not an object name", operatorChart,
			[]string{"api.clients[0].spaces={Payments}"},
			[]string{"/api/clients/0/spaces/0", "pattern"}},
		{"API client Space twice", operatorChart,
			[]string{"api.clients[0].spaces={payments,payments}"},
			[]string{"/api/clients/0/spaces", "equal"}},
		{"API client with every Space and a list", operatorChart,
			[]string{"api.clients[0].spaces={payments}", "api.clients[0].allSpaces=true"},
			[]string{"/api/clients/0", "not"}},
		{"API audience with a comma", operatorChart,
			[]string{`api.audience=a b`},
			[]string{"/api/audience", "pattern"}},
		{"namespace policy switch not a boolean", operatorChart,
			[]string{"rbac.namespacePolicy=maybe"},
			[]string{"/rbac/namespacePolicy"}},
		{"admission policy switch not a boolean", operatorChart,
			[]string{"admissionPolicy.enabled=maybe"},
			[]string{"/admissionPolicy/enabled"}},
		// governor: cross-field checks in templates
		{"replicas without leader election", operatorChart,
			[]string{"replicaCount=3", "leaderElection.enabled=false"},
			[]string{"replicaCount", "leaderElection.enabled=true"}},
		{"api port clashes with health port", operatorChart,
			[]string{"api.enabled=true", "api.port=8081"},
			[]string{"health.port", "8081", "api.port"}},
		{"service monitor without metrics", operatorChart,
			[]string{"metrics.enabled=false", "metrics.serviceMonitor.enabled=true"},
			[]string{"metrics.serviceMonitor.enabled", "metrics.enabled=true"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var extra []string
			for _, s := range tc.set {
				extra = append(extra, "--set", s)
			}
			out, err := template(t, tc.chart, nil, extra...)
			if err == nil {
				t.Fatalf("rendered although %v is nonsense:\n%.400s", tc.set, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error does not mention %q:\n%v", w, err)
				}
			}
		})
	}
}

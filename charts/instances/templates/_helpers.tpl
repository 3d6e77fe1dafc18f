{{/* Chart name. */}}
{{- define "instances.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Prefix of every object's name. */}}
{{- define "instances.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- end }}

{{/*
instances.fill fills the keys of a dict (index . 0) that are missing with the
values of another (index . 1), recursively: explicit false, 0 and "" in the
first win (unlike sprig's merge, which treats them as unset).
*/}}
{{- define "instances.fill" -}}
{{- $dst := index . 0 }}
{{- range $k, $v := index . 1 }}
{{- if not (hasKey $dst $k) }}
{{- $_ := set $dst $k (deepCopy $v) }}
{{- else if and (kindIs "map" $v) (kindIs "map" (index $dst $k)) }}
{{- include "instances.fill" (list (index $dst $k) $v) }}
{{- end }}
{{- end }}
{{- end }}

{{/*
instances.providers: per source control provider (the Space's
spec.sourceControl.provider names), the values block under sourceControl,
the branch variable, the plain settings (value key, variable, required) and
the credentials (value key naming the Secret key, variable). Only names
found in Retool's documentation or chart are here; docs/instances.md gives
the source of each. Providers without a documented variable set none: their
settings live in Retool's Source Control settings (UI or API).
*/}}
{{- define "instances.providers" -}}
GitHub:
  values: github
  branch: ""
  plain: []
  secret:
    - [privateKeyKey, GITHUB_APP_PRIVATE_KEY]
GitLab:
  values: ""
  branch: ""
  plain: []
  secret: []
Bitbucket:
  values: bitbucket
  branch: BITBUCKET_MAIN_BRANCH
  plain: []
  secret:
    - [appPasswordKey, BITBUCKET_APP_PASSWORD]
AzureRepos:
  values: azureRepos
  branch: AZURE_REPOS_MAIN_BRANCH
  plain:
    - [organization, AZURE_REPOS_ORGANIZATION, true]
    - [repositoryName, AZURE_REPOS_REPO, true]
    - [user, AZURE_REPOS_USER, true]
  secret:
    - [personalAccessTokenKey, AZURE_REPOS_PERSONAL_ACCESS_TOKEN]
AWSCodeCommit:
  values: ""
  branch: ""
  plain: []
  secret: []
{{- end }}

{{/* The variable holding an instance's branch ("" when there is none). */}}
{{- define "instances.branchVariable" -}}
{{- $sc := .Values.sourceControl }}
{{- if $sc.branchVariable }}{{ $sc.branchVariable }}
{{- else if $sc.provider }}{{ (get (fromYaml (include "instances.providers" .)) $sc.provider).branch }}
{{- end }}
{{- end }}

{{/*
instances.ownedVariables: the variables the chart sets itself, as a YAML
list; `env` and `secretEnv` may not set them.
*/}}
{{- define "instances.ownedVariables" -}}
{{- $owned := list "SERVICE_TYPE" "NODE_ENV" "NODE_OPTIONS" "BASE_DOMAIN" "COOKIE_INSECURE" "VERSION_CONTROL_LOCKED" "POSTGRES_HOST" "POSTGRES_PORT" "POSTGRES_DB" "POSTGRES_USER" "POSTGRES_PASSWORD" "POSTGRES_SSL_ENABLED" "ENCRYPTION_KEY" "JWT_SECRET" "LICENSE_KEY" "DBCONNECTOR_POSTGRES_POOL_MAX_SIZE" "DBCONNECTOR_QUERY_TIMEOUT_MS" "DISABLE_DATABASE_MIGRATIONS" "WORKFLOW_BACKEND_HOST" "WORKFLOW_WORKER_HEALTHCHECK_PORT" "CODE_EXECUTOR_INGRESS_DOMAIN" "WORKFLOW_TEMPORAL_CLUSTER_FRONTEND_HOST" "WORKFLOW_TEMPORAL_CLUSTER_FRONTEND_PORT" "WORKFLOW_TEMPORAL_CLUSTER_NAMESPACE" "WORKFLOW_TEMPORAL_TLS_ENABLED" "WORKFLOW_TEMPORAL_TLS_CRT" "WORKFLOW_TEMPORAL_TLS_KEY" }}
{{- with include "instances.branchVariable" . }}
{{- $owned = append $owned . }}
{{- end }}
{{- range $_, $p := fromYaml (include "instances.providers" .) }}
{{- with $p.branch }}
{{- $owned = append $owned . }}
{{- end }}
{{- range concat $p.plain $p.secret }}
{{- $owned = append $owned (index . 1) }}
{{- end }}
{{- end }}
{{- toYaml (uniq $owned) }}
{{- end }}

{{/*
instances.environments renders, as YAML, the enabled environments with their
defaults filled in and derived names resolved, after the cross-field checks
JSON schema cannot express. Every template reads it with fromYaml, so the
checks run on every render.
*/}}
{{- define "instances.environments" -}}
{{- $out := dict }}
{{- $prefix := include "instances.fullname" . }}
{{- $owned := fromYamlArray (include "instances.ownedVariables" .) }}
{{- $sc := .Values.sourceControl }}
{{- $provider := dict }}
{{- if $sc.provider }}
{{- $provider = get (fromYaml (include "instances.providers" .)) $sc.provider }}
{{- end }}
{{- if and .Values.space.additional (not .Values.space.name) }}
{{- fail "space.name: with space.additional, name the admin Space, the instances' main organisation" }}
{{- end }}
{{- $subdomains := dict }}
{{- range $i, $s := .Values.space.additional }}
{{- if eq $s.name $.Values.space.name }}
{{- fail (printf "space.additional[%d].name: %q is space.name, the main organisation; list only the other Spaces" $i $s.name) }}
{{- end }}
{{- $sub := default $s.name $s.subdomain }}
{{- if hasKey $subdomains $sub }}
{{- fail (printf "space.additional[%d]: subdomain %q is used by Space %q too" $i $sub (get $subdomains $sub)) }}
{{- end }}
{{- $_ := set $subdomains $sub $s.name }}
{{- end }}
{{- $temporalNamespaces := dict }}
{{- range $name, $values := .Values.environments }}
{{- $env := deepCopy (default dict $values) }}
{{- include "instances.fill" (list $env $.Values.instanceDefaults) }}
{{- if $env.enabled }}
{{- $path := printf "environments.%s" $name }}
{{- if gt (len (printf "%s-%s-workflows-backend" $prefix $name)) 63 }}
{{- fail (printf "%s: the name %q with the release name %q makes object names longer than 63 characters; shorten either (or set fullnameOverride)" $path $name $prefix) }}
{{- end }}
{{- if and $env.readOnly (not $env.branch) }}
{{- fail (printf "%s.branch: %s is read-only, so it must name the branch it pulls from (e.g. main)" $path $name) }}
{{- end }}
{{- if and $env.ingress.enabled (not $env.host) }}
{{- fail (printf "%s.host: the Ingress of %s needs a host name (or set %s.ingress.enabled=false)" $path $name $path) }}
{{- end }}
{{- if and $.Values.space.additional (not $env.host) }}
{{- fail (printf "%s.host: the Spaces of space.additional are reached at <subdomain>.<host>, so %s needs a host" $path $name) }}
{{- end }}
{{- range $var, $_ := $env.env }}
{{- if has $var $owned }}
{{- fail (printf "%s.env.%s: the chart sets %s itself (secrets come from %s.postgres, %s.secrets and %s.sourceControl.secretName, never inline values; read-only mode and the branch from %s.readOnly and %s.branch)" $path $var $var $path $path $path $path $path) }}
{{- end }}
{{- if regexMatch "SECRET|PASSWORD|TOKEN|PRIVATE_KEY|ACCESS_KEY" $var }}
{{- fail (printf "%s.env.%s: looks like a secret; never inline it: reference a Secret with %s.secretEnv.%s: {secretName: ..., key: ...}" $path $var $path $var) }}
{{- end }}
{{- end }}
{{- range $var, $ref := $env.secretEnv }}
{{- if has $var $owned }}
{{- fail (printf "%s.secretEnv.%s: the chart sets %s itself" $path $var $var) }}
{{- end }}
{{- if hasKey $env.env $var }}
{{- fail (printf "%s.secretEnv.%s: also set in %s.env; keep one" $path $var $path) }}
{{- end }}
{{- end }}
{{- range $component := list "backend" "workflows.worker" }}
{{- $c := ternary $env.backend $env.workflows.worker (eq $component "backend") }}
{{- $a := $c.autoscaling }}
{{- if and $a.enabled (gt (int $a.minReplicas) (int $a.maxReplicas)) }}
{{- fail (printf "%s.%s.autoscaling.minReplicas: %d is above maxReplicas (%d)" $path $component (int $a.minReplicas) (int $a.maxReplicas)) }}
{{- end }}
{{- end }}
{{- $t := $env.workflows.temporal }}
{{- if $env.workflows.enabled }}
{{- if and (eq $t.mode "External") (not $t.host) }}
{{- fail (printf "%s.workflows.temporal.host: an External Temporal needs its frontend host (or mode: RetoolManaged)" $path) }}
{{- end }}
{{- if and (eq $t.mode "RetoolManaged") $t.tls.enabled }}
{{- fail (printf "%s.workflows.temporal.tls.enabled: TLS settings apply to an External Temporal; Retool-managed Temporal needs none" $path) }}
{{- end }}
{{- if eq $t.mode "External" }}
{{- /* Retool: one Temporal namespace per instance, or one instance's workers run another's workflows. */}}
{{- $ns := default (printf "%s-%s" $prefix $name) $t.namespace }}
{{- $key := printf "%s:%d/%s" $t.host (int $t.port) $ns }}
{{- with get $temporalNamespaces $key }}
{{- fail (printf "%s.workflows.temporal.namespace: %q on %s:%d is also the Temporal namespace of environments.%s; Retool requires one namespace per instance (otherwise one instance's workers run the other's workflows): give each environment its own" $path $ns $t.host (int $t.port) .) }}
{{- end }}
{{- $_ := set $temporalNamespaces $key $name }}
{{- end }}
{{- end }}
{{- $sandbox := $env.codeExecutor.sandbox }}
{{- if and $env.codeExecutor.enabled $sandbox.enabled (not $sandbox.seccompProfile) (not $sandbox.configMapName) }}
{{- fail (printf "%s.codeExecutor.sandbox.seccompProfile: the sandbox needs the nsjail seccomp profile of Retool's chart (files/nsjail-seccomp.json): --set-file %s.codeExecutor.sandbox.seccompProfile=nsjail-seccomp.json, or name a ConfigMap holding it in %s.codeExecutor.sandbox.configMapName" $path $path $path) }}
{{- end }}
{{- if and $sandbox.seccompProfile $sandbox.configMapName }}
{{- fail (printf "%s.codeExecutor.sandbox: set seccompProfile or configMapName, not both" $path) }}
{{- end }}
{{- if $env.httpRoute.enabled }}
{{- if not $env.host }}
{{- fail (printf "%s.host: the HTTPRoute of %s needs a host name (or set %s.httpRoute.enabled=false)" $path $name $path) }}
{{- end }}
{{- if not $env.httpRoute.parentRefs }}
{{- fail (printf "%s.httpRoute.parentRefs: name the Gateway the HTTPRoute of %s attaches to" $path $name) }}
{{- end }}
{{- end }}
{{- if and $provider $env.sourceControl.enabled }}
{{- range $provider.plain }}
{{- if and (index . 2) (not (get (get $sc $provider.values) (index . 0))) }}
{{- fail (printf "sourceControl.%s.%s: %s needs it (%s) for %s; set it or %s.sourceControl.enabled=false" $provider.values (index . 0) $sc.provider (index . 1) $name $path) }}
{{- end }}
{{- end }}
{{- end }}
{{- $_ := set $env.image "tag" (default $.Chart.AppVersion $env.image.tag) }}
{{- $_ := set $env.codeExecutor.image "tag" (default $env.image.tag $env.codeExecutor.image.tag) }}
{{- $_ := set $env.postgres "secretName" (default (printf "%s-%s-postgres" $prefix $name) $env.postgres.secretName) }}
{{- $_ := set $env.secrets "secretName" (default (printf "%s-%s" $prefix $name) $env.secrets.secretName) }}
{{- $_ := set $env.sourceControl "secretName" (default (printf "%s-%s-source-control" $prefix $name) $env.sourceControl.secretName) }}
{{- $_ := set $env.serviceAccount "name" (default (ternary (printf "%s-%s" $prefix $name) "default" $env.serviceAccount.create) $env.serviceAccount.name) }}
{{- $_ := set $t "namespace" (default (printf "%s-%s" $prefix $name) $t.namespace) }}
{{- $_ := set $out $name $env }}
{{- end }}
{{- end }}
{{- toYaml $out }}
{{- end }}

{{/* Selector labels of one component of one environment: (dict "root" $ "env" name "component" c). */}}
{{- define "instances.selectorLabels" -}}
app.kubernetes.io/name: {{ include "instances.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
governor.dev/environment: {{ .env }}
{{- end }}

{{/* Labels of one component of one environment: (dict "root" $ "env" name "component" c "cfg" env-config). */}}
{{- define "instances.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "instances.selectorLabels" . }}
app.kubernetes.io/version: {{ ternary .cfg.codeExecutor.image.tag .cfg.image.tag (eq .component "code-executor") | trunc 63 | quote }}
app.kubernetes.io/part-of: {{ include "instances.fullname" .root }}-{{ .env }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
governor.dev/read-only: {{ .cfg.readOnly | quote }}
{{- with .root.Values.space.name }}
governor.dev/space: {{ . }}
{{- end }}
{{- end }}

{{/*
A value as a string: whole numbers without an exponent (values files give
Helm float64s, which toString prints as 7.890123e+06).
*/}}
{{- define "instances.string" -}}
{{- if and (kindIs "float64" .) (eq (floor .) .) }}{{ printf "%.0f" . }}{{ else }}{{ toString . }}{{ end }}
{{- end }}

{{/* A variable from a Secret key: (list name secret key). */}}
{{- define "instances.secretVar" -}}
- name: {{ index . 0 }}
  valueFrom:
    secretKeyRef:
      name: {{ index . 1 }}
      key: {{ index . 2 }}
{{- end }}

{{/*
The environment of a Retool backend container (backend, jobs runner,
workflows backend and workers): the service type, PostgreSQL and secrets by
reference, read-only and source control wiring, workflows, Temporal, the
code executor, then the user's variables.
(dict "root" $ "env" name "cfg" env-config "component" c)
*/}}
{{- define "instances.env" -}}
{{- $cfg := .cfg }}
{{- $root := .root }}
{{- $component := .component }}
{{- $prefix := include "instances.fullname" .root }}
{{- $wf := $cfg.workflows }}
{{- $serviceType := dict "backend" "MAIN_BACKEND,DB_CONNECTOR,DB_SSH_CONNECTOR" "jobs-runner" "JOBS_RUNNER" "workflows-backend" "WORKFLOW_BACKEND,DB_CONNECTOR,DB_SSH_CONNECTOR" "workflows-worker" "WORKFLOW_TEMPORAL_WORKER" }}
- name: SERVICE_TYPE
  value: {{ printf "%s%s" (get $serviceType $component) (ternary ",JOBS_RUNNER" "" (and (eq $component "backend") (not $cfg.jobsRunner.enabled))) | quote }}
- name: NODE_ENV
  value: production
{{- if eq $component "workflows-worker" }}
- name: NODE_OPTIONS
  value: {{ $wf.worker.nodeOptions | quote }}
{{- end }}
{{- range $var, $key := dict "POSTGRES_HOST" $cfg.postgres.keys.host "POSTGRES_PORT" $cfg.postgres.keys.port "POSTGRES_DB" $cfg.postgres.keys.database "POSTGRES_USER" $cfg.postgres.keys.user "POSTGRES_PASSWORD" $cfg.postgres.keys.password }}
{{ include "instances.secretVar" (list $var $cfg.postgres.secretName $key) }}
{{- end }}
- name: POSTGRES_SSL_ENABLED
  value: {{ $cfg.postgres.ssl | quote }}
{{- range $var, $key := dict "ENCRYPTION_KEY" $cfg.secrets.keys.encryptionKey "JWT_SECRET" $cfg.secrets.keys.jwtSecret "LICENSE_KEY" $cfg.secrets.keys.licenseKey }}
{{ include "instances.secretVar" (list $var $cfg.secrets.secretName $key) }}
{{- end }}
{{- if $cfg.host }}
- name: BASE_DOMAIN
  value: {{ printf "https://%s" $cfg.host | quote }}
{{- end }}
- name: COOKIE_INSECURE
  value: {{ $cfg.useInsecureCookies | toString | quote }}
{{- if and $cfg.readOnly $root.Values.sourceControl.legacyGitSyncingLock }}
- name: VERSION_CONTROL_LOCKED
  value: "true"
{{- end }}
{{- $branchVariable := include "instances.branchVariable" $root }}
{{- if and $cfg.branch $branchVariable }}
- name: {{ $branchVariable }}
  value: {{ $cfg.branch | quote }}
{{- end }}
{{- $sc := $root.Values.sourceControl }}
{{- if and $sc.provider $cfg.sourceControl.enabled }}
{{- $p := get (fromYaml (include "instances.providers" $root)) $sc.provider }}
{{- $settings := ternary (get $sc $p.values) dict (ne $p.values "") }}
{{- range $p.plain }}
{{- $v := get $settings (index . 0) }}
{{- if $v }}
- name: {{ index . 1 }}
  value: {{ include "instances.string" $v | quote }}
{{- end }}
{{- end }}
{{- range $p.secret }}
{{ include "instances.secretVar" (list (index . 1) $cfg.sourceControl.secretName (get $settings (index . 0))) }}
{{- end }}
{{- end }}
{{- if has $component (list "backend" "workflows-backend" "workflows-worker") }}
{{- if eq $component "backend" }}
- name: DBCONNECTOR_POSTGRES_POOL_MAX_SIZE
  value: {{ $cfg.backend.postgresPoolMaxSize | toString | quote }}
{{- if $cfg.backend.queryTimeoutMs }}
- name: DBCONNECTOR_QUERY_TIMEOUT_MS
  value: {{ $cfg.backend.queryTimeoutMs | int64 | toString | quote }}
{{- end }}
{{- else }}
- name: DBCONNECTOR_POSTGRES_POOL_MAX_SIZE
  value: {{ (ternary $wf.backend.postgresPoolMaxSize $wf.worker.postgresPoolMaxSize (eq $component "workflows-backend")) | toString | quote }}
- name: DBCONNECTOR_QUERY_TIMEOUT_MS
  value: {{ $wf.queryTimeoutMs | int64 | toString | quote }}
- name: DISABLE_DATABASE_MIGRATIONS
  value: "true"
{{- end }}
{{- if eq $component "workflows-worker" }}
- name: WORKFLOW_WORKER_HEALTHCHECK_PORT
  value: "3005"
{{- end }}
{{- if $wf.enabled }}
- name: WORKFLOW_BACKEND_HOST
  value: {{ printf "http://%s-%s-workflows-backend:%d" $prefix .env (int $cfg.service.port) | quote }}
{{- end }}
{{- if $cfg.codeExecutor.enabled }}
- name: CODE_EXECUTOR_INGRESS_DOMAIN
  value: {{ printf "http://%s-%s-code-executor" $prefix .env | quote }}
{{- end }}
{{- end }}
{{- if and $wf.enabled (eq $wf.temporal.mode "External") }}
- name: WORKFLOW_TEMPORAL_CLUSTER_FRONTEND_HOST
  value: {{ $wf.temporal.host | quote }}
- name: WORKFLOW_TEMPORAL_CLUSTER_FRONTEND_PORT
  value: {{ $wf.temporal.port | toString | quote }}
- name: WORKFLOW_TEMPORAL_CLUSTER_NAMESPACE
  value: {{ $wf.temporal.namespace | quote }}
{{- if $wf.temporal.tls.enabled }}
- name: WORKFLOW_TEMPORAL_TLS_ENABLED
  value: "true"
{{- with $wf.temporal.tls.secretName }}
{{ include "instances.secretVar" (list "WORKFLOW_TEMPORAL_TLS_CRT" . $wf.temporal.tls.certificateKey) }}
{{ include "instances.secretVar" (list "WORKFLOW_TEMPORAL_TLS_KEY" . $wf.temporal.tls.keyKey) }}
{{- end }}
{{- end }}
{{- end }}
{{- include "instances.userEnv" $cfg }}
{{- end }}

{{/* The user's variables (env, then secretEnv) of an environment config. */}}
{{- define "instances.userEnv" -}}
{{- range $k, $v := .env }}
- name: {{ $k }}
  value: {{ include "instances.string" $v | quote }}
{{- end }}
{{- range $k, $ref := .secretEnv }}
- name: {{ $k }}
  valueFrom:
    secretKeyRef:
      name: {{ $ref.secretName }}
      key: {{ $ref.key }}
      {{- if $ref.optional }}
      optional: true
      {{- end }}
{{- end }}
{{- end }}

{{/* The additional Spaces, as "name=subdomain,..." . */}}
{{- define "instances.additionalSpaces" -}}
{{- $out := list }}
{{- range .Values.space.additional }}
{{- $out = append $out (printf "%s=%s" .name (default .name .subdomain)) }}
{{- end }}
{{- join "," $out }}
{{- end }}

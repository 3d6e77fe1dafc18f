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
instances.environments renders, as YAML, the enabled environments with their
defaults filled in, after the cross-field checks JSON schema cannot express.
Every template reads it with fromYaml, so the checks run on every render.
*/}}
{{- define "instances.environments" -}}
{{- $out := dict }}
{{- $prefix := include "instances.fullname" . }}
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
{{- $owned := list "SERVICE_TYPE" "NODE_ENV" "BASE_DOMAIN" "POSTGRES_HOST" "POSTGRES_PORT" "POSTGRES_DB" "POSTGRES_USER" "POSTGRES_PASSWORD" "POSTGRES_SSL_ENABLED" "ENCRYPTION_KEY" "JWT_SECRET" "LICENSE_KEY" "WORKFLOW_BACKEND_HOST" "WORKFLOW_TEMPORAL_CLUSTER_FRONTEND_HOST" "WORKFLOW_TEMPORAL_CLUSTER_FRONTEND_PORT" "WORKFLOW_TEMPORAL_CLUSTER_NAMESPACE" $.Values.sourceControl.lockedVariable $.Values.sourceControl.branchVariable }}
{{- range $var, $_ := $env.env }}
{{- if has $var $owned }}
{{- fail (printf "%s.env.%s: the chart sets %s itself (secrets come from %s.postgres.secretName and %s.secrets.secretName, never inline values; read-only mode and the branch from %s.readOnly and %s.branch)" $path $var $var $path $path $path $path) }}
{{- end }}
{{- end }}
{{- range $component := list "backend" "workflows.worker" }}
{{- $c := ternary $env.backend $env.workflows.worker (eq $component "backend") }}
{{- $a := $c.autoscaling }}
{{- if and $a.enabled (gt (int $a.minReplicas) (int $a.maxReplicas)) }}
{{- fail (printf "%s.%s.autoscaling.minReplicas: %d is above maxReplicas (%d)" $path $component (int $a.minReplicas) (int $a.maxReplicas)) }}
{{- end }}
{{- end }}
{{- $_ := set $env "postgres" (merge (dict "secretName" (default (printf "%s-%s-postgres" $prefix $name) $env.postgres.secretName)) $env.postgres) }}
{{- $_ := set $env "secrets" (merge (dict "secretName" (default (printf "%s-%s" $prefix $name) $env.secrets.secretName)) $env.secrets) }}
{{- $_ := set $env "serviceAccount" (merge (dict "name" (default (ternary (printf "%s-%s" $prefix $name) "default" $env.serviceAccount.create) $env.serviceAccount.name)) $env.serviceAccount) }}
{{- $_ := set $env.workflows "temporal" (merge (dict "namespace" (default (printf "%s-%s" $prefix $name) $env.workflows.temporal.namespace)) $env.workflows.temporal) }}
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
app.kubernetes.io/version: {{ default .root.Chart.AppVersion .root.Values.image.tag | trunc 63 | quote }}
app.kubernetes.io/part-of: {{ include "instances.fullname" .root }}-{{ .env }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
governor.dev/read-only: {{ .cfg.readOnly | quote }}
{{- with .root.Values.space.name }}
governor.dev/space: {{ . }}
{{- end }}
{{- end }}

{{/*
The environment of every container of an environment: the service type
(component), PostgreSQL and secrets by reference, read-only wiring, Temporal.
(dict "root" $ "env" name "cfg" env-config "serviceType" "MAIN_BACKEND,...")
*/}}
{{- define "instances.env" -}}
{{- $cfg := .cfg }}
{{- $prefix := include "instances.fullname" .root }}
- name: SERVICE_TYPE
  value: {{ .serviceType | quote }}
- name: NODE_ENV
  value: production
- name: POSTGRES_HOST
  valueFrom:
    secretKeyRef:
      name: {{ $cfg.postgres.secretName }}
      key: {{ $cfg.postgres.keys.host }}
- name: POSTGRES_PORT
  valueFrom:
    secretKeyRef:
      name: {{ $cfg.postgres.secretName }}
      key: {{ $cfg.postgres.keys.port }}
- name: POSTGRES_DB
  valueFrom:
    secretKeyRef:
      name: {{ $cfg.postgres.secretName }}
      key: {{ $cfg.postgres.keys.database }}
- name: POSTGRES_USER
  valueFrom:
    secretKeyRef:
      name: {{ $cfg.postgres.secretName }}
      key: {{ $cfg.postgres.keys.user }}
- name: POSTGRES_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $cfg.postgres.secretName }}
      key: {{ $cfg.postgres.keys.password }}
- name: POSTGRES_SSL_ENABLED
  value: {{ $cfg.postgres.ssl | quote }}
- name: ENCRYPTION_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $cfg.secrets.secretName }}
      key: {{ $cfg.secrets.keys.encryptionKey }}
- name: JWT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ $cfg.secrets.secretName }}
      key: {{ $cfg.secrets.keys.jwtSecret }}
- name: LICENSE_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $cfg.secrets.secretName }}
      key: {{ $cfg.secrets.keys.licenseKey }}
{{- if $cfg.host }}
- name: BASE_DOMAIN
  value: {{ printf "https://%s" $cfg.host | quote }}
{{- end }}
{{- if $cfg.readOnly }}
- name: {{ .root.Values.sourceControl.lockedVariable }}
  value: "true"
{{- end }}
{{- if $cfg.branch }}
- name: {{ .root.Values.sourceControl.branchVariable }}
  value: {{ $cfg.branch | quote }}
{{- end }}
{{- if $cfg.workflows.enabled }}
- name: WORKFLOW_BACKEND_HOST
  value: {{ printf "http://%s-%s-workflows-backend:%d" $prefix .env (int $cfg.service.port) | quote }}
- name: WORKFLOW_TEMPORAL_CLUSTER_FRONTEND_HOST
  value: {{ $cfg.workflows.temporal.host | quote }}
- name: WORKFLOW_TEMPORAL_CLUSTER_FRONTEND_PORT
  value: {{ $cfg.workflows.temporal.port | toString | quote }}
- name: WORKFLOW_TEMPORAL_CLUSTER_NAMESPACE
  value: {{ $cfg.workflows.temporal.namespace | quote }}
{{- end }}
{{- range $k, $v := $cfg.env }}
- name: {{ $k }}
  value: {{ $v | toString | quote }}
{{- end }}
{{- end }}

{{/*
One Deployment. (dict "root" $ "env" name "cfg" env-config "component" c
"serviceType" t "spec" component-config "http" bool "singleton" bool)
*/}}
{{- define "instances.deployment" -}}
{{- $labels := dict "root" .root "env" .env "component" .component "cfg" .cfg }}
{{- $spec := .spec }}
{{- $root := .root }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "instances.fullname" .root }}-{{ .env }}-{{ .component }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "instances.labels" $labels | nindent 4 }}
  annotations:
    governor.dev/branch: {{ .cfg.branch | quote }}
spec:
  {{- if .singleton }}
  # One jobs runner per instance, never two: Recreate stops the old pod first.
  replicas: 1
  strategy:
    type: Recreate
  {{- else if not (and $spec.autoscaling $spec.autoscaling.enabled) }}
  replicas: {{ $spec.replicas }}
  {{- else }}
  # replicas is owned by the HorizontalPodAutoscaler (and so left out, for Argo CD too).
  {{- end }}
  revisionHistoryLimit: 3
  selector:
    matchLabels:
      {{- include "instances.selectorLabels" $labels | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "instances.labels" $labels | nindent 8 }}
      {{- with .cfg.podAnnotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
      {{- with .root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      serviceAccountName: {{ .cfg.serviceAccount.name }}
      {{- if eq .component "backend" }}
      # The main backend asks Governor's decision API with this token (docs/instances.md).
      automountServiceAccountToken: {{ .cfg.serviceAccount.mountToken }}
      {{- else }}
      automountServiceAccountToken: false
      {{- end }}
      securityContext:
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: {{ .component }}
          image: {{ printf "%s:%s" .root.Values.image.repository (default .root.Chart.AppVersion .root.Values.image.tag) }}
          imagePullPolicy: {{ .root.Values.image.pullPolicy }}
          args: ["bash", "-c", "./docker_scripts/wait-for-it.sh -t 0 $POSTGRES_HOST:$POSTGRES_PORT; ./docker_scripts/start_api.sh"]
          env:
            {{- include "instances.env" . | nindent 12 }}
          {{- if .http }}
          ports:
            - name: http
              containerPort: 3000
              protocol: TCP
          readinessProbe:
            httpGet:
              path: /api/checkHealth
              port: http
            periodSeconds: 10
            timeoutSeconds: 5
          livenessProbe:
            httpGet:
              path: /api/checkHealth
              port: http
            initialDelaySeconds: 60
            periodSeconds: 20
            timeoutSeconds: 10
            failureThreshold: 5
          {{- end }}
          resources:
            {{- toYaml $spec.resources | nindent 12 }}
          securityContext:
            allowPrivilegeEscalation: false
            capabilities:
              drop: ["ALL"]
      {{- with .cfg.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .cfg.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .cfg.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end }}

{{/* A HorizontalPodAutoscaler for a Deployment. (dict "root" $ "env" name "cfg" env-config "component" c "spec" component-config) */}}
{{- define "instances.hpa" -}}
{{- $labels := dict "root" .root "env" .env "component" .component "cfg" .cfg }}
{{- $a := .spec.autoscaling }}
{{- $name := printf "%s-%s-%s" (include "instances.fullname" .root) .env .component }}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ $name }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "instances.labels" $labels | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ $name }}
  minReplicas: {{ $a.minReplicas }}
  maxReplicas: {{ $a.maxReplicas }}
  metrics:
    {{- if $a.targetCPUUtilizationPercentage }}
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $a.targetCPUUtilizationPercentage }}
    {{- end }}
    {{- if $a.targetMemoryUtilizationPercentage }}
    - type: Resource
      resource:
        name: memory
        target:
          type: Utilization
          averageUtilization: {{ $a.targetMemoryUtilizationPercentage }}
    {{- end }}
{{- end }}

{{/* A PodDisruptionBudget for a Deployment. (dict "root" $ "env" name "cfg" env-config "component" c "spec" component-config) */}}
{{- define "instances.pdb" -}}
{{- $labels := dict "root" .root "env" .env "component" .component "cfg" .cfg }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "instances.fullname" .root }}-{{ .env }}-{{ .component }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "instances.labels" $labels | nindent 4 }}
spec:
  maxUnavailable: {{ .spec.podDisruptionBudget.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "instances.selectorLabels" $labels | nindent 6 }}
{{- end }}

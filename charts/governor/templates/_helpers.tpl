{{/* Chart name. */}}
{{- define "governor.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name of the operator's objects. */}}
{{- define "governor.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Selector labels: stable across upgrades. */}}
{{- define "governor.selectorLabels" -}}
app.kubernetes.io/name: {{ include "governor.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Common labels. */}}
{{- define "governor.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "governor.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: governor
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* ServiceAccount name. */}}
{{- define "governor.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "governor.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Image reference: digest wins over tag; tag defaults to appVersion. */}}
{{- define "governor.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
Cross-field checks JSON schema cannot express. Included by the Deployment so
that they run on every render.
*/}}
{{- define "governor.validate" -}}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.leaderElection.enabled) }}
{{- fail (printf "replicaCount: %d replicas need leaderElection.enabled=true (only the leader may write)" (int .Values.replicaCount)) }}
{{- end }}
{{- if and .Values.metrics.serviceMonitor.enabled (not .Values.metrics.enabled) }}
{{- fail "metrics.serviceMonitor.enabled: a ServiceMonitor needs metrics.enabled=true" }}
{{- end }}
{{- $ports := dict }}
{{- range $name, $port := dict "health.port" .Values.health.port "metrics.port" (ternary .Values.metrics.port 0 .Values.metrics.enabled) "api.port" (ternary .Values.api.port 0 .Values.api.enabled) }}
{{- if $port }}
{{- $key := toString $port }}
{{- if hasKey $ports $key }}
{{- fail (printf "%s: port %s is already used by %s" $name $key (get $ports $key)) }}
{{- end }}
{{- $_ := set $ports $key $name }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The components of an instance, as Retool runs them (name -> what differs):
container ports, the port probed on /api/checkHealth, whether a Service sends
it requests (preStop sleep), and whether it runs the backend image.
*/}}
{{- define "instances.components" -}}
backend:
  ports: [{name: http, containerPort: 3000}]
  probe: http
  served: true
jobs-runner:
  ports: []
workflows-backend:
  ports: [{name: http, containerPort: 3000}]
  probe: http
  served: true
workflows-worker:
  ports: [{name: health, containerPort: 3005}, {name: metrics, containerPort: 9090}]
  probe: health
code-executor:
  ports: [{name: http, containerPort: 3004}]
  probe: http
  served: true
  codeExecutor: true
{{- end }}

{{/* Probes on /api/checkHealth at a named port: (dict "probes" cfg.probes "port" name). */}}
{{- define "instances.probes" -}}
{{- $p := .probes }}
{{- if $p.startup.enabled }}
startupProbe:
  httpGet:
    path: /api/checkHealth
    port: {{ .port }}
  periodSeconds: {{ $p.startup.periodSeconds }}
  timeoutSeconds: {{ $p.startup.timeoutSeconds }}
  failureThreshold: {{ $p.startup.failureThreshold }}
{{- end }}
readinessProbe:
  httpGet:
    path: /api/checkHealth
    port: {{ .port }}
  periodSeconds: {{ $p.readiness.periodSeconds }}
  timeoutSeconds: {{ $p.readiness.timeoutSeconds }}
  failureThreshold: {{ $p.readiness.failureThreshold }}
livenessProbe:
  httpGet:
    path: /api/checkHealth
    port: {{ .port }}
  {{- if not $p.startup.enabled }}
  initialDelaySeconds: 60
  {{- end }}
  periodSeconds: {{ $p.liveness.periodSeconds }}
  timeoutSeconds: {{ $p.liveness.timeoutSeconds }}
  failureThreshold: {{ $p.liveness.failureThreshold }}
{{- end }}

{{/*
One Deployment. (dict "root" $ "env" name "cfg" env-config "component" c
"spec" component-config "singleton" bool)
*/}}
{{- define "instances.deployment" -}}
{{- $labels := dict "root" .root "env" .env "component" .component "cfg" .cfg }}
{{- $cfg := .cfg }}
{{- $spec := .spec }}
{{- $c := get (fromYaml (include "instances.components" .root)) .component }}
{{- $ce := default false $c.codeExecutor }}
{{- $image := ternary $cfg.codeExecutor.image $cfg.image $ce }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "instances.fullname" .root }}-{{ .env }}-{{ .component }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "instances.labels" $labels | nindent 4 }}
  annotations:
    governor.dev/branch: {{ $cfg.branch | quote }}
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
        {{- with $cfg.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with $cfg.podAnnotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
      {{- with $cfg.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      serviceAccountName: {{ $cfg.serviceAccount.name }}
      {{- if eq .component "backend" }}
      automountServiceAccountToken: {{ $cfg.serviceAccount.mountToken }}
      {{- else }}
      automountServiceAccountToken: false
      {{- end }}
      {{- with $cfg.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      terminationGracePeriodSeconds: {{ $cfg.terminationGracePeriodSeconds }}
      {{- with ternary $cfg.codeExecutor.podSecurityContext $cfg.podSecurityContext $ce }}
      securityContext:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- if and (not $ce) $cfg.initContainers }}
      initContainers:
        {{- toYaml $cfg.initContainers | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ .component }}
          image: {{ printf "%s:%s" $image.repository $image.tag }}
          imagePullPolicy: {{ $cfg.image.pullPolicy }}
          {{- if $ce }}
          env:
            - name: NODE_ENV
              value: production
            - name: NODE_OPTIONS
              value: {{ $cfg.codeExecutor.nodeOptions | quote }}
          {{- else }}
          args: ["bash", "-c", "./docker_scripts/wait-for-it.sh -t 0 $POSTGRES_HOST:$POSTGRES_PORT; ./docker_scripts/start_api.sh"]
          env:
            {{- include "instances.env" . | nindent 12 }}
          {{- with $cfg.envFrom }}
          envFrom:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          {{- end }}
          {{- with $c.ports }}
          ports:
            {{- range . }}
            - name: {{ .name }}
              containerPort: {{ .containerPort }}
              protocol: TCP
            {{- end }}
          {{- end }}
          {{- with $c.probe }}
          {{- include "instances.probes" (dict "probes" $cfg.probes "port" .) | nindent 10 }}
          {{- end }}
          {{- if and $c.served $cfg.preStop.enabled }}
          lifecycle:
            preStop:
              exec:
                command: ["sleep", "{{ $cfg.preStop.sleepSeconds }}"]
          {{- end }}
          resources:
            {{- toYaml $spec.resources | nindent 12 }}
          {{- with ternary $cfg.codeExecutor.securityContext $cfg.securityContext $ce }}
          securityContext:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          {{- with ternary $cfg.codeExecutor.extraVolumeMounts $cfg.extraVolumeMounts $ce }}
          volumeMounts:
            {{- toYaml . | nindent 12 }}
          {{- end }}
        {{- if and (not $ce) $cfg.sidecars }}
        {{- toYaml $cfg.sidecars | nindent 8 }}
        {{- end }}
      {{- with ternary $cfg.codeExecutor.extraVolumes $cfg.extraVolumes $ce }}
      volumes:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $cfg.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $cfg.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $cfg.affinity }}
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

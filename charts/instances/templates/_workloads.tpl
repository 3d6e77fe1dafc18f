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
  ports: [{name: health, containerPort: 3003}]
  jobsRunnerProbe: true
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
  successThreshold: {{ $p.readiness.successThreshold }}
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

{{/* The jobs runner's probes on /api/checkJobsRunnerHealth (port 3003), as Retool's chart has them. */}}
{{- define "instances.jobsRunnerProbes" -}}
{{- range list "readinessProbe" "livenessProbe" }}
{{ . }}:
  httpGet:
    path: /api/checkJobsRunnerHealth
    port: health
  initialDelaySeconds: {{ $.initialDelaySeconds }}
  periodSeconds: {{ $.periodSeconds }}
  timeoutSeconds: {{ $.timeoutSeconds }}
  failureThreshold: {{ $.failureThreshold }}
{{- end }}
{{- end }}

{{/*
The pod anti-affinity spreading a component's pods over nodes:
(dict "mode" soft|hard "labels" selector-labels-yaml).
*/}}
{{- define "instances.antiAffinity" -}}
{{- $term := dict "topologyKey" "kubernetes.io/hostname" "labelSelector" (dict "matchLabels" (fromYaml .labels)) }}
podAntiAffinity:
  {{- if eq .mode "hard" }}
  requiredDuringSchedulingIgnoredDuringExecution:
    - {{- toYaml $term | nindent 6 }}
  {{- else }}
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        {{- toYaml $term | nindent 8 }}
  {{- end }}
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
{{- $sandbox := and $ce $cfg.codeExecutor.sandbox.enabled }}
{{- $podAnnotations := merge (dict) (default dict $spec.podAnnotations) (default dict $cfg.podAnnotations) }}
{{- if and (eq .component "workflows-worker") $spec.metrics.enabled }}
{{- $podAnnotations = merge $podAnnotations (dict "prometheus.io/scrape" "true" "prometheus.io/port" "9090" "prometheus.io/path" "/metrics" "prometheus.io/job" (printf "%s-%s-workflows-worker" (include "instances.fullname" .root) .env)) }}
{{- end }}
{{- if $sandbox }}
{{- $podAnnotations = merge $podAnnotations (dict "checksum/seccomp-profile" ($cfg.codeExecutor.sandbox.seccompProfile | sha256sum)) }}
{{- end }}
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
        {{- with merge (dict) (default dict $spec.podLabels) (default dict $cfg.podLabels) }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with $podAnnotations }}
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
      {{- if $sandbox }}
      # nsjail without a privileged container: a user namespace of its own.
      hostUsers: false
      {{- end }}
      {{- with ternary $cfg.codeExecutor.podSecurityContext $cfg.podSecurityContext $ce }}
      securityContext:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- if $sandbox }}
      initContainers:
        # Copies the seccomp profile where the kubelet looks for Localhost profiles.
        - name: install-seccomp-profile
          image: {{ $cfg.codeExecutor.sandbox.installerImage }}
          imagePullPolicy: {{ $cfg.image.pullPolicy }}
          command:
            - sh
            - -c
            - |
              dest="/host-seccomp/{{ $cfg.codeExecutor.sandbox.localhostProfile }}"
              mkdir -p "$(dirname "$dest")"
              cp /seccomp-profile/nsjail-seccomp.json "$dest"
          resources:
            requests:
              cpu: 1m
              memory: 4Mi
            limits:
              cpu: 10m
              memory: 16Mi
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: ["ALL"]
          volumeMounts:
            - name: seccomp-profile
              mountPath: /seccomp-profile
              readOnly: true
            - name: host-seccomp
              mountPath: /host-seccomp
      {{- else if and (not $ce) $cfg.initContainers }}
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
            - name: COOKIE_INSECURE
              value: {{ $cfg.useInsecureCookies | toString | quote }}
            {{- include "instances.userEnv" $cfg | nindent 12 }}
          {{- else }}
          args: ["bash", "-c", "./docker_scripts/wait-for-it.sh -t 0 $POSTGRES_HOST:$POSTGRES_PORT; ./docker_scripts/start_api.sh"]
          env:
            {{- include "instances.env" . | nindent 12 }}
          {{- end }}
          {{- with $cfg.envFrom }}
          envFrom:
            {{- toYaml . | nindent 12 }}
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
          {{- if and $c.jobsRunnerProbe $spec.probes.enabled }}
          {{- include "instances.jobsRunnerProbes" $spec.probes | nindent 10 }}
          {{- end }}
          {{- if and $c.served $cfg.preStop.enabled }}
          lifecycle:
            preStop:
              exec:
                command: ["sleep", "{{ $cfg.preStop.sleepSeconds }}"]
          {{- end }}
          resources:
            {{- toYaml $spec.resources | nindent 12 }}
          {{- if $sandbox }}
          # What nsjail needs instead of privileged: (Retool's chart's useSeccompProfile).
          securityContext:
            capabilities:
              add: ["NET_ADMIN"]
            procMount: Unmasked
            seccompProfile:
              type: Localhost
              localhostProfile: {{ $cfg.codeExecutor.sandbox.localhostProfile }}
            appArmorProfile:
              type: Unconfined
          {{- else }}
          {{- with ternary $cfg.codeExecutor.securityContext $cfg.securityContext $ce }}
          securityContext:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          {{- end }}
          {{- with ternary $cfg.codeExecutor.extraVolumeMounts $cfg.extraVolumeMounts $ce }}
          volumeMounts:
            {{- toYaml . | nindent 12 }}
          {{- end }}
        {{- if and (not $ce) $cfg.sidecars }}
        {{- toYaml $cfg.sidecars | nindent 8 }}
        {{- end }}
      {{- $volumes := ternary $cfg.codeExecutor.extraVolumes $cfg.extraVolumes $ce }}
      {{- if or $volumes $sandbox }}
      volumes:
        {{- if $sandbox }}
        - name: seccomp-profile
          configMap:
            name: {{ default (printf "%s-%s-code-executor-seccomp" (include "instances.fullname" .root) .env) $cfg.codeExecutor.sandbox.configMapName }}
        - name: host-seccomp
          hostPath:
            path: /var/lib/kubelet/seccomp
            type: DirectoryOrCreate
        {{- end }}
        {{- with $volumes }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- end }}
      {{- with $cfg.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $cfg.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- if $cfg.affinity }}
      affinity:
        {{- toYaml $cfg.affinity | nindent 8 }}
      {{- else if and $cfg.podAntiAffinity (not .singleton) }}
      affinity:
        {{- include "instances.antiAffinity" (dict "mode" $cfg.podAntiAffinity "labels" (include "instances.selectorLabels" $labels)) | nindent 8 }}
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

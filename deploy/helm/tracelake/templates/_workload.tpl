{{/*
The Deployment of one component, called with (dict "root" $ "component" "connector"|"sink" "strategy" <dict>).
Both services run the same image: `node cli/tracelake.ts <component> --config /etc/tracelake/config.json`.
*/}}
{{- define "tracelake.deployment" -}}
{{- $root := .root }}
{{- $v := index $root.Values .component }}
{{- $name := include "tracelake.componentName" . }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  labels:
    {{- include "tracelake.componentLabels" . | nindent 4 }}
spec:
  replicas: {{ $v.replicas }}
  revisionHistoryLimit: 5
  strategy:
    {{- toYaml .strategy | nindent 4 }}
  selector:
    matchLabels:
      {{- include "tracelake.componentSelectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "tracelake.componentSelectorLabels" . | nindent 8 }}
        {{- with $v.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        # a changed config (state included) rolls the pods
        checksum/config: {{ include "tracelake.configJson" . | sha256sum }}
        {{- with $v.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "tracelake.serviceAccountName" $root }}
      # the services do not talk to the Kubernetes API
      automountServiceAccountToken: false
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      terminationGracePeriodSeconds: {{ $v.terminationGracePeriodSeconds }}
      containers:
        - name: {{ .component }}
          image: "{{ $root.Values.image.repository }}:{{ $root.Values.image.tag | default $root.Chart.AppVersion }}"
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          args: [{{ .component | quote }}, "--config", "/etc/tracelake/config.json"]
          ports:
            - name: http
              containerPort: {{ $v.port }}
              protocol: TCP
          env:
            - name: TRACELAKE_LOG_LEVEL
              value: {{ $v.logLevel | quote }}
            {{- range $envName, $ref := $v.secretEnv }}
            - name: {{ $envName }}
              valueFrom:
                secretKeyRef:
                  {{- if kindIs "string" $ref }}
                  name: {{ required "existingSecret: set it, or give secretEnv entries as {secretName, key}" $root.Values.existingSecret }}
                  key: {{ $ref }}
                  {{- else }}
                  name: {{ $ref.secretName }}
                  key: {{ $ref.key }}
                  {{- end }}
            {{- end }}
            {{- with $v.env }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          {{- with $v.envFromSecrets }}
          envFrom:
            {{- range . }}
            - secretRef:
                name: {{ . }}
            {{- end }}
          {{- end }}
          livenessProbe:
            httpGet: {path: /healthz, port: http}
            {{- with $v.livenessProbe }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          readinessProbe:
            httpGet: {path: /readyz, port: http}
            {{- with $v.readinessProbe }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          securityContext:
            {{- toYaml $root.Values.securityContext | nindent 12 }}
          volumeMounts:
            - name: config
              mountPath: /etc/tracelake/config.json
              subPath: config.json
              readOnly: true
            - name: tmp
              mountPath: /tmp
            {{- range $v.secretFiles }}
            - name: secret-{{ . }}
              mountPath: /etc/tracelake/secrets/{{ . }}
              readOnly: true
            {{- end }}
      volumes:
        - name: config
          configMap:
            name: {{ $name }}
        - name: tmp
          emptyDir:
            sizeLimit: 256Mi
        {{- range $v.secretFiles }}
        - name: secret-{{ . }}
          secret:
            secretName: {{ . }}
        {{- end }}
      {{- with $v.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- if $v.affinity }}
      affinity:
        {{- toYaml $v.affinity | nindent 8 }}
      {{- else if gt (int $v.replicas) 1 }}
      # replicas on different nodes where possible (a standby on the active one's node helps little)
      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 100
              podAffinityTerm:
                topologyKey: kubernetes.io/hostname
                labelSelector:
                  matchLabels:
                    {{- include "tracelake.componentSelectorLabels" . | nindent 20 }}
      {{- end }}
      {{- with $v.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end }}

{{/* ConfigMap holding a component's config.json. */}}
{{- define "tracelake.configMap" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "tracelake.componentName" . }}
  labels:
    {{- include "tracelake.componentLabels" . | nindent 4 }}
data:
  config.json: |
    {{- include "tracelake.configJson" . | nindent 4 }}
{{- end }}

{{/* Service for a component's REST API, health checks and /metrics. */}}
{{- define "tracelake.service" -}}
{{- $v := index .root.Values .component }}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "tracelake.componentName" . }}
  labels:
    {{- include "tracelake.componentLabels" . | nindent 4 }}
  {{- with $v.service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ $v.service.type }}
  # The REST API must reach a pod that is not ready: /readyz is 503 while the pipeline is FAILED, and that is
  # when POST /restart or GET /status is needed. Readiness still gates rollouts and disruption budgets.
  publishNotReadyAddresses: true
  selector:
    {{- include "tracelake.componentSelectorLabels" . | nindent 4 }}
  ports:
    - name: http
      port: {{ $v.port }}
      targetPort: http
      protocol: TCP
{{- end }}

{{/* PodDisruptionBudget: with 2+ replicas, evictions take one pod at a time. */}}
{{- define "tracelake.pdb" -}}
{{- $v := index .root.Values .component }}
{{- if and $v.podDisruptionBudget.enabled (gt (int $v.replicas) 1) }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "tracelake.componentName" . }}
  labels:
    {{- include "tracelake.componentLabels" . | nindent 4 }}
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      {{- include "tracelake.componentSelectorLabels" . | nindent 6 }}
{{- end }}
{{- end }}

{{/* Names: <release>-tracelake unless the release name already holds "tracelake". */}}
{{- define "tracelake.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "tracelake.fullname" -}}
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

{{- define "tracelake.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "tracelake.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "tracelake.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "tracelake.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "tracelake.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tracelake.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Call with (dict "root" $ "component" "connector"|"sink"). */}}
{{- define "tracelake.componentName" -}}
{{- printf "%s-%s" (include "tracelake.fullname" .root) .component | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "tracelake.componentLabels" -}}
{{ include "tracelake.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "tracelake.componentSelectorLabels" -}}
{{ include "tracelake.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
The config file of a component: the user's config with the chart-managed keys set — `state` from the
component's state value and http.host/http.port from its port (the probes and the Service use that port).
*/}}
{{- define "tracelake.configJson" -}}
{{- $v := index .root.Values .component }}
{{- $config := deepCopy $v.config }}
{{- $http := deepCopy (default dict $config.http) }}
{{- $_ := set $http "host" "0.0.0.0" }}
{{- $_ = set $http "port" $v.port }}
{{- $_ = set $config "http" $http }}
{{- $_ = set $config "state" $v.state }}
{{- toPrettyJson $config }}
{{- end }}

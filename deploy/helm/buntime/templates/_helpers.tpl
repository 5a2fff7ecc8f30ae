{{/* SPDX-License-Identifier: MIT */}}
{{/* Names and labels shared by the buntime chart's templates. */}}

{{- define "buntime.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "buntime.fullname" -}}
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

{{- define "buntime.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "buntime.selectorLabels" -}}
app.kubernetes.io/name: {{ include "buntime.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "buntime.labels" -}}
helm.sh/chart: {{ include "buntime.chart" . }}
{{ include "buntime.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The Secret holding RUNTIME_ADMIN_TOKEN, or "" when there is none. */}}
{{- define "buntime.secretName" -}}
{{- if .Values.buntime.existingSecret }}
{{- .Values.buntime.existingSecret }}
{{- else if .Values.buntime.masterKey }}
{{- include "buntime.fullname" . }}
{{- end }}
{{- end }}

{{/* preStop + in-flight drain + workers' grace, rounded up, + 5 s margin. */}}
{{- define "buntime.terminationGracePeriodSeconds" -}}
{{- $drainMs := add (int .Values.buntime.shutdownTimeoutMs) (int .Values.buntime.terminateGraceMs) }}
{{- add (int .Values.buntime.preStopSeconds) (div (add $drainMs 999) 1000) 5 }}
{{- end }}

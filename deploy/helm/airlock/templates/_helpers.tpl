{{/* The chart's resources are named <release>-airlock-<component>, or <fullnameOverride>-<component>. */}}
{{- define "airlock.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else if contains "airlock" .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-airlock" .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/*
Every Airlock process this chart can run: its values key, the name `airlock serve` knows it by, its port, how it
is probed and where its metrics are on the operations port (none: it serves none). The gRPC services answer
grpc.health.v1 ("liveness" stays SERVING while draining; "readiness" follows drain and dependencies); the edge answers
HTTP on its operations port (edge.opsListen), where readiness names what fails; the Slack bot takes TCP connections.
*/}}
{{- define "airlock.components" -}}
edge: { name: edge, port: 4566, probe: http, portName: http, metricsPath: /_airlock/metrics }
policy: { name: policy, port: 7001, probe: grpc, portName: grpc, metricsPath: /metrics }
approval: { name: approval, port: 7002, probe: grpc, portName: grpc, metricsPath: /metrics }
credentialVending: { name: credential-vending, port: 7003, probe: grpc, portName: grpc, metricsPath: /metrics }
masking: { name: masking, port: 7004, probe: grpc, portName: grpc, metricsPath: /metrics }
recorder: { name: recorder, port: 7005, probe: grpc, portName: grpc, metricsPath: /metrics }
slackBot: { name: slack-bot, port: 3000, probe: tcp, portName: http }
{{- end -}}

{{- define "airlock.selectorLabels" -}}
app.kubernetes.io/name: airlock
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "airlock.labels" -}}
{{ include "airlock.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "airlock.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/*
The airlock.yaml every process reads: values.config, with what the chart knows itself (where each service listens and
how the others reach it through its Service, where it serves metrics, the edge's listen and operations addresses)
laid over it.
*/}}
{{- define "airlock.config" -}}
{{- $root := . -}}
{{- $services := dict -}}
{{- range $key, $c := include "airlock.components" . | fromYaml -}}
{{- if and (eq $c.probe "grpc") (index $root.Values.services $key).enabled -}}
{{- $_ := set $services $c.name (dict "listen" (printf "0.0.0.0:%v" $c.port) "address" (printf "%s-%s:%v" (include "airlock.fullname" $root) $c.name $c.port) "metricsListen" (printf "0.0.0.0:%v" $root.Values.operations.port)) -}}
{{- end -}}
{{- end -}}
{{- $edge := merge (dict "listen" "0.0.0.0:4566" "opsListen" (printf "0.0.0.0:%v" .Values.operations.port)) (.Values.config.edge | default dict) -}}
{{- $config := merge (dict "services" $services "edge" $edge) (omit .Values.config "edge" "services") -}}
{{- toYaml $config -}}
{{- end -}}

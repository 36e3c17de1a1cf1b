{{/* The chart's name, or nameOverride. */}}
{{- define "tweetpipe.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 50 | trimSuffix "-" -}}
{{- end -}}

{{/* Object names: fullnameOverride, else the release name, with "-<name>" unless it already
says so. Truncated to leave room for the longest suffix ("-backfill-…" is cut separately). */}}
{{- define "tweetpipe.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "tweetpipe.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The ServiceAccount every pod runs as. */}}
{{- define "tweetpipe.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "tweetpipe.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Pod-level settings of one component: the ServiceAccount (no API token: no pod talks to
the Kubernetes API), then scheduling. Call with (dict "root" $ "pod" .Values.consumer). */}}
{{- define "tweetpipe.podSpec" -}}
serviceAccountName: {{ include "tweetpipe.serviceAccountName" .root }}
automountServiceAccountToken: false
{{- with .pod.priorityClassName }}
priorityClassName: {{ . | quote }}
{{- end }}
{{- with .pod.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .pod.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .pod.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .pod.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- include "tweetpipe.podSecurity" .root | nindent 2 }}
{{- end -}}

{{/* A pod template's labels: the component's, and podLabels (which cannot replace them).
Call with (dict "root" $ "component" "consumer" "pod" .Values.consumer). */}}
{{- define "tweetpipe.podLabels" -}}
{{- $labels := fromYaml (include "tweetpipe.labels" .) -}}
{{- toYaml (merge $labels (default (dict) .pod.podLabels)) -}}
{{- end -}}

{{/* Labels of every object; call with (dict "root" $ "component" "consumer"). */}}
{{- define "tweetpipe.labels" -}}
{{ include "tweetpipe.selector" . }}
app.kubernetes.io/part-of: tweetpipe
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{/* app.kubernetes.io/name is fixed, not nameOverride: it names the scrape job (the PodMonitor's
jobLabel) and the alert rules select job="tweetpipe-producer" and so on. */}}
{{- define "tweetpipe.selector" -}}
app.kubernetes.io/name: tweetpipe-{{ .component }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{/* The image reference: a digest pins it, else the tag (default: the chart's appVersion). */}}
{{- define "tweetpipe.image" -}}
{{- $i := .Values.image -}}
{{- if $i.digest -}}
{{- printf "%s@%s" $i.repository $i.digest -}}
{{- else -}}
{{- printf "%s:%s" $i.repository (default .Chart.AppVersion $i.tag) -}}
{{- end -}}
{{- end -}}

{{- define "tweetpipe.sasl" -}}
{{- if hasPrefix "SASL_" .Values.kafka.securityProtocol }}true{{ end -}}
{{- end -}}
{{- define "tweetpipe.kafkaTls" -}}
{{- if has .Values.kafka.securityProtocol (list "SSL" "SASL_SSL") }}true{{ end -}}
{{- end -}}

{{/* Refuses values that cannot work, before anything reaches the cluster. */}}
{{- define "tweetpipe.validate" -}}
{{- $k := .Values.kafka -}}
{{- if not (has $k.securityProtocol (list "PLAINTEXT" "SSL" "SASL_PLAINTEXT" "SASL_SSL")) -}}
{{- fail (printf "kafka.securityProtocol must be PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL (got %q)" $k.securityProtocol) -}}
{{- end -}}
{{- if and (include "tweetpipe.sasl" .) (not $k.sasl.existingSecret) -}}
{{- fail "kafka.sasl.existingSecret is required with a SASL_* securityProtocol" -}}
{{- end -}}
{{- if and $k.tls.caSecret $k.tls.caConfigMap -}}
{{- fail "set kafka.tls.caSecret or kafka.tls.caConfigMap, not both" -}}
{{- end -}}
{{- if and .Values.database.tls.caSecret .Values.database.tls.caConfigMap -}}
{{- fail "set database.tls.caSecret or database.tls.caConfigMap, not both" -}}
{{- end -}}
{{- if not (has .Values.consumer.groupProtocol (list "classic" "consumer")) -}}
{{- fail (printf "consumer.groupProtocol must be classic or consumer (got %q)" .Values.consumer.groupProtocol) -}}
{{- end -}}
{{- end -}}

{{/* Where the CAs are mounted. */}}
{{- define "tweetpipe.kafkaCaPath" -}}/etc/tweetpipe/tls/kafka/{{ .Values.kafka.tls.caKey }}{{- end -}}
{{- define "tweetpipe.pgCaPath" -}}/etc/tweetpipe/tls/postgres/{{ .Values.database.tls.caKey }}{{- end -}}
{{- define "tweetpipe.saslPasswordPath" -}}/var/run/secrets/tweetpipe/kafka-sasl/{{ .Values.kafka.sasl.passwordKey }}{{- end -}}

{{/* Kafka credentials, never in the ConfigMap; needs (dict "root" $). */}}
{{- define "tweetpipe.kafkaEnv" -}}
{{- $ := .root -}}
{{- $sasl := $.Values.kafka.sasl -}}
{{- if include "tweetpipe.sasl" $ }}
- name: KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ $sasl.existingSecret }}
      key: {{ $sasl.usernameKey }}
{{- if $sasl.passwordAsFile }}
- name: KAFKA_SASL_PASSWORD_FILE
  value: {{ include "tweetpipe.saslPasswordPath" $ }}
{{- else }}
- name: KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $sasl.existingSecret }}
      key: {{ $sasl.passwordKey }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "tweetpipe.databaseEnv" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.database.existingSecret }}
      key: {{ .Values.database.urlKey }}
{{- end -}}

{{/* Mounts of the CAs and the SASL password file. */}}
{{- define "tweetpipe.tlsMounts" -}}
{{- if and (include "tweetpipe.kafkaTls" .) (or .Values.kafka.tls.caSecret .Values.kafka.tls.caConfigMap) }}
- name: kafka-ca
  mountPath: /etc/tweetpipe/tls/kafka
  readOnly: true
{{- end }}
{{- if and (include "tweetpipe.sasl" .) .Values.kafka.sasl.passwordAsFile }}
- name: kafka-sasl
  mountPath: /var/run/secrets/tweetpipe/kafka-sasl
  readOnly: true
{{- end }}
{{- end -}}
{{- define "tweetpipe.pgMounts" -}}
{{- if or .Values.database.tls.caSecret .Values.database.tls.caConfigMap }}
- name: postgres-ca
  mountPath: /etc/tweetpipe/tls/postgres
  readOnly: true
{{- end }}
{{- end -}}

{{- define "tweetpipe.caVolume" -}}
{{- if .tls.caSecret }}
- name: {{ .name }}
  secret:
    secretName: {{ .tls.caSecret }}
    items: [{key: {{ .tls.caKey }}, path: {{ .tls.caKey }}}]
{{- else if .tls.caConfigMap }}
- name: {{ .name }}
  configMap:
    name: {{ .tls.caConfigMap }}
    items: [{key: {{ .tls.caKey }}, path: {{ .tls.caKey }}}]
{{- end }}
{{- end -}}

{{- define "tweetpipe.tlsVolumes" -}}
{{- if include "tweetpipe.kafkaTls" . }}
{{- include "tweetpipe.caVolume" (dict "name" "kafka-ca" "tls" .Values.kafka.tls) }}
{{- end }}
{{- if and (include "tweetpipe.sasl" .) .Values.kafka.sasl.passwordAsFile }}
- name: kafka-sasl
  secret:
    secretName: {{ .Values.kafka.sasl.existingSecret }}
    items: [{key: {{ .Values.kafka.sasl.passwordKey }}, path: {{ .Values.kafka.sasl.passwordKey }}}]
{{- end }}
{{- end -}}
{{- define "tweetpipe.pgVolumes" -}}
{{- include "tweetpipe.caVolume" (dict "name" "postgres-ca" "tls" .Values.database.tls) }}
{{- end -}}

{{/* -X KEY=VALUE arguments for every Kafka client. */}}
{{- define "tweetpipe.kafkaArgs" -}}
{{- range $k, $v := .Values.kafka.properties }}
- -X
- {{ printf "%s=%v" $k $v | quote }}
{{- end }}
{{- end -}}

{{/* The consumer's group protocol as arguments (KIP-848 with "consumer"). */}}
{{- define "tweetpipe.groupProtocolArgs" -}}
{{- if eq .Values.consumer.groupProtocol "consumer" }}
- -X
- group.protocol=consumer
{{- end }}
{{- end -}}

{{- define "tweetpipe.podSecurity" -}}
{{ toYaml .Values.securityContext.pod }}
{{- end -}}
{{- define "tweetpipe.containerSecurity" -}}
{{ toYaml .Values.securityContext.container }}
{{- end -}}

{{/* A pod template's annotations: prometheus.io/* (with metrics.annotations, for a pod that
serves a port), and podAnnotations. Call with (dict "root" $ "pod" .Values.X "port" 9090). */}}
{{- define "tweetpipe.podAnnotations" -}}
{{- $annotations := dict -}}
{{- if and .port .root.Values.metrics.annotations -}}
{{- $_ := set $annotations "prometheus.io/scrape" "true" -}}
{{- $_ := set $annotations "prometheus.io/port" (toString .port) -}}
{{- $_ := set $annotations "prometheus.io/path" "/metrics" -}}
{{- end -}}
{{- with .checksum }}
{{- $_ := set $annotations "checksum/config" . -}}
{{- end -}}
{{- with merge $annotations (default (dict) .pod.podAnnotations) -}}
{{- toYaml . -}}
{{- end -}}
{{- end -}}

{{- define "tweetpipe.probes" -}}
readinessProbe:
  httpGet:
    path: /readyz
    port: http
  periodSeconds: 10
livenessProbe:
  httpGet:
    path: /healthz
    port: http
  periodSeconds: 20
  failureThreshold: 3
{{- end -}}

{{/* The consumer's arguments after `run` or `check` (migrations, when the hook Job runs them,
are turned off by TWEETPIPE_MIGRATE=false in the ConfigMap, which `check` reads too). */}}
{{- define "tweetpipe.consumerArgs" -}}
{{- include "tweetpipe.groupProtocolArgs" . }}
{{- include "tweetpipe.kafkaArgs" . }}
{{- range .Values.consumer.extraArgs }}
- {{ . | quote }}
{{- end }}
{{- end -}}

{{/* Everything a Kafka and PostgreSQL client mounts. */}}
{{- define "tweetpipe.allMounts" -}}
{{- include "tweetpipe.tlsMounts" . }}
{{- include "tweetpipe.pgMounts" . }}
{{- end -}}
{{- define "tweetpipe.allVolumes" -}}
{{- include "tweetpipe.tlsVolumes" . }}
{{- include "tweetpipe.pgVolumes" . }}
{{- end -}}

{{/* The nthd container, the same in both modes. */}}
{{- define "nthd.container" -}}
{{- if contains "aws-node-termination-handler" .Values.image.repository }}
{{- fail (printf "image.repository is %s: that is aws-node-termination-handler's image. Remove image.* from the values taken from NTH (the chart defaults to nthd's image) or point it at your nthd image." .Values.image.repository) }}
{{- end -}}
- name: nthd
  image: {{ include "nthd.image" . | quote }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  command:
    {{- include "nthd.command" . | nindent 4 }}
  {{- with .Values.securityContext }}
  securityContext:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  env:
    {{- include "nthd.env" . | nindent 4 }}
  {{- $metrics := include "nthd.metricsEnabled" . }}
  {{- if or $metrics (include "nthd.isTrue" .Values.enableProbesServer) }}
  ports:
    {{- if $metrics }}
    - name: http-metrics
      containerPort: {{ include "nthd.metricsPort" . | int }}
      protocol: TCP
    {{- end }}
    {{- if include "nthd.isTrue" .Values.enableProbesServer }}
    - name: probes
      containerPort: {{ include "nthd.probesPort" . | int }}
      protocol: TCP
    {{- end }}
  {{- end }}
  {{- if include "nthd.isTrue" .Values.enableProbesServer }}
  {{- $liveness := dict "httpGet" (dict "path" .Values.probesServerEndpoint "port" "probes") }}
  livenessProbe:
    {{- toYaml (merge (deepCopy (default dict .Values.probes)) $liveness) | nindent 4 }}
  {{- $readiness := dict "httpGet" (dict "path" "/readyz" "port" "probes") }}
  readinessProbe:
    {{- toYaml (merge (deepCopy (default dict .Values.readinessProbe)) $readiness) | nindent 4 }}
  {{- end }}
  {{- with include "nthd.resources" . }}
  resources:
    {{- . | nindent 4 }}
  {{- end }}
  volumeMounts:
    # readOnlyRootFilesystem: a small scratch directory for anything that insists on /tmp.
    - name: tmp
      mountPath: /tmp
    {{- if .Values.webhookTemplateConfigMapName }}
    - name: webhook-template
      mountPath: /config
      readOnly: true
    {{- end }}
    {{- with .Values.extraVolumeMounts }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end -}}

{{- define "nthd.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 16Mi
{{- if .Values.webhookTemplateConfigMapName }}
- name: webhook-template
  configMap:
    name: {{ .Values.webhookTemplateConfigMapName }}
{{- end }}
{{- with .Values.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "nthd.imagePullSecrets" -}}
{{- $names := list -}}
{{- range .Values.image.pullSecrets }}{{ $names = append $names (dict "name" .) }}{{ end -}}
{{- range .Values.imagePullSecrets }}{{ $names = append $names (ternary (dict "name" .) . (kindIs "string" .)) }}{{ end -}}
{{- with $names -}}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{- define "nthd.podMetadata" -}}
{{- $labels := merge (dict) (.extraLabels | default dict) (.root.Values.podLabels | default dict) -}}
{{- $annotations := merge (dict) (.extraAnnotations | default dict) (.root.Values.podAnnotations | default dict) -}}
labels:
  {{- include "nthd.selectorLabels" .root | nindent 2 }}
  app.kubernetes.io/component: {{ include "nthd.mode" .root }}
  {{- with $labels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- with $annotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

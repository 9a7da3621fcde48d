{{/* Names, labels and the mode switch shared by every template. */}}

{{- define "nthd.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "nthd.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "nthd.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The workloads' selector (and every pod's labels). extraSelectorLabels is for taking over
objects created elsewhere with the same names: a selector cannot change after creation,
so kOps' addon (which also selects on kubernetes.io/os) is replaced only by a manifest
that selects exactly as it did.
*/}}
{{- define "nthd.selectorLabels" -}}
{{ include "nthd.identityLabels" . }}
{{- with .Values.extraSelectorLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "nthd.identityLabels" -}}
app.kubernetes.io/name: {{ include "nthd.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "nthd.labels" -}}
{{ include "nthd.identityLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: {{ include "nthd.mode" . }}
helm.sh/chart: {{ include "nthd.chart" . }}
{{- with .Values.customLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "nthd.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "nthd.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "nthd.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/*
"true" when a value counts as set: not null and not the empty string. false and 0 are set.
NTH's chart used "" as "not set", so old values files keep working.
*/}}
{{- define "nthd.isSet" -}}
{{- if and (not (kindIs "invalid" .)) (ne (toString .) "") -}}true{{- end -}}
{{- end -}}

{{/*
Renders a value for an environment variable: whole numbers without an exponent
(Helm reads YAML numbers as float64, and 1000000 would print as 1e+06), maps as JSON.
*/}}
{{- define "nthd.envString" -}}
{{- if and (kindIs "float64" .) (eq (floor .) .) -}}
{{- int64 . -}}
{{- else if kindIs "map" . -}}
{{- toJson . -}}
{{- else -}}
{{- toString . -}}
{{- end -}}
{{- end -}}

{{/* The first set value of a list (a setting followed by its deprecated NTH names), or "". */}}
{{- define "nthd.firstSet" -}}
{{- $out := "" -}}
{{- range . -}}
{{- if and (eq $out "") (include "nthd.isSet" .) -}}
{{- $out = include "nthd.envString" . -}}
{{- end -}}
{{- end -}}
{{- $out -}}
{{- end -}}

{{/* "true" when a boolean-ish value (true, "true", "TRUE") is true. */}}
{{- define "nthd.isTrue" -}}
{{- if eq (lower (toString .)) "true" -}}true{{- end -}}
{{- end -}}

{{/* The resolved mode: imds or queue. Fails on a contradiction between mode and NTH's switch. */}}
{{- define "nthd.mode" -}}
{{- $sqs := include "nthd.isTrue" .Values.enableSqsTerminationDraining -}}
{{- $mode := default "" .Values.mode -}}
{{- if eq $mode "queue" -}}
queue
{{- else if eq $mode "imds" -}}
{{- if $sqs -}}
{{- fail "mode is imds but enableSqsTerminationDraining is true: set one of them, not both" -}}
{{- end -}}
imds
{{- else if $sqs -}}
queue
{{- else -}}
imds
{{- end -}}
{{- end -}}

{{/* "true" when the pod shares the node's network: IMDS mode's useHostNetwork, queue mode's deploymentHostNetwork. */}}
{{- define "nthd.hostNetwork" -}}
{{- if eq (include "nthd.mode" .) "imds" -}}
{{- include "nthd.isTrue" .Values.useHostNetwork -}}
{{- else -}}
{{- include "nthd.isTrue" .Values.deploymentHostNetwork -}}
{{- end -}}
{{- end -}}

{{/*
The container's resources: the chart's defaults for the mode (queueResources
or imdsResources, each sized from nthd's measured peak, see
docs/benchmarks.md) with .Values.resources laid over them, so setting only
resources.limits.memory changes only the limit.
*/}}
{{- define "nthd.resources" -}}
{{- $defaults := ternary .Values.queueResources .Values.imdsResources (eq (include "nthd.mode" .) "queue") -}}
{{- $merged := mergeOverwrite (deepCopy (default dict $defaults)) (deepCopy (default dict .Values.resources)) -}}
{{- if $merged }}{{ toYaml $merged }}{{ end -}}
{{- end -}}

{{/*
The memory limit in MiB, from a quantity in bytes or with a binary or
decimal suffix (256Mi, 1Gi, 300M, 268435456); empty when there is no limit
or it is written some other way (0.5Gi).
*/}}
{{- define "nthd.memoryLimitMiB" -}}
{{- $resources := include "nthd.resources" . | fromYaml -}}
{{- $limit := toString (dig "limits" "memory" "" $resources) -}}
{{- if regexMatch "^[0-9]+(Ki|Mi|Gi|k|K|M|G)?$" $limit -}}
{{- $n := regexFind "^[0-9]+" $limit | int64 -}}
{{- $unit := regexReplaceAll "^[0-9]+" $limit "" -}}
{{- $bytes := $n -}}
{{- if eq $unit "Ki" }}{{ $bytes = mul $n 1024 }}
{{- else if eq $unit "Mi" }}{{ $bytes = mul $n 1048576 }}
{{- else if eq $unit "Gi" }}{{ $bytes = mul $n 1073741824 }}
{{- else if or (eq $unit "k") (eq $unit "K") }}{{ $bytes = mul $n 1000 }}
{{- else if eq $unit "M" }}{{ $bytes = mul $n 1000000 }}
{{- else if eq $unit "G" }}{{ $bytes = mul $n 1000000000 }}
{{- end -}}
{{- div $bytes 1048576 -}}
{{- end -}}
{{- end -}}

{{/*
Listener defaults. On the host network the port space is the node's: kubelet (10248, 10250),
kube-proxy (10249, 10256), node-exporter (9100), the VPC CNI (61678, 61679, 50051; its network
policy agent 8162, 8163), Cilium (4240, 4244, 9879, 9962-9965), Calico (9091, 9099, 5473),
NodeLocal DNSCache (8080 health, 9253), ingress-nginx (10254), the EBS/EFS CSI nodes
(9808, 9809), the EKS Pod Identity agent (80, 2703, 2705) and NTH itself (8080, 9092).
10281/10282 collide with none of these and stay below the kernel's ephemeral port range.
*/}}
{{- define "nthd.probesPort" -}}
{{- if include "nthd.isSet" .Values.probesServerPort -}}
{{- include "nthd.envString" .Values.probesServerPort -}}
{{- else -}}
{{- ternary "10281" "8080" (eq (include "nthd.hostNetwork" .) "true") -}}
{{- end -}}
{{- end -}}

{{- define "nthd.metricsPort" -}}
{{- if include "nthd.isSet" .Values.prometheusServerPort -}}
{{- include "nthd.envString" .Values.prometheusServerPort -}}
{{- else -}}
{{- ternary "10282" "9092" (eq (include "nthd.hostNetwork" .) "true") -}}
{{- end -}}
{{- end -}}

{{/* "true" when /metrics is served: as set, else on in queue mode and with a PodMonitor in IMDS mode. */}}
{{- define "nthd.metricsEnabled" -}}
{{- if include "nthd.isSet" .Values.enablePrometheusServer -}}
{{- include "nthd.isTrue" .Values.enablePrometheusServer -}}
{{- else if eq (include "nthd.mode" .) "queue" -}}
true
{{- else if .Values.podMonitor.create -}}
true
{{- end -}}
{{- end -}}

{{/*
The container's command: the image's node and entry file (the Dockerfile's
ENTRYPOINT) with the mode's Node.js flags between them: those of
files/<mode>-node-flags.txt, then a JavaScript heap limit of half the
memory limit. Node.js would size its heap from the container's memory
alone (about 256 MiB at least, more than these limits): with this flag the
heap is collected harder as it nears the limit, instead of the kernel
killing the process. An explicit --max-old-space-size in the flags file wins.
*/}}
{{- define "nthd.command" -}}
{{- $flags := list -}}
{{- range splitList "\n" (.Files.Get (printf "files/%s-node-flags.txt" (include "nthd.mode" .))) -}}
{{- $flag := trim . -}}
{{- if and $flag (not (hasPrefix "#" $flag)) -}}
{{- $flags = append $flags $flag -}}
{{- end -}}
{{- end -}}
{{- $limitMiB := include "nthd.memoryLimitMiB" . -}}
{{- $hasHeapFlag := false -}}
{{- range $flags }}{{ if hasPrefix "--max-old-space-size" . }}{{ $hasHeapFlag = true }}{{ end }}{{ end -}}
{{- if and $limitMiB (not $hasHeapFlag) (gt (int $limitMiB) 0) -}}
{{- $flags = append $flags (printf "--max-old-space-size=%d" (div (int $limitMiB) 2)) -}}
{{- end -}}
- /nodejs/bin/node
{{- range $flags }}
- {{ . | quote }}
{{- end }}
- /app/nthd.mjs
{{- end -}}

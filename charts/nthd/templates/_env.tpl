{{/*
The value -> environment variable table. Each row is (ENV_NAME value [deprecated NTH value...]):
the first set value wins, and a row with nothing set is left out so nthd applies its own
default (src/config/settings.ts is the one place defaults live). Environment names are
exactly the ones nthd reads.
*/}}

{{- define "nthd.envRows.common" -}}
{{- $v := .Values -}}
{{- list
  (list "DRY_RUN" $v.dryRun)
  (list "KUBE_API_QPS" $v.kubeApiQps)
  (list "KUBE_API_BURST" $v.kubeApiBurst)
  (list "USE_APISERVER_CACHE" $v.useApiserverCache $v.useAPIServerCacheToListPods)
  (list "NTHD_API_PROBE_IDLE_SECONDS" $v.apiProbeIdleSeconds)
  (list "NTHD_KUBE_API_TIMEOUT_SECONDS" $v.kubeApiTimeoutSeconds)
  (list "NTHD_KUBE_WATCH_IDLE_TIMEOUT_SECONDS" $v.kubeWatchIdleTimeoutSeconds)
  (list "CORDON_ONLY" $v.cordonOnly)
  (list "TAINT_NODE" $v.taintNode)
  (list "TAINT_EFFECT" $v.taintEffect)
  (list "ENABLE_OUT_OF_SERVICE_TAINT" $v.enableOutOfServiceTaint)
  (list "EXCLUDE_FROM_LOAD_BALANCERS" $v.excludeFromLoadBalancers)
  (list "IGNORE_DAEMON_SETS" $v.ignoreDaemonSets)
  (list "DELETE_LOCAL_DATA" $v.deleteLocalData)
  (list "NTHD_EVICT_UNMANAGED_PODS" $v.evictUnmanagedPods)
  (list "POD_TERMINATION_GRACE_PERIOD" $v.podTerminationGracePeriod $v.gracePeriod)
  (list "NODE_TERMINATION_GRACE_PERIOD" $v.nodeTerminationGracePeriod)
  (list "NTHD_DEADLINE_SAFETY_MARGIN_SECONDS" $v.deadlineSafetyMarginSeconds)
  (list "NTHD_MAX_CONCURRENT_DRAINS" $v.maxConcurrentDrains)
  (list "NTHD_SCHEDULED_DRAIN_LEAD_SECONDS" $v.scheduledDrainLeadSeconds)
  (list "ENABLE_REBALANCE_MONITORING" $v.enableRebalanceMonitoring)
  (list "ENABLE_REBALANCE_DRAINING" $v.enableRebalanceDraining)
  (list "LOG_LEVEL" $v.logLevel)
  (list "JSON_LOGGING" $v.jsonLogging)
  (list "LOG_FORMAT_VERSION" $v.logFormatVersion)
  (list "ENABLE_PROMETHEUS_SERVER" (include "nthd.metricsEnabled" . | default "false"))
  (list "PROMETHEUS_SERVER_PORT" (include "nthd.metricsPort" .))
  (list "ENABLE_PROBES_SERVER" $v.enableProbesServer)
  (list "PROBES_SERVER_PORT" (include "nthd.probesPort" .))
  (list "PROBES_SERVER_ENDPOINT" $v.probesServerEndpoint)
  (list "EMIT_KUBERNETES_EVENTS" $v.emitKubernetesEvents)
  (list "NTHD_KUBERNETES_EVENTS_COMPONENT" $v.kubernetesEventsComponent)
  (list "NTHD_ENABLE_ACTIONS_NODE_METRIC" $v.enableActionsNodeMetric)
  (list "KUBERNETES_EVENTS_EXTRA_ANNOTATIONS" (include "nthd.annotationList" $v.kubernetesEventsExtraAnnotations))
  (list "WEBHOOK_PROXY" $v.webhookProxy)
  (list "WEBHOOK_HEADERS" $v.webhookHeaders)
  (list "WEBHOOK_TEMPLATE" $v.webhookTemplate)
  (list "MALLOC_ARENA_MAX" $v.mallocArenaMax)
  (list "MALLOC_MMAP_THRESHOLD_" $v.mallocMmapThreshold)
| toJson -}}
{{- end -}}

{{- define "nthd.envRows.imds" -}}
{{- $v := .Values -}}
{{- list
  (list "INSTANCE_METADATA_URL" $v.instanceMetadataURL)
  (list "METADATA_TRIES" $v.metadataTries)
  (list "NTHD_IMDS_POLL_INTERVAL_MS" $v.imdsPollIntervalMs)
  (list "NTHD_IMDS_TOKEN_TTL_SECONDS" $v.imdsTokenTtlSeconds)
  (list "NTHD_IMDS_ALLOW_V1_FALLBACK" $v.imdsAllowV1Fallback)
  (list "ENABLE_SPOT_INTERRUPTION_DRAINING" $v.enableSpotInterruptionDraining)
  (list "ENABLE_SCHEDULED_EVENT_DRAINING" $v.enableScheduledEventDraining)
  (list "ENABLE_ASG_LIFECYCLE_DRAINING" $v.enableASGLifecycleDraining)
  (list "UPTIME_FROM_FILE" $v.procUptimeFile)
| toJson -}}
{{- end -}}

{{- define "nthd.envRows.queue" -}}
{{- $v := .Values -}}
{{- list
  (list "QUEUE_URL" (required "queueURL is required in queue mode (enableSqsTerminationDraining: true or mode: queue)" $v.queueURL))
  (list "AWS_REGION" $v.awsRegion)
  (list "AWS_ENDPOINT" $v.awsEndpoint)
  (list "WORKERS" $v.workers)
  (list "CHECK_TAG_BEFORE_DRAINING" $v.checkTagBeforeDraining $v.checkASGTagBeforeDraining)
  (list "MANAGED_TAG" $v.managedTag $v.managedAsgTag)
  (list "USE_PROVIDER_ID" $v.useProviderId)
  (list "DELETE_SQS_MSG_IF_NODE_NOT_FOUND" $v.deleteSqsMsgIfNodeNotFound)
  (list "COMPLETE_LIFECYCLE_ACTION_DELAY_SECONDS" $v.completeLifecycleActionDelaySeconds)
  (list "HEARTBEAT_INTERVAL" $v.heartbeatInterval)
  (list "HEARTBEAT_UNTIL" $v.heartbeatUntil)
  (list "SQS_MSG_VISIBILITY_TIMEOUT_SEC" $v.sqsMsgVisibilityTimeoutSec)
  (list "NTHD_COMPLETE_LAUNCH_LIFECYCLE_ACTION" $v.completeLaunchLifecycleAction)
  (list "NTHD_AUDIT_INTERVAL_SECONDS" $v.auditIntervalSeconds)
  (list "NTHD_AUDIT_NODE_SELECTOR" $v.auditNodeSelector)
  (list "NTHD_AWS_CONNECT_TIMEOUT_SECONDS" $v.awsConnectTimeoutSeconds)
  (list "NTHD_AWS_REQUEST_TIMEOUT_SECONDS" $v.awsRequestTimeoutSeconds)
  (list "NTHD_AWS_MAX_ATTEMPTS" $v.awsMaxAttempts)
  (list "NTHD_QUEUE_HOLD_MAX_SECONDS" $v.queueHoldMaxSeconds)
  (list "NTHD_COMPLETE_LIFECYCLE_ACTION_WITHOUT_NODE" $v.completeLifecycleActionWithoutNode)
  (list "NTHD_NODE_REGISTRATION_WAIT_SECONDS" $v.nodeRegistrationWaitSeconds)
  (list "NTHD_LEASE_DURATION_SECONDS" $v.leaseDurationSeconds)
  (list "AWS_ACCESS_KEY_ID" $v.awsAccessKeyID)
  (list "AWS_SECRET_ACCESS_KEY" $v.awsSecretAccessKey)
| toJson -}}
{{- end -}}

{{/* kubernetesEventsExtraAnnotations: NTH's "k=v,k2=v2" string, or a map turned into that form. */}}
{{- define "nthd.annotationList" -}}
{{- if kindIs "map" . -}}
{{- $pairs := list -}}
{{- range $k, $val := . -}}
{{- $pairs = append $pairs (printf "%s=%s" $k (toString $val)) -}}
{{- end -}}
{{- join "," $pairs -}}
{{- else if include "nthd.isSet" . -}}
{{- toString . -}}
{{- end -}}
{{- end -}}

{{/* The container's env list. */}}
{{- define "nthd.env" -}}
{{- $mode := include "nthd.mode" . -}}
- name: NODE_NAME
  valueFrom:
    fieldRef:
      fieldPath: spec.nodeName
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: NTHD_MODE
  value: {{ $mode | quote }}
- name: ENABLE_SQS_TERMINATION_DRAINING
  value: {{ eq $mode "queue" | toString | quote }}
{{- $rows := concat (include "nthd.envRows.common" . | fromJsonArray) (include (printf "nthd.envRows.%s" $mode) . | fromJsonArray) }}
{{- range $rows }}
{{- $value := include "nthd.firstSet" (rest .) }}
{{- if ne $value "" }}
- name: {{ first . }}
  value: {{ $value | quote }}
{{- end }}
{{- end }}
{{- if eq (toString .Values.bindAddress) "podIP" }}
- name: NTHD_BIND_ADDRESS
  valueFrom:
    fieldRef:
      fieldPath: status.podIP
{{- else if include "nthd.isSet" .Values.bindAddress }}
- name: NTHD_BIND_ADDRESS
  value: {{ .Values.bindAddress | quote }}
{{- end }}
{{- if .Values.webhookURLSecretName }}
- name: WEBHOOK_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.webhookURLSecretName }}
      key: webhookurl
{{- else if .Values.webhookURL }}
- name: WEBHOOK_URL
  value: {{ .Values.webhookURL | quote }}
{{- end }}
{{- if .Values.webhookTemplateConfigMapName }}
- name: WEBHOOK_TEMPLATE_FILE
  value: {{ printf "/config/%s" (required "webhookTemplateConfigMapKey is required with webhookTemplateConfigMapName" .Values.webhookTemplateConfigMapKey) | quote }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

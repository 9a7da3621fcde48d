import {
  bool,
  float,
  int,
  intOr,
  intOrNegative,
  intOrWord,
  ipAddress,
  jsonStringMap,
  keyValueList,
  oneOf,
  proxyUrl,
  text,
  url,
} from "./parse-values.ts";
import { type AnySetting, type Check, MODES, type Mode, type SettingSpec } from "./types.ts";

/** Identity: checks an entry's default against its parser's type. */
function setting<T>(spec: SettingSpec<T>): SettingSpec<T> {
  return spec;
}

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error"] as const;
export const TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"] as const;
/** Who Kubernetes Events say wrote them: nthd, or NTH's name for filters written for it. */
export const EVENT_COMPONENTS = ["nthd", "aws-node-termination-handler"] as const;

/** AWS ends a lifecycle action after 48 hours at most, heartbeats or not. */
const LIFECYCLE_ACTION_MAX_SECONDS = 172_800;

/**
 * Every setting nthd reads. This table is the single source of truth for
 * environment variables (aws-node-termination-handler's names accepted),
 * flags, defaults, ranges (each parser's), the mode rules (`requiredIn`,
 * `onlyIn`), `--help` and docs/configuration.md; CHECKS below holds the rules
 * between settings. Names carry their unit; sentinels are in the description.
 */
export const SETTINGS = {
  // --- general -------------------------------------------------------------
  mode: setting<Mode | undefined>({
    flag: "mode",
    env: ["NTHD_MODE"],
    parse: oneOf(MODES),
    default: undefined,
    group: "general",
    description:
      "Which source to run. Unset: queue when ENABLE_SQS_TERMINATION_DRAINING is true, else imds.",
  }),
  dryRun: setting({
    flag: "dry-run",
    env: ["DRY_RUN"],
    parse: bool,
    default: false,
    group: "general",
    description: "Log what would be cordoned and drained without changing anything.",
  }),
  nodeName: setting({
    flag: "node-name",
    env: ["NODE_NAME"],
    parse: text,
    default: "",
    hint: "node name",
    requiredIn: "imds",
    group: "general",
    description: "This pod's Kubernetes node; set it from the downward API (spec.nodeName).",
  }),
  podName: setting({
    flag: "pod-name",
    env: ["POD_NAME"],
    parse: text,
    default: "",
    hint: "pod name",
    group: "general",
    description: "This pod's name, for Events and logs.",
  }),
  podNamespace: setting({
    flag: "pod-namespace",
    env: ["NAMESPACE", "POD_NAMESPACE"],
    parse: text,
    default: "",
    hint: "namespace",
    group: "general",
    description: "This pod's namespace.",
  }),
  kubeconfig: setting({
    flag: "kubeconfig",
    env: ["KUBECONFIG"],
    parse: text,
    default: "",
    hint: "path",
    group: "general",
    description: "Path to a kubeconfig. Empty: in-cluster service account.",
  }),
  kubernetesServiceHost: setting({
    flag: "kubernetes-service-host",
    env: ["KUBERNETES_SERVICE_HOST"],
    parse: text,
    default: "",
    hint: "host",
    group: "general",
    description: "API server host for in-cluster configuration (advanced).",
  }),
  kubernetesServicePort: setting({
    flag: "kubernetes-service-port",
    env: ["KUBERNETES_SERVICE_PORT"],
    parse: text,
    default: "",
    hint: "port",
    group: "general",
    description: "API server port for in-cluster configuration (advanced).",
  }),
  kubeApiQps: setting({
    flag: "kube-api-qps",
    env: ["KUBE_API_QPS"],
    parse: float(0.1, 10000),
    default: 50,
    group: "general",
    description:
      "Sustained Kubernetes API requests per second (NTH default 5; nthd raises it so mass interruptions cordon in time).",
  }),
  kubeApiBurst: setting({
    flag: "kube-api-burst",
    env: ["KUBE_API_BURST"],
    parse: int(1, 100000),
    default: 100,
    group: "general",
    description: "Kubernetes API burst above the sustained rate.",
  }),
  apiProbeIdleSeconds: setting({
    flag: "api-probe-idle-seconds",
    env: ["NTHD_API_PROBE_IDLE_SECONDS"],
    parse: int(5, 3600),
    default: 60,
    group: "general",
    description:
      "Readiness follows nthd's own API requests; after this many seconds without any, one cheap read (a node from the API server's cache) checks the server is still there.",
  }),
  kubeApiTimeoutSeconds: setting({
    flag: "kube-api-timeout-seconds",
    env: ["NTHD_KUBE_API_TIMEOUT_SECONDS"],
    parse: int(1, 300),
    default: 15,
    group: "general",
    description:
      "Longest one Kubernetes API request may take (counted after the client-side rate limiter lets it go); a request to a hung API server fails after this and is retried.",
  }),
  kubeWatchIdleTimeoutSeconds: setting({
    flag: "kube-watch-idle-timeout-seconds",
    env: ["NTHD_KUBE_WATCH_IDLE_TIMEOUT_SECONDS"],
    parse: int(30, 3600),
    default: 150,
    group: "general",
    description:
      "A watch that brings nothing (no event, no bookmark) for this long is taken for a dead connection and opened again from its last resourceVersion. Opening a watch is bounded by kube-api-timeout-seconds.",
  }),
  awsConnectTimeoutSeconds: setting({
    flag: "aws-connect-timeout-seconds",
    env: ["NTHD_AWS_CONNECT_TIMEOUT_SECONDS"],
    parse: int(1, 120),
    default: 5,
    onlyIn: "queue",
    group: "queue",
    description: "Longest an AWS API connection (TCP and TLS) may take to open.",
  }),
  awsRequestTimeoutSeconds: setting({
    flag: "aws-request-timeout-seconds",
    env: ["NTHD_AWS_REQUEST_TIMEOUT_SECONDS"],
    parse: int(1, 600),
    default: 20,
    onlyIn: "queue",
    group: "queue",
    description:
      "Longest one attempt of an AWS API call may take (the SDK's own default waits forever). ReceiveMessage gets its long-poll wait on top.",
  }),
  awsMaxAttempts: setting({
    flag: "aws-max-attempts",
    env: ["NTHD_AWS_MAX_ATTEMPTS", "AWS_MAX_ATTEMPTS"],
    parse: int(1, 20),
    default: 5,
    onlyIn: "queue",
    group: "queue",
    description:
      "Attempts per AWS API call, the first included (adaptive retry mode: throttled calls also slow the client down).",
  }),
  useApiserverCache: setting({
    flag: "use-apiserver-cache",
    env: ["USE_APISERVER_CACHE"],
    parse: bool,
    default: false,
    group: "general",
    description:
      "List pods from the API server's watch cache (resourceVersion=0) instead of a quorum read.",
  }),
  uptimeFromFile: setting({
    flag: "uptime-from-file",
    env: ["UPTIME_FROM_FILE"],
    parse: text,
    default: "",
    hint: "path",
    group: "general",
    description:
      "IMDS mode: read the host's uptime from this file instead of /proc/uptime. At start-up a node aws-node-termination-handler cordoned for a scheduled reboot (label aws-node-termination-handler/action=UncordonAfterReboot) is uncordoned, and NTH's labels and taints removed, once the uptime is shorter than the time since NTH acted.",
  }),

  // --- drain ---------------------------------------------------------------
  cordonOnly: setting({
    flag: "cordon-only",
    env: ["CORDON_ONLY"],
    parse: bool,
    default: false,
    group: "drain",
    description: "Cordon but never evict pods.",
  }),
  taintNode: setting({
    flag: "taint-node",
    env: ["TAINT_NODE"],
    parse: bool,
    default: false,
    group: "drain",
    description: "Add a taint per notice kind (aws-node-termination-handler/spot-itn, ...).",
  }),
  taintEffect: setting({
    flag: "taint-effect",
    env: ["TAINT_EFFECT"],
    parse: oneOf(TAINT_EFFECTS),
    default: "NoSchedule",
    group: "drain",
    description: "Effect of the notice taints.",
  }),
  enableOutOfServiceTaint: setting({
    flag: "enable-out-of-service-taint",
    env: ["ENABLE_OUT_OF_SERVICE_TAINT"],
    parse: bool,
    default: false,
    group: "drain",
    description:
      "After a completed drain add node.kubernetes.io/out-of-service=nodeshutdown:NoExecute.",
  }),
  excludeFromLoadBalancers: setting({
    flag: "exclude-from-load-balancers",
    env: ["EXCLUDE_FROM_LOAD_BALANCERS"],
    parse: bool,
    default: false,
    group: "drain",
    description:
      "Label the node node.kubernetes.io/exclude-from-external-load-balancers before cordoning.",
  }),
  ignoreDaemonSets: setting({
    flag: "ignore-daemon-sets",
    env: ["IGNORE_DAEMON_SETS"],
    parse: bool,
    default: true,
    group: "drain",
    description: "Leave DaemonSet pods in place while draining.",
  }),
  deleteLocalData: setting({
    flag: "delete-local-data",
    env: ["DELETE_LOCAL_DATA"],
    parse: bool,
    default: true,
    group: "drain",
    description: "Evict pods that use emptyDir volumes (their data is lost).",
  }),
  evictUnmanagedPods: setting({
    flag: "evict-unmanaged-pods",
    env: ["NTHD_EVICT_UNMANAGED_PODS"],
    parse: bool,
    default: true,
    group: "drain",
    description:
      "Evict pods no controller manages (NTH does, like kubectl drain --force); false leaves them on the node.",
  }),
  podTerminationGracePeriodSeconds: setting({
    flag: "pod-termination-grace-period",
    env: ["POD_TERMINATION_GRACE_PERIOD", "GRACE_PERIOD"],
    deprecatedFlags: ["grace-period"],
    parse: intOrNegative(-1, 86400),
    default: -1,
    group: "drain",
    description:
      "Grace period for each evicted pod. Negative (as NTH, any negative number): the pod's own terminationGracePeriodSeconds. Always capped by the time left.",
  }),
  nodeTerminationGracePeriodSeconds: setting({
    flag: "node-termination-grace-period",
    env: ["NODE_TERMINATION_GRACE_PERIOD"],
    parse: int(1, 86400),
    default: 120,
    group: "drain",
    description: "Longest a drain of one node may take when the notice has no deadline of its own.",
  }),
  deadlineSafetyMarginSeconds: setting({
    flag: "deadline-safety-margin",
    env: ["NTHD_DEADLINE_SAFETY_MARGIN_SECONDS"],
    parse: int(0, 600),
    default: 10,
    group: "drain",
    description:
      "Seconds kept free before a notice's deadline: grace periods are capped to end this early.",
  }),
  scheduledDrainLeadSeconds: setting({
    flag: "scheduled-drain-lead",
    env: ["NTHD_SCHEDULED_DRAIN_LEAD_SECONDS"],
    parse: int(0, 2592000),
    default: 600,
    group: "drain",
    description:
      "Scheduled maintenance and AWS Health scheduled changes are recorded at once but cordoned and drained this many seconds before their start, not days early. 0: at detection, as NTH does.",
  }),
  maxConcurrentDrains: setting({
    flag: "max-concurrent-drains",
    env: ["NTHD_MAX_CONCURRENT_DRAINS"],
    parse: int(1, 10000),
    default: 100,
    group: "drain",
    description: "Nodes drained at the same time (cordons are never held back).",
  }),

  // --- IMDS mode -----------------------------------------------------------
  metadataUrl: setting({
    flag: "metadata-url",
    env: ["INSTANCE_METADATA_URL"],
    parse: url,
    default: "http://169.254.169.254",
    group: "imds",
    description: "Instance metadata service base URL.",
  }),
  metadataTries: setting({
    flag: "metadata-tries",
    env: ["METADATA_TRIES"],
    parse: int(1, 100),
    default: 3,
    group: "imds",
    description: "Attempts per metadata request (tries, not retries).",
  }),
  imdsPollIntervalMs: setting({
    flag: "imds-poll-interval",
    env: ["NTHD_IMDS_POLL_INTERVAL_MS"],
    parse: int(100, 60000),
    default: 1000,
    group: "imds",
    description: "Milliseconds between metadata polls.",
  }),
  imdsTokenTtlSeconds: setting({
    flag: "imds-token-ttl",
    env: ["NTHD_IMDS_TOKEN_TTL_SECONDS"],
    parse: int(60, 21600),
    default: 21600,
    group: "imds",
    description: "Lifetime requested for IMDSv2 tokens.",
  }),
  imdsAllowV1Fallback: setting({
    flag: "imds-allow-v1-fallback",
    env: ["NTHD_IMDS_ALLOW_V1_FALLBACK"],
    parse: bool,
    default: false,
    group: "imds",
    description: "Fall back to IMDSv1 when no token can be obtained.",
  }),
  enableSpotInterruptionDraining: setting({
    flag: "enable-spot-interruption-draining",
    env: ["ENABLE_SPOT_INTERRUPTION_DRAINING"],
    parse: bool,
    default: true,
    group: "imds",
    description: "Watch for Spot interruption notices.",
  }),
  enableScheduledEventDraining: setting({
    flag: "enable-scheduled-event-draining",
    env: ["ENABLE_SCHEDULED_EVENT_DRAINING"],
    parse: bool,
    default: true,
    group: "imds",
    description: "Watch scheduled maintenance events.",
  }),
  enableAsgLifecycleDraining: setting({
    flag: "enable-asg-lifecycle-draining",
    env: ["ENABLE_ASG_LIFECYCLE_DRAINING"],
    parse: bool,
    default: false,
    group: "imds",
    description: "Watch the Auto Scaling target lifecycle state.",
  }),
  enableRebalanceMonitoring: setting({
    flag: "enable-rebalance-monitoring",
    env: ["ENABLE_REBALANCE_MONITORING"],
    parse: bool,
    default: false,
    group: "imds",
    description: "Cordon on rebalance recommendations.",
  }),
  enableRebalanceDraining: setting({
    flag: "enable-rebalance-draining",
    env: ["ENABLE_REBALANCE_DRAINING"],
    parse: bool,
    default: false,
    group: "imds",
    description:
      "Cordon and drain on rebalance recommendations (both modes; in IMDS mode it watches them without enable-rebalance-monitoring).",
  }),

  // --- queue mode ----------------------------------------------------------
  enableSqsTerminationDraining: setting({
    flag: "enable-sqs-termination-draining",
    env: ["ENABLE_SQS_TERMINATION_DRAINING"],
    parse: bool,
    default: false,
    group: "queue",
    description: "Run in queue mode (same as --mode=queue).",
  }),
  queueUrl: setting({
    flag: "queue-url",
    env: ["QUEUE_URL"],
    parse: url,
    default: "",
    requiredIn: "queue",
    group: "queue",
    description: "SQS queue URL.",
  }),
  awsRegion: setting({
    flag: "aws-region",
    env: ["AWS_REGION", "AWS_DEFAULT_REGION"],
    parse: text,
    default: "",
    hint: "region",
    group: "queue",
    description: "AWS region. Empty: taken from the queue URL.",
  }),
  awsEndpoint: setting({
    flag: "aws-endpoint",
    env: ["AWS_ENDPOINT"],
    parse: url,
    default: "",
    group: "queue",
    description:
      "Custom endpoint for every AWS API (testing). AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> also work.",
  }),
  workers: setting({
    flag: "workers",
    env: ["WORKERS"],
    parse: int(1, 1000),
    default: 10,
    group: "queue",
    description:
      "Message workers per replica (NTH's setting); each works on up to 10 messages at once, one SQS receive batch, so a replica holds up to 10 x WORKERS messages.",
  }),
  checkTagBeforeDraining: setting({
    flag: "check-tag-before-draining",
    env: ["CHECK_TAG_BEFORE_DRAINING", "CHECK_ASG_TAG_BEFORE_DRAINING"],
    deprecatedFlags: ["check-asg-tag-before-draining"],
    parse: bool,
    default: true,
    group: "queue",
    description: "Only handle instances that carry the managed tag.",
  }),
  managedTag: setting({
    flag: "managed-tag",
    env: ["MANAGED_TAG", "MANAGED_ASG_TAG"],
    deprecatedFlags: ["managed-asg-tag"],
    parse: text,
    default: "aws-node-termination-handler/managed",
    hint: "tag key",
    group: "queue",
    description: "Tag key an instance must carry when check-tag-before-draining is on.",
  }),
  useProviderId: setting({
    flag: "use-provider-id",
    env: ["USE_PROVIDER_ID"],
    parse: bool,
    default: true,
    group: "queue",
    description:
      "Find nodes by spec.providerID (nthd always tries it first; false adds nothing but is accepted).",
  }),
  deleteSqsMsgIfNodeNotFound: setting({
    flag: "delete-sqs-msg-if-node-not-found",
    env: ["DELETE_SQS_MSG_IF_NODE_NOT_FOUND"],
    parse: bool,
    default: true,
    group: "queue",
    description:
      "Delete a message whose instance is not a node of this cluster and count it as ignored (EventBridge rules match every instance of the account). Set false for a queue shared by several clusters. NTH's default was false.",
  }),
  completeLifecycleActionDelaySeconds: setting({
    flag: "complete-lifecycle-action-delay-seconds",
    env: ["COMPLETE_LIFECYCLE_ACTION_DELAY_SECONDS"],
    parse: int(-1, 7200),
    default: -1,
    group: "queue",
    description:
      "Wait this long after a drain before completing the lifecycle action. -1: no wait.",
  }),
  heartbeatIntervalSeconds: setting<number | "auto">({
    flag: "heartbeat-interval",
    env: ["HEARTBEAT_INTERVAL"],
    parse: intOrWord("auto", -1, 30, 3600),
    default: "auto",
    inert: [-1],
    onlyIn: "queue",
    group: "queue",
    description:
      "Seconds between lifecycle action heartbeats during long drains (NTH's range). -1: no heartbeats (NTH's meaning and NTH's default). auto (nthd's default): half the hook's heartbeat timeout, read with DescribeLifecycleHooks.",
  }),
  heartbeatUntilSeconds: setting({
    flag: "heartbeat-until",
    env: ["HEARTBEAT_UNTIL"],
    parse: int(60, LIFECYCLE_ACTION_MAX_SECONDS),
    default: LIFECYCLE_ACTION_MAX_SECONDS,
    unsetValue: "-1",
    onlyIn: "queue",
    group: "queue",
    description:
      "Stop heartbeats this many seconds after they started. The default and maximum is AWS's 48-hour limit on a lifecycle action.",
  }),
  sqsMsgVisibilityTimeoutSeconds: setting({
    flag: "sqs-msg-visibility-timeout-sec",
    env: ["SQS_MSG_VISIBILITY_TIMEOUT_SEC"],
    parse: int(1, 43_200),
    default: 20,
    group: "queue",
    description:
      "Visibility timeout of received messages. nthd extends it while it works on a message, so it need not cover a drain (NTH, which never extended it, capped it at 119); a crashed replica's messages come back after it. Up to SQS's limit of 43200; at least 1, so no other replica receives a message before its first extension.",
  }),
  queueHoldMaxSeconds: setting({
    flag: "queue-hold-max-seconds",
    env: ["NTHD_QUEUE_HOLD_MAX_SECONDS"],
    parse: int(0, 39_600),
    default: 3600,
    group: "queue",
    description:
      "While the Kubernetes API or an AWS call a notice needs is failing, nthd stops receiving and holds the messages it has (their visibility extended, so their receive counts do not climb toward the dead-letter queue), retrying each with back-off until the failing system answers. A message held longer than this is left for redelivery. 0: never hold (every failure leaves the message for redelivery). At most 11 hours, inside SQS's 12-hour visibility ceiling.",
  }),
  completeLifecycleActionWithoutNode: setting({
    flag: "complete-lifecycle-action-without-node",
    env: ["NTHD_COMPLETE_LIFECYCLE_ACTION_WITHOUT_NODE"],
    parse: bool,
    default: true,
    group: "queue",
    description:
      "Complete (CONTINUE) a terminate lifecycle action for a managed instance that has no node in the cluster (it never joined, or left already), so the Auto Scaling group does not wait out the hook's timeout. Only when delete-sqs-msg-if-node-not-found is true: on a queue shared by several clusters the instance may be another cluster's.",
  }),
  nodeRegistrationWaitSeconds: setting({
    flag: "node-registration-wait-seconds",
    env: ["NTHD_NODE_REGISTRATION_WAIT_SECONDS"],
    parse: int(0, 3600),
    default: 90,
    group: "queue",
    description:
      "A terminate lifecycle action for an instance with no node waits until this many seconds after the instance's launch for its node to register (an instance terminated right after launch) before it is completed without a drain. An instance launched earlier than that is decided at once.",
  }),
  completeLaunchLifecycleAction: setting({
    flag: "complete-launch-lifecycle-action",
    env: ["NTHD_COMPLETE_LAUNCH_LIFECYCLE_ACTION"],
    parse: bool,
    default: false,
    group: "queue",
    description: "Complete launch lifecycle actions once the instance's node is Ready.",
  }),
  leaseDurationSeconds: setting({
    flag: "lease-duration-seconds",
    env: ["NTHD_LEASE_DURATION_SECONDS"],
    parse: int(3, 300),
    default: 15,
    onlyIn: "queue",
    group: "queue",
    description:
      "Each queue replica holds a coordination.k8s.io Lease in its namespace (NAMESPACE), renewed every third of this. A replica that stops without handing its work back (killed, its node lost) has its work taken over by the others this long after its last renewal; one stopped with SIGTERM hands it back at once.",
  }),

  auditIntervalSeconds: setting({
    flag: "audit-interval",
    env: ["NTHD_AUDIT_INTERVAL_SECONDS"],
    parse: intOr(0, 60, 86400),
    default: 0,
    onlyIn: "queue",
    group: "queue",
    description:
      "Every this many seconds, audit the nodes' drains against a Spot notice (as `nthd audit` does) and export the verdicts as nthd_audit_* metrics. 0: off. An audit lists every pod in pages of 500 and is skipped while drains run; its cost at 1,000 nodes and 10,000 pods is in docs/audit.md.",
  }),
  auditNodeSelector: setting({
    flag: "audit-node-selector",
    env: ["NTHD_AUDIT_NODE_SELECTOR"],
    parse: text,
    default: "",
    hint: "label selector",
    onlyIn: "queue",
    group: "queue",
    description:
      "Label selector (kubectl -l syntax) of the nodes the periodic audit looks at. Empty: every node.",
  }),

  // --- observability -------------------------------------------------------
  logLevel: setting({
    flag: "log-level",
    env: ["LOG_LEVEL"],
    parse: oneOf(LOG_LEVELS),
    default: "info",
    group: "observe",
    description: "Log level.",
  }),
  jsonLogging: setting({
    flag: "json-logging",
    env: ["JSON_LOGGING"],
    parse: bool,
    default: true,
    group: "observe",
    description: "JSON log lines (nthd default true; false prints human-readable lines).",
  }),
  logFormatVersion: setting({
    flag: "log-format-version",
    env: ["LOG_FORMAT_VERSION"],
    parse: int(1, 2),
    default: 2,
    group: "observe",
    description: "Accepted for compatibility; nthd has one log format.",
  }),
  enablePrometheusServer: setting({
    flag: "enable-prometheus-server",
    env: ["ENABLE_PROMETHEUS_SERVER"],
    parse: bool,
    default: false,
    group: "observe",
    description: "Serve /metrics.",
  }),
  prometheusServerPort: setting({
    flag: "prometheus-server-port",
    env: ["PROMETHEUS_SERVER_PORT"],
    parse: int(1, 65535),
    default: 9092,
    group: "observe",
    description: "Port of /metrics.",
  }),
  enableProbesServer: setting({
    flag: "enable-probes-server",
    env: ["ENABLE_PROBES_SERVER"],
    parse: bool,
    default: false,
    group: "observe",
    description: "Serve /healthz and /readyz.",
  }),
  probesServerPort: setting({
    flag: "probes-server-port",
    env: ["PROBES_SERVER_PORT"],
    parse: int(1, 65535),
    default: 8080,
    group: "observe",
    description: "Port of the probes.",
  }),
  probesServerEndpoint: setting({
    flag: "probes-server-endpoint",
    env: ["PROBES_SERVER_ENDPOINT"],
    parse: text,
    default: "/healthz",
    hint: "path",
    group: "observe",
    description: "Path of the liveness probe.",
  }),
  serverBindAddress: setting({
    flag: "bind-address",
    env: ["NTHD_BIND_ADDRESS"],
    parse: ipAddress,
    default: "0.0.0.0",
    group: "observe",
    description:
      "Address the metrics and probes servers listen on. A port that cannot be bound is logged and retried; nthd goes on without it.",
  }),
  emitKubernetesEvents: setting({
    flag: "emit-kubernetes-events",
    env: ["EMIT_KUBERNETES_EVENTS"],
    parse: bool,
    default: false,
    group: "observe",
    description: "Record Kubernetes Events on the node for each step.",
  }),
  kubernetesEventsComponent: setting({
    flag: "kubernetes-events-component",
    env: ["NTHD_KUBERNETES_EVENTS_COMPONENT"],
    parse: oneOf(EVENT_COMPONENTS),
    default: "nthd",
    group: "observe",
    description:
      "source.component of the Events nthd writes. aws-node-termination-handler keeps Event filters written for NTH matching.",
  }),
  enableActionsNodeMetric: setting({
    flag: "enable-actions-node-metric",
    env: ["NTHD_ENABLE_ACTIONS_NODE_METRIC"],
    parse: bool,
    default: false,
    group: "observe",
    description:
      "Export NTH's actions_node_total (a series per node and event). Off by default: NTH deprecated it because its series grow without bound; nthd keeps at most the 1000 newest.",
  }),
  kubernetesEventsExtraAnnotations: setting({
    flag: "kubernetes-events-extra-annotations",
    env: ["KUBERNETES_EVENTS_EXTRA_ANNOTATIONS"],
    parse: keyValueList,
    default: {},
    group: "observe",
    description: "Annotations added to every Event.",
  }),

  // --- webhook -------------------------------------------------------------
  webhookUrl: setting({
    flag: "webhook-url",
    env: ["WEBHOOK_URL"],
    parse: url,
    default: "",
    group: "webhook",
    description: "POST a notification here per notice.",
  }),
  webhookProxy: setting({
    flag: "webhook-proxy",
    env: ["WEBHOOK_PROXY"],
    parse: proxyUrl,
    default: "",
    group: "webhook",
    description:
      "HTTP(S) proxy for the webhook; tcp://host:port (NTH's example) means an HTTP proxy.",
  }),
  webhookHeaders: setting({
    flag: "webhook-headers",
    env: ["WEBHOOK_HEADERS"],
    parse: jsonStringMap,
    default: { "Content-type": "application/json" },
    group: "webhook",
    description: "Webhook request headers.",
  }),
  webhookTemplate: setting({
    flag: "webhook-template",
    env: ["WEBHOOK_TEMPLATE"],
    parse: text,
    default:
      '{"text":"[NTH][Instance Interruption] EventID: {{ .EventID }} - Kind: {{ .Kind }} - Instance: {{ .InstanceID }} - Node: {{ .NodeName }} - Description: {{ .Description }} - Start Time: {{ .StartTime }}"}',
    hint: "template",
    group: "webhook",
    description: "Body template; {{ .Field }} placeholders are replaced.",
  }),
  webhookTemplateFile: setting({
    flag: "webhook-template-file",
    env: ["WEBHOOK_TEMPLATE_FILE"],
    parse: text,
    default: "",
    hint: "path",
    group: "webhook",
    description: "Read the body template from this file (overrides webhook-template).",
  }),
} satisfies Record<string, AnySetting>;

export type SettingKey = keyof typeof SETTINGS;
export type Config = {
  -readonly [K in SettingKey]: (typeof SETTINGS)[K]["default"];
};

/** The mode when --mode is unset: NTH's switch between IMDS and queue processing. */
export function modeOf(config: Pick<Config, "mode" | "enableSqsTerminationDraining">): Mode {
  return config.mode ?? (config.enableSqsTerminationDraining ? "queue" : "imds");
}

/**
 * Rules between settings, checked at start-up after each value is parsed
 * (mode rules are the `requiredIn` and `onlyIn` fields of the table).
 */
export const CHECKS: readonly Check<Config>[] = [
  {
    setting: "heartbeatUntilSeconds",
    rule: "needs HEARTBEAT_INTERVAL in seconds as well",
    holds: ({ config, given }) =>
      !given.has("heartbeatUntilSeconds") || typeof config.heartbeatIntervalSeconds === "number",
  },
  {
    setting: "heartbeatIntervalSeconds",
    rule: "must not exceed HEARTBEAT_UNTIL",
    holds: ({ config }) =>
      typeof config.heartbeatIntervalSeconds !== "number" ||
      config.heartbeatIntervalSeconds <= config.heartbeatUntilSeconds,
  },
];

/**
 * Every metric nthd exports, declared in one place on a dedicated registry (so
 * a library's metrics on prom-client's global registry never leak into ours).
 * This is the only module that loads prom-client, and it is itself loaded
 * only when something reads metrics (the metrics server, `loadMetrics()` in
 * tests): IMDS mode runs on every node, and prom-client is a large share of a
 * bare process's memory. Code that counts uses the recorders in metrics.ts.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export const registry = new Registry();

const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
  new Counter<L>({ name, help, labelNames, registers: [registry] });
const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
  new Gauge<L>({ name, help, labelNames, registers: [registry] });
const histogram = <L extends string>(
  name: string,
  help: string,
  labelNames: readonly L[],
  buckets: number[],
) => new Histogram<L>({ name, help, labelNames, buckets, registers: [registry] });

// --- aws-node-termination-handler compatible ---------------------------------
// Same names and labels as NTH so its dashboards keep working. NTH's
// `actions_node_total{node_name,node_event_id}` is only counted when
// NTHD_ENABLE_ACTIONS_NODE_METRIC is on (metrics.ts caps its series).

export const nthActions = counter(
  "actions_total",
  "Number of actions taken on nodes (NTH compatible).",
  ["node_action", "node_status"],
);
export const nthActionsNode = counter(
  "actions_node_total",
  "Number of actions per node and event (NTH compatible; unbounded in NTH, capped here).",
  ["node_action", "node_name", "node_event_id", "node_status"],
);
export const nthEventErrors = counter(
  "events_error_total",
  "Number of errors while monitoring for events (NTH compatible).",
  ["event_error_where"],
);
export const nthTaggedInstances = gauge(
  "nth_tagged_instances",
  "EC2 instances carrying the managed tag (queue mode, NTH compatible).",
  [],
);
export const nthTaggedNodes = gauge(
  "nth_tagged_nodes",
  "Cluster nodes whose instance carries the managed tag (queue mode, NTH compatible).",
  [],
);

// --- AWS permissions ---------------------------------------------------------

export const awsPermissionMissing = gauge(
  "nthd_aws_permission_missing",
  "1 when an IAM action nthd uses was refused (start-up probe or a refused call), 0 when it was allowed; docs/kops.md and nthd doctor say what stops working without it.",
  ["action"],
);

// --- notices and actions -----------------------------------------------------

export const noticesReceived = counter(
  "nthd_notices_received_total",
  "Notices received, by notice kind and source (imds or queue); a redelivered message counts again.",
  ["kind", "source"],
);
export const actions = counter(
  "nthd_actions_total",
  "Node actions taken, by notice kind, action and result.",
  ["kind", "action", "result"],
);
/** Notice to cordon: the node stops taking new pods. A 2-minute Spot notice leaves little room. */
export const noticeToCordonSeconds = histogram(
  "nthd_notice_to_cordon_seconds",
  "Seconds from the notice (AWS event time when known, else receipt) to the node being cordoned.",
  ["kind"],
  [0.1, 0.25, 0.5, 1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 300],
);
/** Notice to drained: dense around the 120 s Spot deadline, sparse for long ASG/maintenance drains. */
export const noticeToDrainedSeconds = histogram(
  "nthd_notice_to_drained_seconds",
  "Seconds from the notice (AWS event time when known, else receipt) to the node being drained.",
  ["kind"],
  [5, 10, 20, 30, 45, 60, 75, 90, 105, 120, 150, 180, 300, 600, 1800, 3600],
);

// --- drains and evictions ----------------------------------------------------

export const drains = counter("nthd_drains_total", "Drains finished, by notice kind and outcome.", [
  "kind",
  "outcome",
]);
export const drainFailures = counter(
  "nthd_drain_failures_total",
  "Drains that did not complete (deadline exceeded, failed or cancelled), by reason.",
  ["reason"],
);
export const drainsInProgress = gauge("nthd_drains_in_progress", "Drains running now.", []);
export const podsEvicted = counter("nthd_pods_evicted_total", "Pods evicted, by notice kind.", [
  "kind",
]);
export const evictionsBlockedByPdb = counter(
  "nthd_eviction_pdb_blocked_total",
  "Eviction attempts refused by a PodDisruptionBudget (HTTP 429) and retried.",
  ["kind"],
);
export const interruptions = counter(
  "nthd_interruptions_total",
  "Interruption notices per capacity pool, to show which pools are unreliable. Cardinality is bounded by the fleet's pools.",
  ["kind", "instance_type", "availability_zone", "capacity_type", "asg"],
);

// --- drain audit (queue mode, NTHD_AUDIT_INTERVAL_SECONDS) ---------------------
// Gauges of the last audit, reset before each is written so pools and PDBs
// that no longer exist disappear. Several replicas export the same values:
// aggregate with max, not sum.

export const auditNodes = gauge(
  "nthd_audit_nodes",
  "Nodes the last drain audit looked at, per capacity pool.",
  ["instance_type", "availability_zone", "capacity_type"],
);
export const auditNodesAtRisk = gauge(
  "nthd_audit_nodes_at_risk",
  "Nodes whose drain the last audit found would not finish within a Spot notice (or would lose a pod nothing recreates), per capacity pool.",
  ["instance_type", "availability_zone", "capacity_type"],
);
export const auditBlockingPdbs = gauge(
  "nthd_audit_blocking_pdbs",
  "PodDisruptionBudgets that would hold pods past a Spot notice in the last audit (every one, uncapped).",
  [],
);
export const auditBlockingPdbPods = gauge(
  "nthd_audit_blocking_pdb_pods",
  "Pods a PodDisruptionBudget would hold past a Spot notice, nodes audited one at a time; the 50 PDBs holding most, to bound the series.",
  ["pdb_namespace", "pdb"],
);
export const auditZonePodsLate = gauge(
  "nthd_audit_zone_pods_late",
  "Pods that would be cut short or still there at the deadline if every Spot node of the zone were interrupted at once.",
  ["availability_zone"],
);
export const auditLastRun = gauge(
  "nthd_audit_last_run_timestamp_seconds",
  "Unix time the last drain audit finished.",
  [],
);
export const auditRunSeconds = gauge(
  "nthd_audit_run_seconds",
  "How long the last drain audit took (reading the cluster and auditing every node).",
  [],
);
export const auditRuns = counter(
  "nthd_audit_runs_total",
  "Drain audits, by result (ok, skipped while drains ran, error).",
  ["result"],
);

// --- sources -----------------------------------------------------------------

export const queueMessagesReceived = counter(
  "nthd_queue_messages_received_total",
  "Queue messages received.",
  [],
);
export const queueMessagesDeleted = counter(
  "nthd_queue_messages_deleted_total",
  "Queue messages deleted, by reason.",
  ["reason"],
);
export const queueMessagesLeft = counter(
  "nthd_queue_messages_left_total",
  "Queue messages left for redelivery (and eventually the dead-letter queue), by reason.",
  ["reason"],
);
export const messageParseErrors = counter(
  "nthd_message_parse_errors_total",
  "Messages that could not be parsed, by source and the stage that rejected them.",
  ["source", "stage"],
);
export const sourceLastPoll = gauge(
  "nthd_source_last_poll_timestamp_seconds",
  "Unix time of the source's last successful poll (queue receive or IMDS check).",
  ["source"],
);
export const awsApiCalls = counter(
  "nthd_aws_api_calls_total",
  "AWS API calls, by operation and result (success, error, throttled).",
  ["operation", "result"],
);
export const awsApiThrottles = counter(
  "nthd_aws_api_throttles_total",
  "AWS API calls refused by throttling, by operation.",
  ["operation"],
);
export const imdsRequestErrors = counter(
  "nthd_imds_request_errors_total",
  "Failed instance metadata requests, by monitor and reason.",
  ["monitor", "reason"],
);

export const listenerBindFailures = counter(
  "nthd_listener_bind_failures_total",
  "Attempts to open the metrics or probes listener that failed (port taken, address not this host's); nthd goes on and retries.",
  ["listener"],
);
export const bodiesOverLimit = counter(
  "nthd_body_over_limit_total",
  "Response bodies and files nthd stopped reading at their size limit, by source (kube-api, imds, webhook, file).",
  ["source"],
);

// --- webhooks and process state -----------------------------------------------

export const webhookAttempts = counter(
  "nthd_webhook_attempts_total",
  "Webhook HTTP attempts, by result (retries count again).",
  ["result"],
);
export const webhooks = counter(
  "nthd_webhooks_total",
  "Webhook notifications, by final result after retries.",
  ["result"],
);
export const readinessCheck = gauge(
  "nthd_readiness_check",
  "1 when the named readiness check passes, else 0.",
  ["check"],
);
export const ready = gauge("nthd_ready", "1 when every readiness check passes, else 0.", []);
export const buildInfo = gauge("nthd_build_info", "Always 1; labels carry version and mode.", [
  "version",
  "mode",
]);

let processMetricsOn = false;
/**
 * Adds process_* and nodejs_* metrics. Most are computed at scrape time; the
 * event-loop delay histogram and GC observer run continuously, so main enables
 * them only when the metrics server is on (IMDS mode runs on every node).
 */
export function enableProcessMetrics(): void {
  if (processMetricsOn) return;
  processMetricsOn = true;
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
}

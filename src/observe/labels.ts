/**
 * The bounded vocabularies used as metric label values. Each list is `as const`
 * so it gives both the TypeScript type and the runtime check. No label ever
 * carries a pod, node, instance, message or event id: those are unbounded and
 * belong in logs (aws-node-termination-handler's `actions_node_total` did carry
 * them and is the reason its memory grew without limit).
 */

/** aws-node-termination-handler's `node_action` values on `actions_total`. */
export const NTH_NODE_ACTIONS = [
  "cordon",
  "cordon-and-drain",
  "pre-drain",
  "post-drain",
  "uncordon",
] as const;
export type NthNodeAction = (typeof NTH_NODE_ACTIONS)[number];

/** Steps nthd takes on a node: NTH's five plus completing an ASG launch hook. */
export const ACTIONS = [...NTH_NODE_ACTIONS, "complete-launch"] as const;
export type ActionName = (typeof ACTIONS)[number];

export const ACTION_RESULTS = ["success", "error", "dry-run"] as const;
export type ActionResult = (typeof ACTION_RESULTS)[number];

/** aws-node-termination-handler's `event_error_where` values (its monitor kinds). */
export const EVENT_ERROR_WHERE = [
  "SPOT_ITN_MONITOR",
  "SCHEDULED_EVENT_MONITOR",
  "REBALANCE_RECOMMENDATION_MONITOR",
  "ASG_LIFECYCLE_MONITOR",
  "SQS_MONITOR",
] as const;
export type EventErrorWhere = (typeof EVENT_ERROR_WHERE)[number];

export const DRAIN_OUTCOMES = ["completed", "deadline-exceeded", "failed", "cancelled"] as const;
export type DrainOutcome = (typeof DRAIN_OUTCOMES)[number];

/** Why a drain did not complete. */
export const DRAIN_FAILURE_REASONS = [
  "pdb-blocked",
  "eviction-error",
  "pods-not-terminated",
  "kube-api-error",
  "node-not-found",
  "cancelled",
] as const;
export type DrainFailureReason = (typeof DRAIN_FAILURE_REASONS)[number];

/** Why a queue message was deleted. */
export const QUEUE_DELETE_REASONS = [
  "handled",
  "ignored-kind",
  "not-in-cluster",
  "not-managed",
  "duplicate",
  "test-notification",
] as const;
export type QueueDeleteReason = (typeof QUEUE_DELETE_REASONS)[number];

/** Why a queue message was left to become visible again (and, eventually, the DLQ). */
export const QUEUE_LEAVE_REASONS = [
  "malformed",
  "not-in-cluster",
  "drain-failed",
  "kube-api-error",
  "aws-api-error",
  "shutdown",
] as const;
export type QueueLeaveReason = (typeof QUEUE_LEAVE_REASONS)[number];

/** Where a parser rejected a message. */
export const PARSE_ERROR_STAGES = ["json", "envelope", "schema"] as const;
export type ParseErrorStage = (typeof PARSE_ERROR_STAGES)[number];

/** The AWS operations nthd calls (queue mode only). */
export const AWS_OPERATIONS = [
  "ReceiveMessage",
  "DeleteMessage",
  "DeleteMessageBatch",
  "ChangeMessageVisibility",
  "ChangeMessageVisibilityBatch",
  "GetQueueAttributes",
  "DescribeInstances",
  "CompleteLifecycleAction",
  "RecordLifecycleActionHeartbeat",
  "DescribeLifecycleHooks",
  "DescribeAutoScalingInstances",
  "DescribeTags",
] as const;
export type AwsOperation = (typeof AWS_OPERATIONS)[number];

export const AWS_CALL_RESULTS = ["success", "error", "throttled"] as const;
export type AwsCallResult = (typeof AWS_CALL_RESULTS)[number];

/** The IMDS pollers, plus the token and identity requests they share. */
export const IMDS_MONITORS = [
  "spot-itn",
  "scheduled-events",
  "rebalance",
  "asg-lifecycle",
  "token",
  "identity",
] as const;
export type ImdsMonitor = (typeof IMDS_MONITORS)[number];

export const IMDS_ERROR_REASONS = ["timeout", "connection", "http-status", "bad-response"] as const;
export type ImdsErrorReason = (typeof IMDS_ERROR_REASONS)[number];

/** NTH's monitor name for each IMDS poller, for `events_error_total`. */
export const IMDS_MONITOR_NTH_NAME: Record<ImdsMonitor, EventErrorWhere> = {
  "spot-itn": "SPOT_ITN_MONITOR",
  "scheduled-events": "SCHEDULED_EVENT_MONITOR",
  rebalance: "REBALANCE_RECOMMENDATION_MONITOR",
  "asg-lifecycle": "ASG_LIFECYCLE_MONITOR",
  // A failing token or identity request fails whichever poller needed it; NTH
  // reported those under the spot monitor, which polls most often.
  token: "SPOT_ITN_MONITOR",
  identity: "SPOT_ITN_MONITOR",
};

/** What a listener serves (observe/server.ts): one label value per planned listener. */
export const LISTENER_KINDS = ["metrics", "probes", "metrics-and-probes"] as const;
export type ListenerKind = (typeof LISTENER_KINDS)[number];

/** Whose body went over its size limit (see src/http/body.ts and src/files.ts). */
export const BODY_SOURCES = ["kube-api", "imds", "webhook", "file"] as const;
export type BodySource = (typeof BODY_SOURCES)[number];

export const CAPACITY_TYPES = ["spot", "on-demand", "capacity-block", "unknown"] as const;
export type CapacityType = (typeof CAPACITY_TYPES)[number];

/** How a periodic drain audit (queue mode) ended: done, skipped while drains ran, failed. */
export const AUDIT_RUN_RESULTS = ["ok", "skipped", "error"] as const;
export type AuditRunResult = (typeof AUDIT_RUN_RESULTS)[number];

/** One webhook request attempt, and a notification's final result. */
export const WEBHOOK_ATTEMPT_RESULTS = [
  "success",
  "http-error",
  "timeout",
  "network-error",
] as const;
export type WebhookAttemptResult = (typeof WEBHOOK_ATTEMPT_RESULTS)[number];
export const WEBHOOK_RESULTS = ["delivered", "failed"] as const;
export type WebhookResult = (typeof WEBHOOK_RESULTS)[number];

/**
 * The capacity pool an interrupted instance came from. Cardinality is bounded
 * by the fleet's own pools (instance types × zones × ASGs the cluster uses),
 * not by the number of instances or events.
 */
export interface Pool {
  readonly instanceType?: string | undefined;
  readonly availabilityZone?: string | undefined;
  readonly capacityType?: CapacityType | undefined;
  readonly asg?: string | undefined;
}

/** A label value from AWS-provided text: trimmed, never empty, length-capped. */
export function poolValue(raw: string | undefined): string {
  const value = (raw ?? "").trim();
  if (value === "") return "unknown";
  // ASG names may be up to 255 characters; cap so one odd value cannot bloat every scrape.
  return value.length > 128 ? value.slice(0, 128) : value;
}

/** IAM actions queue mode uses (src/aws/permissions.ts explains each). */
export const AWS_PERMISSIONS = [
  "sqs:ReceiveMessage",
  "sqs:DeleteMessage",
  "sqs:ChangeMessageVisibility",
  "ec2:DescribeInstances",
  "autoscaling:CompleteLifecycleAction",
  "autoscaling:DescribeLifecycleHooks",
  "autoscaling:RecordLifecycleActionHeartbeat",
] as const;
export type AwsPermission = (typeof AWS_PERMISSIONS)[number];

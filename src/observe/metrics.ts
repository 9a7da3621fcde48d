import type { Notice, NoticeKind, NoticeSource } from "../notice.ts";
import { NOTICE_KINDS } from "../notice.ts";
import type {
  ActionName,
  ActionResult,
  AuditRunResult,
  AwsCallResult,
  AwsOperation,
  AwsPermission,
  BodySource,
  DrainFailureReason,
  DrainOutcome,
  EventErrorWhere,
  ImdsErrorReason,
  ImdsMonitor,
  ListenerKind,
  NthNodeAction,
  ParseErrorStage,
  Pool,
  QueueDeleteReason,
  QueueLeaveReason,
  WebhookAttemptResult,
  WebhookResult,
} from "./labels.ts";
import {
  AWS_OPERATIONS,
  DRAIN_FAILURE_REASONS,
  DRAIN_OUTCOMES,
  IMDS_ERROR_REASONS,
  IMDS_MONITOR_NTH_NAME,
  IMDS_MONITORS,
  NTH_NODE_ACTIONS,
  PARSE_ERROR_STAGES,
  poolValue,
  QUEUE_DELETE_REASONS,
  QUEUE_LEAVE_REASONS,
  WEBHOOK_ATTEMPT_RESULTS,
  WEBHOOK_RESULTS,
} from "./labels.ts";

/**
 * The typed `count…`/`observe…`/`set…` recorders every module counts through;
 * their parameters only accept the bounded vocabularies from labels.ts. The
 * metrics themselves (names, help, labels) are declared in metric-families.ts,
 * which loads prom-client and is loaded only when metrics are served: a
 * process that never serves them (IMDS mode's default) never pays for them.
 *
 * Until start-up decides, updates wait in a short queue, so nothing counted
 * early is lost when metrics are then loaded; `discardMetrics()` makes every
 * recorder a no-op for a process that will never serve them.
 */
export type MetricFamilies = typeof import("./metric-families.ts");

type Update = (f: MetricFamilies) => void;

/** Loaded families; `null` once discarded; undefined while undecided. */
let families: MetricFamilies | null | undefined;
let loading: Promise<MetricFamilies> | undefined;
const pending: Update[] = [];
/** Start-up counts a handful of things before deciding; this bound only guards against a leak. */
const MAX_PENDING = 10_000;

function record(update: Update): void {
  if (families) update(families);
  else if (families === undefined && pending.length < MAX_PENDING) pending.push(update);
}

/**
 * Loads prom-client and the metric families, applies what was counted so
 * far, and returns them (the registry for /metrics, the families for tests).
 * Loading after `discardMetrics()` starts counting from then on.
 */
export function loadMetrics(): Promise<MetricFamilies> {
  loading ??= import("./metric-families.ts").then((loaded) => {
    families = loaded;
    for (const update of pending.splice(0)) update(loaded);
    return loaded;
  });
  return loading;
}

/** Metrics will not be served: drop what waits and make every recorder a no-op. */
export function discardMetrics(): void {
  if (families) return;
  families = null;
  pending.length = 0;
}

/** The drains-in-progress gauge, moved by the drain itself around each drain. */
export const drainsInProgress = {
  inc(): void {
    record((f) => f.drainsInProgress.inc());
  },
  dec(): void {
    record((f) => f.drainsInProgress.dec());
  },
};

// --- typed recorders -----------------------------------------------------------

const NTH_ACTION_SET: ReadonlySet<string> = new Set(NTH_NODE_ACTIONS);

export function countNoticeReceived(kind: NoticeKind, source: NoticeSource): void {
  record((f) => f.noticesReceived.inc({ kind, source }));
}

/** NTH's per-node, per-event counter: off unless configured, and capped when on. */
const ACTIONS_NODE_MAX_SERIES = 1000;
let actionsNodeOn = false;
/** Label sets of actions_node_total, oldest first, so the oldest is dropped at the cap. */
const actionsNodeSeries = new Map<string, Record<string, string>>();

/** NTHD_ENABLE_ACTIONS_NODE_METRIC: start counting actions_node_total. */
export function enableActionsNodeMetric(on = true): void {
  actionsNodeOn = on;
}

function countActionOnNode(f: MetricFamilies, labels: Record<string, string>): void {
  const key = JSON.stringify(labels);
  if (!actionsNodeSeries.has(key)) {
    actionsNodeSeries.set(key, labels);
    if (actionsNodeSeries.size > ACTIONS_NODE_MAX_SERIES) {
      const [oldest, oldestLabels] = actionsNodeSeries.entries().next().value as [
        string,
        Record<string, string>,
      ];
      actionsNodeSeries.delete(oldest);
      f.nthActionsNode.remove(oldestLabels);
    }
  }
  f.nthActionsNode.inc(labels);
}

/**
 * Counts an action on both the nthd counter and, for NTH's five actions, NTH's
 * counter (and NTH's per-node counter when it is on: `on` names the node and event).
 */
export function countAction(
  kind: NoticeKind,
  action: ActionName,
  result: ActionResult,
  on?: { readonly nodeName: string; readonly eventId: string },
): void {
  record((f) => {
    f.actions.inc({ kind, action, result });
    if (result !== "dry-run" && NTH_ACTION_SET.has(action)) {
      f.nthActions.inc({ node_action: action as NthNodeAction, node_status: result });
      if (actionsNodeOn && on !== undefined) {
        countActionOnNode(f, {
          node_action: action,
          node_name: on.nodeName,
          node_event_id: on.eventId,
          node_status: result,
        });
      }
    }
  });
}

/** Seconds since the notice began: AWS's event time when known (includes delivery delay). */
function sinceNotice(notice: Notice, at: Date): number {
  const start = (notice.eventTime ?? notice.receivedAt).getTime();
  return Math.max(0, (at.getTime() - start) / 1000);
}

export function observeCordoned(notice: Notice, at: Date): void {
  const seconds = sinceNotice(notice, at);
  record((f) => f.noticeToCordonSeconds.observe({ kind: notice.kind }, seconds));
}

export function observeDrained(notice: Notice, at: Date): void {
  const seconds = sinceNotice(notice, at);
  record((f) => f.noticeToDrainedSeconds.observe({ kind: notice.kind }, seconds));
}

export function countDrain(
  kind: NoticeKind,
  outcome: DrainOutcome,
  reason?: DrainFailureReason,
): void {
  record((f) => {
    f.drains.inc({ kind, outcome });
    if (outcome !== "completed") f.drainFailures.inc({ reason: reason ?? "cancelled" });
  });
}

export function countPodsEvicted(kind: NoticeKind, count = 1): void {
  record((f) => f.podsEvicted.inc({ kind }, count));
}

export function countEvictionBlockedByPdb(kind: NoticeKind): void {
  record((f) => f.evictionsBlockedByPdb.inc({ kind }));
}

export function countInterruption(kind: NoticeKind, pool: Pool): void {
  const labels = {
    kind,
    instance_type: poolValue(pool.instanceType),
    availability_zone: poolValue(pool.availabilityZone),
    capacity_type: pool.capacityType ?? "unknown",
    asg: poolValue(pool.asg),
  };
  record((f) => f.interruptions.inc(labels));
}

/** The figures of one drain audit, as queue mode's audit metrics export them. */
export interface AuditFigures {
  readonly pools: readonly {
    readonly pool: Pool;
    readonly nodes: number;
    readonly atRisk: number;
  }[];
  /** Blocking PDBs with the pods each holds back, most first; already capped. */
  readonly blockingPdbs: readonly {
    readonly namespace: string;
    readonly name: string;
    readonly pods: number;
  }[];
  readonly blockingPdbCount: number;
  readonly zones: readonly { readonly zone: string; readonly podsLate: number }[];
  readonly finishedAt: Date;
  readonly seconds: number;
}

export function setAuditFigures(a: AuditFigures): void {
  record((f) => {
    for (const g of [f.auditNodes, f.auditNodesAtRisk, f.auditBlockingPdbPods, f.auditZonePodsLate])
      g.reset();
    for (const { pool, nodes, atRisk } of a.pools) {
      const labels = {
        instance_type: poolValue(pool.instanceType),
        availability_zone: poolValue(pool.availabilityZone),
        capacity_type: pool.capacityType ?? "unknown",
      };
      f.auditNodes.set(labels, nodes);
      f.auditNodesAtRisk.set(labels, atRisk);
    }
    for (const p of a.blockingPdbs) {
      f.auditBlockingPdbPods.set({ pdb_namespace: p.namespace, pdb: p.name }, p.pods);
    }
    f.auditBlockingPdbs.set(a.blockingPdbCount);
    for (const z of a.zones)
      f.auditZonePodsLate.set({ availability_zone: poolValue(z.zone) }, z.podsLate);
    f.auditLastRun.set(a.finishedAt.getTime() / 1000);
    f.auditRunSeconds.set(a.seconds);
  });
}

export function countAuditRun(result: AuditRunResult): void {
  record((f) => f.auditRuns.inc({ result }));
}

export function countQueueReceived(count: number): void {
  if (count > 0) record((f) => f.queueMessagesReceived.inc(count));
}

export function countQueueDeleted(reason: QueueDeleteReason, count = 1): void {
  record((f) => f.queueMessagesDeleted.inc({ reason }, count));
}

export function countQueueLeft(reason: QueueLeaveReason, count = 1): void {
  record((f) => f.queueMessagesLeft.inc({ reason }, count));
}

export function countParseError(source: NoticeSource, stage: ParseErrorStage): void {
  record((f) => f.messageParseErrors.inc({ source, stage }));
}

export function markSourcePolled(source: NoticeSource, at: Date = new Date()): void {
  const seconds = at.getTime() / 1000;
  record((f) => f.sourceLastPoll.set({ source }, seconds));
}

export function countAwsCall(operation: AwsOperation, result: AwsCallResult): void {
  record((f) => {
    f.awsApiCalls.inc({ operation, result });
    if (result === "throttled") f.awsApiThrottles.inc({ operation });
  });
}

/** Counts the failed request, and the poll failure under NTH's monitor name. */
export function countImdsError(monitor: ImdsMonitor, reason: ImdsErrorReason): void {
  record((f) => {
    f.imdsRequestErrors.inc({ monitor, reason });
    f.nthEventErrors.inc({ event_error_where: IMDS_MONITOR_NTH_NAME[monitor] });
  });
}

export function countMonitorError(where: EventErrorWhere): void {
  record((f) => f.nthEventErrors.inc({ event_error_where: where }));
}

export function setTaggedCounts(instances: number, nodes: number): void {
  record((f) => {
    f.nthTaggedInstances.set(instances);
    f.nthTaggedNodes.set(nodes);
  });
}

export function countWebhookAttempt(result: WebhookAttemptResult): void {
  record((f) => f.webhookAttempts.inc({ result }));
}

export function countWebhook(result: WebhookResult): void {
  record((f) => f.webhooks.inc({ result }));
}

export function countListenerBindFailure(listener: ListenerKind): void {
  record((f) => f.listenerBindFailures.inc({ listener }));
}

export function countBodyOverLimit(source: BodySource): void {
  record((f) => f.bodiesOverLimit.inc({ source }));
}

export function setBuildInfo(version: string, mode: NoticeSource): void {
  record((f) => f.buildInfo.set({ version, mode }, 1));
}

/** One readiness check's state (1 passes, 0 fails); `undefined` forgets the check. */
export function setReadinessCheck(check: string, ok: boolean | undefined): void {
  record((f) => {
    if (ok === undefined) f.readinessCheck.remove({ check });
    else f.readinessCheck.set({ check }, ok ? 1 : 0);
  });
}

export function setReady(ready: boolean): void {
  record((f) => f.ready.set(ready ? 1 : 0));
}

/** Whether an IAM action nthd uses is refused (1) or allowed (0). */
export function setAwsPermissionMissing(action: AwsPermission, missing: boolean): void {
  record((f) => f.awsPermissionMissing.set({ action }, missing ? 1 : 0));
}

/**
 * Creates at zero the series alerts and dashboards select by a label value
 * (`nthd_drains_total{outcome="failed"}`, the queue's leave reasons, ...).
 * A counter series that appears only at its first increment hides that
 * first increment from increase() and rate(), and an alert over it has
 * nothing to evaluate until something has already gone wrong. Only the
 * running mode's series; bounded by the vocabularies in labels.ts.
 */
export function initializeSeries(mode: NoticeSource): void {
  record((f) => {
    for (const kind of NOTICE_KINDS) {
      for (const outcome of DRAIN_OUTCOMES) f.drains.inc({ kind, outcome }, 0);
      f.evictionsBlockedByPdb.inc({ kind }, 0);
    }
    for (const reason of DRAIN_FAILURE_REASONS) f.drainFailures.inc({ reason }, 0);
    for (const result of WEBHOOK_RESULTS) f.webhooks.inc({ result }, 0);
    for (const result of WEBHOOK_ATTEMPT_RESULTS) f.webhookAttempts.inc({ result }, 0);
    for (const stage of PARSE_ERROR_STAGES) f.messageParseErrors.inc({ source: mode, stage }, 0);
    if (mode === "queue") {
      for (const reason of QUEUE_DELETE_REASONS) f.queueMessagesDeleted.inc({ reason }, 0);
      for (const reason of QUEUE_LEAVE_REASONS) f.queueMessagesLeft.inc({ reason }, 0);
      for (const operation of AWS_OPERATIONS) f.awsApiThrottles.inc({ operation }, 0);
      f.nthEventErrors.inc({ event_error_where: "SQS_MONITOR" }, 0);
    } else {
      for (const monitor of IMDS_MONITORS) {
        for (const reason of IMDS_ERROR_REASONS) f.imdsRequestErrors.inc({ monitor, reason }, 0);
        f.nthEventErrors.inc({ event_error_where: IMDS_MONITOR_NTH_NAME[monitor] }, 0);
      }
    }
  });
}

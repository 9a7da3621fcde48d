/**
 * nthd's marks on a node: the record of what it did and why. The record, the
 * cordon, the taint and the labels are written in one patch so that either
 * all of it is durable or none of it is; a restarted nthd reads the record to
 * resume a drain, to finish what a notice asked (lifecycle facts are kept in
 * each notice's detail) or to undo exactly what it did and nothing more.
 * Pure: builds patches, never sends them.
 */
import type { V1Node, V1Taint } from "@kubernetes/client-node";
// zod/mini: the same schemas at about a megabyte less resident memory on every node.
import * as z from "zod/mini";
import type { Config } from "../config/index.ts";
import { NOTICE_ACTIONS, NOTICE_KINDS, NOTICE_SOURCES, type Notice } from "../notice.ts";
import { KIND_POLICY } from "./policy.ts";

/** JSON record of what nthd did (annotation: values may be long). */
export const RECORD_ANNOTATION = "nthd/record";
/** Drain state (label: selectable, so start-up finds nthd's nodes with one list). */
export const STATE_LABEL = "nthd/state";
export const LB_EXCLUDE_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers";
/** Value of the exclude label when nthd set it; any other value belongs to someone else. */
export const LB_EXCLUDE_VALUE = "nthd";
export const OUT_OF_SERVICE_TAINT: V1Taint = {
  key: "node.kubernetes.io/out-of-service",
  value: "nodeshutdown",
  effect: "NoExecute",
};

/** `scheduled`: recorded, not cordoned yet; the drain starts at the record's `drainAt`. */
export const DRAIN_STATES = ["scheduled", "cordoned", "draining", "drained", "incomplete"] as const;
export type DrainState = (typeof DRAIN_STATES)[number];

const noticeRecordSchema = z.object({
  id: z.string(),
  kind: z.enum(NOTICE_KINDS),
  action: z.enum(NOTICE_ACTIONS),
  instanceId: z.string(),
  source: z.enum(NOTICE_SOURCES),
  receivedAt: z.string(),
  deadline: z.optional(z.string()),
  eventTime: z.optional(z.string()),
  detail: z.record(z.string(), z.unknown()),
  /** The source finishes it after the work (a lifecycle action to complete). */
  needsCompletion: z.optional(z.boolean()),
  /** Set once the source finished it: no replica finishes it again. */
  finished: z.optional(
    z.object({ at: z.string(), how: z.enum(["completed", "gone"]), by: z.optional(z.string()) }),
  ),
});
export type NoticeRecord = z.infer<typeof noticeRecordSchema>;

const nodeRecordSchema = z.object({
  v: z.literal(1),
  /** The first notice started the work; later ones joined it. */
  notices: z.array(noticeRecordSchema).check(z.minLength(1)),
  action: z.enum(["drain", "cordon"]),
  /** When nthd cordoned the node (for a scheduled record: when it recorded it). */
  at: z.string(),
  /** When the drain must be over. */
  deadline: z.string(),
  /**
   * Only on a scheduled record (nothing done to the node yet): when the
   * cordon and drain start. The cordon's patch drops it.
   */
  drainAt: z.optional(z.string()),
  /** nthd set spec.unschedulable; false when the node was already cordoned. */
  cordoned: z.boolean(),
  /** Notice taints nthd added (not those that were there already). */
  taints: z.array(z.string()),
  lbExcluded: z.boolean(),
  outOfService: z.optional(z.boolean()),
  /**
   * The replica that owns the work (queue mode): "<queue digest>/<Lease
   * name>" (ownership.ts ownerId). Replicas of the same queue join through
   * the record while its Lease is alive and take the work over once it is
   * gone; replicas of another queue never do. Absent: written by IMDS mode
   * or an older nthd.
   */
  owner: z.optional(z.string()),
});
export type NodeRecord = z.infer<typeof nodeRecordSchema>;

export type ReadRecord =
  | { readonly ok: true; readonly record: NodeRecord | undefined }
  | { readonly ok: false; readonly error: string };

/** The record on a node, if any. A damaged record is reported, never thrown. */
export function readRecord(node: V1Node): ReadRecord {
  const raw = node.metadata?.annotations?.[RECORD_ANNOTATION];
  if (raw === undefined) return { ok: true, record: undefined };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    return { ok: false, error: `annotation ${RECORD_ANNOTATION} is not JSON: ${String(err)}` };
  }
  const parsed = nodeRecordSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      error: `annotation ${RECORD_ANNOTATION} is not an nthd record: ${issue?.path.join(".")} ${issue?.code}: ${issue?.message}`,
    };
  }
  return { ok: true, record: parsed.data };
}

/** A scheduled record: the notice is recorded but nthd has not touched the node yet. */
export function isScheduled(record: NodeRecord): boolean {
  return record.drainAt !== undefined;
}

export function readState(node: V1Node): DrainState | undefined {
  const value = node.metadata?.labels?.[STATE_LABEL];
  return (DRAIN_STATES as readonly string[]).includes(value ?? "")
    ? (value as DrainState)
    : undefined;
}

export function noticeToRecord(n: Notice): NoticeRecord {
  return {
    id: n.id,
    kind: n.kind,
    action: n.action,
    instanceId: n.instanceId,
    source: n.source,
    receivedAt: n.receivedAt.toISOString(),
    ...(n.deadline ? { deadline: n.deadline.toISOString() } : {}),
    ...(n.eventTime ? { eventTime: n.eventTime.toISOString() } : {}),
    detail: { ...n.detail },
    ...(n.needsCompletion ? { needsCompletion: true } : {}),
  };
}

export function recordToNotice(r: NoticeRecord): Notice {
  return {
    id: r.id,
    kind: r.kind,
    action: r.action,
    instanceId: r.instanceId,
    source: r.source,
    receivedAt: new Date(r.receivedAt),
    ...(r.deadline ? { deadline: new Date(r.deadline) } : {}),
    ...(r.eventTime ? { eventTime: new Date(r.eventTime) } : {}),
    detail: r.detail,
    ...(r.needsCompletion ? { needsCompletion: true } : {}),
  };
}

/** Taint values follow label-value rules: 63 characters of [A-Za-z0-9_.-], alphanumeric ends. */
export function taintValue(noticeId: string): string {
  return noticeId
    .replace(/[^A-Za-z0-9_.-]/g, "-")
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
}

type MarkSettings = Pick<Config, "taintNode" | "taintEffect" | "excludeFromLoadBalancers">;

/**
 * The one patch (JSON merge patch, guarded by the node's resourceVersion)
 * that cordons, taints, labels and records. The taint list is replaced whole,
 * which is safe because the resourceVersion makes a concurrent change fail
 * with a conflict instead of being overwritten. With a `previous` record (a
 * rebalance cordon followed by a Spot interruption, say) the new notice is
 * added to it and what nthd did before stays recorded as its own. A
 * scheduled `previous` only contributes its notices and action: nthd had not
 * touched the node yet, so what it changes is worked out afresh. `owner`
 * (queue mode) names the replica that takes the work.
 */
export function markPatch(
  node: V1Node,
  notice: Notice,
  action: "drain" | "cordon",
  deadline: Date,
  settings: MarkSettings,
  now: Date,
  previous?: NodeRecord,
  owner?: string,
): { patch: Record<string, unknown>; record: NodeRecord } {
  const taints = node.spec?.taints ?? [];
  const key = KIND_POLICY[notice.kind].taintKey;
  const addTaint = settings.taintNode && key !== null && !taints.some((t) => t.key === key);
  const addLb =
    settings.excludeFromLoadBalancers && node.metadata?.labels?.[LB_EXCLUDE_LABEL] === undefined;
  const finalAction = previous?.action === "drain" ? "drain" : action;
  const done = previous && !isScheduled(previous) ? previous : undefined;
  const notices = previous?.notices ?? [];
  const record: NodeRecord = {
    v: 1,
    // A notice already recorded (the scheduled one, say) keeps its place and what became of it.
    notices: notices.some((n) => n.id === notice.id)
      ? notices.map((n) =>
          n.id === notice.id ? { ...noticeToRecord(notice), ...finishedOf(n) } : n,
        )
      : [...notices, noticeToRecord(notice)],
    action: finalAction,
    at: done?.at ?? now.toISOString(),
    deadline: deadline.toISOString(),
    cordoned: done ? done.cordoned : node.spec?.unschedulable !== true,
    taints: [...(done?.taints ?? []), ...(addTaint && key ? [key] : [])],
    lbExcluded: (done?.lbExcluded ?? false) || addLb,
    ...(done?.outOfService ? { outOfService: true } : {}),
    ...(owner !== undefined ? { owner } : {}),
  };
  const labels: Record<string, string> = {
    [STATE_LABEL]: finalAction === "drain" ? "draining" : "cordoned",
  };
  if (addLb) labels[LB_EXCLUDE_LABEL] = LB_EXCLUDE_VALUE;
  const spec: Record<string, unknown> = { unschedulable: true };
  if (addTaint && key) {
    spec.taints = [
      ...taints,
      {
        key,
        value: taintValue(notice.id),
        effect: settings.taintEffect,
        timeAdded: now.toISOString(),
      },
    ];
  }
  return {
    patch: {
      metadata: {
        resourceVersion: node.metadata?.resourceVersion,
        labels,
        annotations: { [RECORD_ANNOTATION]: JSON.stringify(record) },
      },
      spec,
    },
    record,
  };
}

function finishedOf(n: NoticeRecord): Pick<NoticeRecord, "finished"> {
  return n.finished ? { finished: n.finished } : {};
}

/** The sooner of a recorded time and a new one, as recorded (ISO text). */
function sooner(recorded: string, next: Date | undefined): string {
  return next !== undefined && next.getTime() < new Date(recorded).getTime()
    ? next.toISOString()
    : recorded;
}

/**
 * Adds a joining notice to the record (so its facts survive a restart too)
 * and brings the recorded deadline forward when the new one is sooner. On a
 * scheduled record the joiner may also bring the drain's start forward and
 * turn a scheduled cordon into a drain.
 */
export function joinPatch(
  node: V1Node,
  record: NodeRecord,
  notice: Notice,
  deadline?: Date,
  scheduled: { drainAt?: Date; action?: "drain" | "cordon" } = {},
): Record<string, unknown> | null {
  if (record.notices.some((n) => n.id === notice.id)) return null;
  const next: NodeRecord = {
    ...record,
    notices: [...record.notices, noticeToRecord(notice)],
    deadline: sooner(record.deadline, deadline),
  };
  if (record.drainAt !== undefined) {
    next.drainAt = sooner(record.drainAt, scheduled.drainAt);
    if (scheduled.action === "drain") next.action = "drain";
  }
  return {
    metadata: {
      resourceVersion: node.metadata?.resourceVersion,
      annotations: { [RECORD_ANNOTATION]: JSON.stringify(next) },
    },
  };
}

/** The drain's outcome on the state label, guarded like every other write of nthd's marks. */
export function statePatch(node: V1Node, state: DrainState): Record<string, unknown> | null {
  if (readState(node) === state) return null;
  return {
    metadata: { resourceVersion: node.metadata?.resourceVersion, labels: { [STATE_LABEL]: state } },
  };
}

/** After a completed drain: node.kubernetes.io/out-of-service, recorded so uncordon removes it. */
export function outOfServicePatch(
  node: V1Node,
  record: NodeRecord,
): Record<string, unknown> | null {
  const taints = node.spec?.taints ?? [];
  if (taints.some((t) => t.key === OUT_OF_SERVICE_TAINT.key)) return null;
  return {
    metadata: {
      resourceVersion: node.metadata?.resourceVersion,
      annotations: { [RECORD_ANNOTATION]: JSON.stringify({ ...record, outOfService: true }) },
    },
    spec: { taints: [...taints, OUT_OF_SERVICE_TAINT] },
  };
}

/**
 * Undo exactly what the record says nthd did: uncordon only if nthd
 * cordoned, remove only its own taints and labels, then drop the record.
 */
export function releasePatch(node: V1Node, record: NodeRecord): Record<string, unknown> {
  const ours = new Set<string>(record.taints);
  if (record.outOfService) ours.add(OUT_OF_SERVICE_TAINT.key);
  const taints = node.spec?.taints ?? [];
  const kept = taints.filter((t) => !ours.has(t.key));
  const labels: Record<string, string | null> = { [STATE_LABEL]: null };
  if (record.lbExcluded && node.metadata?.labels?.[LB_EXCLUDE_LABEL] === LB_EXCLUDE_VALUE) {
    labels[LB_EXCLUDE_LABEL] = null;
  }
  const spec: Record<string, unknown> = {};
  if (record.cordoned) spec.unschedulable = null;
  if (kept.length !== taints.length) spec.taints = kept.length > 0 ? kept : null;
  return {
    metadata: {
      resourceVersion: node.metadata?.resourceVersion,
      labels,
      annotations: { [RECORD_ANNOTATION]: null },
    },
    spec,
  };
}

/**
 * Scheduled maintenance is announced days ahead. Draining at detection (as
 * NTH does) takes the node's capacity out for all that time; nthd records
 * the notice on the node at once (so a queue message can go and a restarted
 * nthd still knows) and cordons and drains `scheduled-drain-lead` seconds
 * before the maintenance starts. Pure: when to start, and the record's patch.
 */
import type { V1Node } from "@kubernetes/client-node";
import type { Notice, NoticeKind } from "../notice.ts";
import { type NodeRecord, noticeToRecord, RECORD_ANNOTATION, STATE_LABEL } from "./record.ts";

/** Kinds whose deadline is the start of planned work, announced well ahead. */
export const DEFERRABLE_KINDS: ReadonlySet<NoticeKind> = new Set<NoticeKind>([
  "scheduled-maintenance",
  "health-scheduled-change",
]);

/**
 * When the cordon and drain for a notice start: `deadline - lead`, or
 * undefined for "now" (a kind that is not planned work, no deadline, a lead
 * of 0, or a start already reached).
 */
export function drainStartFor(
  notice: Pick<Notice, "kind" | "deadline">,
  now: Date,
  leadSeconds: number,
): Date | undefined {
  if (leadSeconds <= 0 || notice.deadline === undefined) return undefined;
  if (!DEFERRABLE_KINDS.has(notice.kind)) return undefined;
  const at = notice.deadline.getTime() - leadSeconds * 1000;
  return at > now.getTime() ? new Date(at) : undefined;
}

/**
 * The scheduled record: the notice and when its drain starts, with the
 * state label `scheduled` so start-up finds it, and nothing else. The node
 * is not cordoned, tainted or labelled otherwise, so a cancel only has to
 * remove the record (the record says nthd changed nothing).
 */
export function schedulePatch(
  node: V1Node,
  notice: Notice,
  action: "drain" | "cordon",
  deadline: Date,
  drainAt: Date,
  now: Date,
  owner?: string,
): { patch: Record<string, unknown>; record: NodeRecord } {
  const record: NodeRecord = {
    v: 1,
    notices: [noticeToRecord(notice)],
    action,
    at: now.toISOString(),
    deadline: deadline.toISOString(),
    drainAt: drainAt.toISOString(),
    cordoned: false,
    taints: [],
    lbExcluded: false,
    ...(owner !== undefined ? { owner } : {}),
  };
  return {
    patch: {
      metadata: {
        resourceVersion: node.metadata?.resourceVersion,
        labels: { [STATE_LABEL]: "scheduled" },
        annotations: { [RECORD_ANNOTATION]: JSON.stringify(record) },
      },
    },
    record,
  };
}

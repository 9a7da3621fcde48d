/**
 * Marks aws-node-termination-handler (NTH) leaves on nodes, read by nthd
 * after a switch so no node stays cordoned for an event NTH was handling.
 *
 * For a scheduled reboot NTH cordons the node, labels it
 * `aws-node-termination-handler/action=UncordonAfterReboot` with the event id
 * and the time it acted (`action-time`, unix seconds), and relies on the
 * handler pod that starts on the node after the reboot to give it back: the
 * host rebooted when its uptime is shorter than the time since the label.
 * That pod is nthd now, so nthd keeps NTH's promise. Pure: no I/O.
 */
import type { V1Node, V1Taint } from "@kubernetes/client-node";
import { NTH_TAINT_PREFIX } from "./policy.ts";
import { LB_EXCLUDE_LABEL, RECORD_ANNOTATION } from "./record.ts";

export const NTH_ACTION_LABEL = `${NTH_TAINT_PREFIX}/action`;
export const NTH_ACTION_TIME_LABEL = `${NTH_TAINT_PREFIX}/action-time`;
export const NTH_EVENT_ID_LABEL = `${NTH_TAINT_PREFIX}/event-id`;
export const NTH_UNCORDON_AFTER_REBOOT = "UncordonAfterReboot";
/** The value NTH puts on the exclude-from-load-balancers label. */
export const NTH_LB_EXCLUDE_VALUE = NTH_TAINT_PREFIX;
/** NTH's notice taints: all of them start with its prefix. */
const isNthTaint = (t: V1Taint): boolean => t.key.startsWith(`${NTH_TAINT_PREFIX}/`);

export type RebootDecision =
  /** No NTH reboot mark on the node. */
  | { readonly kind: "none" }
  /** Marked, but the host has not rebooted since NTH acted. */
  | {
      readonly kind: "waiting";
      readonly secondsSinceAction: number;
      readonly uptimeSeconds: number;
    }
  /** A mark nthd cannot read (NTH would have failed on it too): left alone, reported. */
  | { readonly kind: "unreadable"; readonly reason: string }
  /** Rebooted: this merge patch gives the node back and removes NTH's marks. */
  | { readonly kind: "release"; readonly eventId: string; readonly patch: Record<string, unknown> };

/**
 * What to do with a node NTH may have marked for a scheduled reboot, given
 * the current time and the host's uptime (both in seconds).
 */
export function decideAfterReboot(
  node: V1Node,
  nowSeconds: number,
  uptimeSeconds: number,
): RebootDecision {
  const labels = node.metadata?.labels ?? {};
  if (labels[NTH_ACTION_LABEL] !== NTH_UNCORDON_AFTER_REBOOT) return { kind: "none" };
  const raw = labels[NTH_ACTION_TIME_LABEL];
  const actedAt = raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isFinite(actedAt)) {
    return { kind: "unreadable", reason: `${NTH_ACTION_TIME_LABEL}=${JSON.stringify(raw ?? "")}` };
  }
  const secondsSinceAction = nowSeconds - actedAt;
  // NTH's own test: an uptime longer than the time since it acted means no reboot yet.
  if (secondsSinceAction < uptimeSeconds) {
    return { kind: "waiting", secondsSinceAction, uptimeSeconds };
  }
  return {
    kind: "release",
    eventId: labels[NTH_EVENT_ID_LABEL] ?? "",
    patch: releaseNthMarksPatch(node),
  };
}

/**
 * Uncordon (unless nthd holds the node for work of its own), drop NTH's
 * action labels and its notice taints, and the load-balancer exclusion NTH
 * added (NTH meant to remove it on uncordon; its check was inverted).
 */
export function releaseNthMarksPatch(node: V1Node): Record<string, unknown> {
  const labels: Record<string, null> = {
    [NTH_ACTION_LABEL]: null,
    [NTH_ACTION_TIME_LABEL]: null,
    [NTH_EVENT_ID_LABEL]: null,
  };
  if (node.metadata?.labels?.[LB_EXCLUDE_LABEL] === NTH_LB_EXCLUDE_VALUE) {
    labels[LB_EXCLUDE_LABEL] = null;
  }
  const spec: Record<string, unknown> = {};
  // A node nthd holds for work of its own keeps its cordon and taints (nthd uses NTH's
  // taint keys): that work releases them when it ends.
  const nthdHolds = node.metadata?.annotations?.[RECORD_ANNOTATION] !== undefined;
  if (!nthdHolds) {
    const taints = node.spec?.taints ?? [];
    const kept = taints.filter((t) => !isNthTaint(t));
    if (node.spec?.unschedulable) spec.unschedulable = null;
    if (kept.length !== taints.length) spec.taints = kept.length > 0 ? kept : null;
  }
  return {
    metadata: { resourceVersion: node.metadata?.resourceVersion, labels },
    spec,
  };
}

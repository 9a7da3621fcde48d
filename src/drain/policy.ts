/**
 * What each notice kind does to a node: one table, so a new kind that is not
 * described here fails to compile. Taint keys and Event reasons follow
 * aws-node-termination-handler (NTH) so tolerations, alerts and dashboards
 * written for NTH keep working.
 */
import type { Config } from "../config/index.ts";
import type { Notice, NoticeKind } from "../notice.ts";

export type Severity = "critical" | "warning" | "info";

export interface KindPolicy {
  /** Taint added when `taint-node` is on; null: the kind never taints. */
  readonly taintKey: string | null;
  /** Reason of the Kubernetes Event announcing the notice (NTH's vocabulary). */
  readonly eventReason: string;
  /** critical: the instance goes away soon; warning: planned disruption; info: advisory. */
  readonly severity: Severity;
}

export const NTH_TAINT_PREFIX = "aws-node-termination-handler";
export const TAINT_SPOT_ITN = `${NTH_TAINT_PREFIX}/spot-itn`;
export const TAINT_REBALANCE = `${NTH_TAINT_PREFIX}/rebalance-recommendation`;
export const TAINT_SCHEDULED_MAINTENANCE = `${NTH_TAINT_PREFIX}/scheduled-maintenance`;
export const TAINT_ASG_TERMINATION = `${NTH_TAINT_PREFIX}/asg-lifecycle-termination`;
/** NTH has no such kind; nthd gives it a key of its own rather than reuse spot-itn. */
export const TAINT_CAPACITY_RESERVATION = "nthd/capacity-reservation-interruption";

export const KIND_POLICY: Readonly<Record<NoticeKind, KindPolicy>> = {
  "spot-interruption": {
    taintKey: TAINT_SPOT_ITN,
    eventReason: "SpotInterruption",
    severity: "critical",
  },
  "rebalance-recommendation": {
    taintKey: TAINT_REBALANCE,
    eventReason: "RebalanceRecommendation",
    severity: "info",
  },
  "scheduled-maintenance": {
    taintKey: TAINT_SCHEDULED_MAINTENANCE,
    eventReason: "ScheduledEvent",
    severity: "warning",
  },
  // NTH's queue mode reports AWS Health scheduled changes as scheduled events.
  "health-scheduled-change": {
    taintKey: TAINT_SCHEDULED_MAINTENANCE,
    eventReason: "ScheduledEvent",
    severity: "warning",
  },
  "asg-terminate": {
    taintKey: TAINT_ASG_TERMINATION,
    eventReason: "ASGLifecycle",
    severity: "critical",
  },
  // A launch needs nothing done to a node: the queue source completes the hook.
  "asg-launch": { taintKey: null, eventReason: "ASGLifecycle", severity: "info" },
  // NTH taints stopping/terminating instances with the spot-itn key; kept for
  // compatibility with existing tolerations.
  "instance-state-change": {
    taintKey: TAINT_SPOT_ITN,
    eventReason: "StateChange",
    severity: "critical",
  },
  // NTH has no such kind: its reason for an interruption it cannot name (the Event's
  // message names the kind).
  "capacity-reservation-interruption": {
    taintKey: TAINT_CAPACITY_RESERVATION,
    eventReason: "UnknownInterruption",
    severity: "critical",
  },
};

/** What the engine does with a notice once the settings are applied. */
export type EngineAction = "drain" | "cordon" | "uncordon" | "none";

/**
 * The action for a notice under the given settings. Pure.
 * - `complete-launch` is the queue source's business: nothing to do on a node.
 * - A rebalance recommendation from IMDS only drains with
 *   `enable-rebalance-draining`; otherwise it cordons (NTH's rebalance
 *   monitoring). From the queue it drains, as NTH's queue processor does: the
 *   queue only carries them when a rule routes them there.
 * - `cordon-only` turns every drain into a cordon.
 */
export function actionFor(
  notice: Pick<Notice, "kind" | "action" | "source">,
  config: Pick<Config, "cordonOnly" | "enableRebalanceDraining">,
): EngineAction {
  switch (notice.action) {
    case "complete-launch":
      return "none";
    case "uncordon":
      return "uncordon";
    case "cordon":
      // Sources report a rebalance recommendation as a cordon (what AWS
      // asks for); ENABLE_REBALANCE_DRAINING, or the queue, upgrades it to a drain.
      if (rebalanceDrains(notice, config) && !config.cordonOnly) return "drain";
      return "cordon";
    case "drain":
      if (config.cordonOnly) return "cordon";
      if (notice.kind === "rebalance-recommendation" && !rebalanceDrains(notice, config)) {
        return "cordon";
      }
      return "drain";
    default: {
      const unhandled: never = notice.action;
      return unhandled;
    }
  }
}

function rebalanceDrains(
  notice: Pick<Notice, "kind" | "source">,
  config: Pick<Config, "enableRebalanceDraining">,
): boolean {
  return (
    notice.kind === "rebalance-recommendation" &&
    (notice.source === "queue" || config.enableRebalanceDraining)
  );
}

/**
 * Whether a cancel/uncordon notice of `cancelKind` may undo what nthd did for
 * `recordedKind`. Kinds sharing a taint key are one family (a Health scheduled
 * change cancels a scheduled-maintenance cordon and the other way round).
 */
export function sameFamily(recordedKind: NoticeKind, cancelKind: NoticeKind): boolean {
  if (recordedKind === cancelKind) return true;
  const a = KIND_POLICY[recordedKind].taintKey;
  return a !== null && a === KIND_POLICY[cancelKind].taintKey;
}

/** Event type for the notice's announcement. */
export function eventType(kind: NoticeKind): "Normal" | "Warning" {
  return KIND_POLICY[kind].severity === "info" ? "Normal" : "Warning";
}

/**
 * The notice a cancel names, if it names one (IMDS: the scheduled event's
 * id in `detail.cancels`). IMDS keeps listing completed and cancelled events
 * for days, so a cancel for an old event must not undo work for a new one.
 */
export function cancelledId(cancel: Pick<Notice, "detail">): string | undefined {
  const id = cancel.detail.cancels;
  return typeof id === "string" && id !== "" ? id : undefined;
}

/**
 * The recorded notices that keep nthd's hold on the node after a cancel; the
 * cancel undoes nthd's work only when none is left. A cancel that names a
 * notice releases only that one (and names nothing here when the record
 * lacks it); one that names none releases its whole family.
 */
export function stillHeld<T extends { readonly id: string; readonly kind: NoticeKind }>(
  held: readonly T[],
  cancel: Pick<Notice, "kind" | "detail">,
): T[] {
  const named = cancelledId(cancel);
  if (named === undefined) return held.filter((n) => !sameFamily(n.kind, cancel.kind));
  if (!held.some((n) => n.id === named)) return [...held];
  return held.filter((n) => n.id !== named || !sameFamily(n.kind, cancel.kind));
}

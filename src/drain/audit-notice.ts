/**
 * The notice an audit measures drains against: how long each kind gives, and
 * whether it drains at all with the given settings. One table, so a new
 * notice kind that is not described here fails to compile. Pure.
 */
import type { Config } from "../config/index.ts";
import type { NoticeAction, NoticeKind } from "../notice.ts";
import { actionFor } from "./policy.ts";

type NoticeSettings = Pick<
  Config,
  | "nodeTerminationGracePeriodSeconds"
  | "scheduledDrainLeadSeconds"
  | "cordonOnly"
  | "enableRebalanceDraining"
>;

interface KindNotice {
  /** The action sources hand the engine for this kind. */
  readonly action: NoticeAction;
  /** Seconds from the notice to the instance going away, as nthd's drain sees them; undefined: no fixed length. */
  readonly seconds: (c: NoticeSettings) => number | undefined;
}

/** AWS's two-minute warning (Spot, capacity reservations). */
const TWO_MINUTES = 120;

export const AUDIT_NOTICES: Readonly<Record<NoticeKind, KindNotice>> = {
  "spot-interruption": { action: "drain", seconds: () => TWO_MINUTES },
  "capacity-reservation-interruption": { action: "drain", seconds: () => TWO_MINUTES },
  // No deadline of their own: the drain gets NODE_TERMINATION_GRACE_PERIOD.
  "asg-terminate": { action: "drain", seconds: (c) => c.nodeTerminationGracePeriodSeconds },
  "instance-state-change": { action: "drain", seconds: (c) => c.nodeTerminationGracePeriodSeconds },
  "rebalance-recommendation": {
    action: "cordon",
    seconds: (c) => c.nodeTerminationGracePeriodSeconds,
  },
  // Drained NTHD_SCHEDULED_DRAIN_LEAD_SECONDS before the start; 0 drains at detection, days ahead.
  "scheduled-maintenance": {
    action: "drain",
    seconds: (c) => (c.scheduledDrainLeadSeconds > 0 ? c.scheduledDrainLeadSeconds : undefined),
  },
  "health-scheduled-change": {
    action: "drain",
    seconds: (c) => (c.scheduledDrainLeadSeconds > 0 ? c.scheduledDrainLeadSeconds : undefined),
  },
  "asg-launch": { action: "complete-launch", seconds: () => undefined },
};

/**
 * The notice length to audit against, or why the kind cannot be audited
 * with these settings (it never drains, or has no fixed length and none was given).
 */
export function auditNoticeSeconds(
  kind: NoticeKind,
  config: NoticeSettings,
  given?: number,
): { ok: true; seconds: number } | { ok: false; message: string } {
  const notice = AUDIT_NOTICES[kind];
  // IMDS's rule for rebalance recommendations (cordon unless ENABLE_REBALANCE_DRAINING); a
  // recommendation routed to the queue drains, as NTH's queue processor does.
  if (actionFor({ kind, action: notice.action, source: "imds" }, config) !== "drain") {
    const why =
      kind === "asg-launch"
        ? "a launch notice changes nothing on a node"
        : config.cordonOnly
          ? "CORDON_ONLY=true"
          : "a rebalance recommendation only cordons unless ENABLE_REBALANCE_DRAINING=true";
    return { ok: false, message: `${kind} notices do not drain (${why}): nothing to audit` };
  }
  const seconds = given ?? notice.seconds(config);
  if (seconds === undefined) {
    return {
      ok: false,
      message: `${kind} notices are drained at detection (NTHD_SCHEDULED_DRAIN_LEAD_SECONDS=0): give --notice-seconds`,
    };
  }
  return { ok: true, seconds };
}

/**
 * Admission: what the engine does with a new notice for a node, given what
 * it is already doing there. Pure: the engine carries the answer out.
 *
 * One piece of work per node at a time. A notice for a node that is already
 * being handled joins that work (a sooner deadline tightens it); a drain
 * notice after a cordon-only one upgrades it once the cordon is written;
 * scheduled maintenance far ahead waits for its start, and a notice that
 * joins scheduled work may bring that start forward.
 */
import type { Config } from "../config/index.ts";
import type { Notice, NoticeKind } from "../notice.ts";
import { actionFor, cancelledId, sameFamily } from "./policy.ts";
import { drainStartFor } from "./schedule.ts";

/** What admission needs to know of the work running on the node. */
export interface RunningWork {
  readonly ids: ReadonlySet<string>;
  readonly kinds: ReadonlySet<NoticeKind>;
  readonly action: "drain" | "cordon";
  /** Scheduled work that has not started its cordon yet. */
  readonly waiting: boolean;
  readonly drainAt: Date | undefined;
  readonly deadlineAt: Date;
}

export type AdmissionSettings = Pick<
  Config,
  | "cordonOnly"
  | "enableRebalanceDraining"
  | "scheduledDrainLeadSeconds"
  | "nodeTerminationGracePeriodSeconds"
>;

export type Admission =
  /** Nothing to do on the node. */
  | { readonly kind: "ignore"; readonly reason: string }
  /** A cancel or completion notice: see `admitCancel`. */
  | { readonly kind: "uncordon" }
  /** The same notice again (a redelivery): answer with the running work. */
  | { readonly kind: "same" }
  /** Join the running work; `effect` says how the work changes. */
  | { readonly kind: "join"; readonly effect: JoinEffect }
  /** A drain after a running cordon: start once the cordon's work is over. */
  | { readonly kind: "after-running"; readonly action: "drain"; readonly deadline: Date }
  /** New work; with `drainAt`, recorded now and started then. */
  | {
      readonly kind: "start";
      readonly action: "drain" | "cordon";
      readonly deadline: Date;
      readonly drainAt?: Date;
    };

export interface JoinEffect {
  readonly action: "drain" | "cordon";
  /** The work's deadline afterwards (the sooner of both). */
  readonly deadlineAt: Date;
  /** The notice's own deadline, written into the record beside its id. */
  readonly noticeDeadline: Date;
  /** Waiting work's start afterwards; brought forward when the joiner is sooner. */
  readonly drainAt: Date | undefined;
  /** The start moved: the waiting work must re-read it. */
  readonly wake: boolean;
  /**
   * The joiner wants action now: it counts as recorded once the node is
   * cordoned. Otherwise (it too can wait) once it is in the scheduled record.
   */
  readonly actNow: boolean;
}

/** The notice's own deadline, else node-termination-grace-period from now. */
export function deadlineFor(
  notice: Pick<Notice, "deadline">,
  now: Date,
  settings: Pick<Config, "nodeTerminationGracePeriodSeconds">,
): Date {
  return (
    notice.deadline ?? new Date(now.getTime() + settings.nodeTerminationGracePeriodSeconds * 1000)
  );
}

export function admit(
  notice: Notice,
  running: RunningWork | undefined,
  now: Date,
  settings: AdmissionSettings,
  dryRun: boolean,
): Admission {
  const action = actionFor(notice, settings);
  if (action === "none")
    return { kind: "ignore", reason: `${notice.action}: nothing to do on a node` };
  if (action === "uncordon") return { kind: "uncordon" };
  const deadline = deadlineFor(notice, now, settings);
  if (running) {
    if (running.ids.has(notice.id)) return { kind: "same" };
    if (running.action === "drain" || action === "cordon" || running.waiting) {
      return { kind: "join", effect: joinEffect(running, notice, action, now, settings) };
    }
    return { kind: "after-running", action: "drain", deadline };
  }
  // A dry run changes nothing on the node, so there is no record to wait on.
  const drainAt = dryRun
    ? undefined
    : drainStartFor(notice, now, settings.scheduledDrainLeadSeconds);
  return drainAt
    ? { kind: "start", action, deadline, drainAt }
    : { kind: "start", action, deadline };
}

/** How running work changes when `notice` joins it. */
export function joinEffect(
  running: RunningWork,
  notice: Notice,
  action: "drain" | "cordon",
  now: Date,
  settings: Pick<Config, "scheduledDrainLeadSeconds" | "nodeTerminationGracePeriodSeconds">,
): JoinEffect {
  const noticeDeadline = deadlineFor(notice, now, settings);
  const deadlineAt =
    noticeDeadline.getTime() < running.deadlineAt.getTime() ? noticeDeadline : running.deadlineAt;
  if (!running.waiting) {
    return {
      action: running.action,
      deadlineAt,
      noticeDeadline,
      drainAt: running.drainAt,
      wake: false,
      actNow: true,
    };
  }
  // Joining scheduled work that has not started: the joiner may want it
  // sooner (a Spot interruption: now) or want a drain rather than a cordon.
  const start = drainStartFor(notice, now, settings.scheduledDrainLeadSeconds);
  const at = start ?? now;
  const sooner = running.drainAt !== undefined && at < running.drainAt;
  return {
    action: action === "drain" ? "drain" : running.action,
    deadlineAt,
    noticeDeadline,
    drainAt: sooner ? at : running.drainAt,
    wake: sooner,
    actNow: start === undefined,
  };
}

export type CancelAdmission =
  | { readonly kind: "ignore"; readonly reason: string }
  /** Undo what the node's record says; first abort the running work, if any. */
  | { readonly kind: "release"; readonly abortRunning: boolean };

/**
 * A cancel or completion notice against the running work. It cancels only
 * work of its own family, and a cancel that names one event (IMDS lists old
 * ones for days) only work held for that event alone.
 */
export function admitCancel(
  notice: Notice,
  running: (Pick<RunningWork, "ids" | "kinds"> & { readonly firstKind: NoticeKind }) | undefined,
): CancelAdmission {
  if (running === undefined) return { kind: "release", abortRunning: false };
  if (![...running.kinds].every((kind) => sameFamily(kind, notice.kind))) {
    return {
      kind: "ignore",
      reason: `a ${running.firstKind} drain is running on the node; left as it is`,
    };
  }
  const named = cancelledId(notice);
  if (named !== undefined && (!running.ids.has(named) || running.ids.size > 1)) {
    return {
      kind: "ignore",
      reason: `cancels ${named}, but nthd holds the node for ${[...running.ids].join(", ")}; left as it is`,
    };
  }
  return { kind: "release", abortRunning: true };
}

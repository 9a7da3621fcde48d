/**
 * What a starting nthd does with the work recorded on a node by an earlier
 * one: re-arm a scheduled drain, resume a drain that was running, respect an
 * operator's uncordon, or only report what was finished. Pure: the engine
 * carries the answer out.
 */
import type { DrainState, NodeRecord } from "./record.ts";
import type { DrainResult } from "./report.ts";

export type ResumeStep =
  /** Scheduled work: wait again for its start. */
  | { readonly kind: "rearm"; readonly drainAt: Date }
  /** A drain that was running (or incomplete with time left): run it again. */
  | { readonly kind: "resume-drain" }
  /** Nothing to run; the recorded outcome, for sources that finish what a notice asked. */
  | { readonly kind: "report"; readonly result: DrainResult; readonly message: string };

/** The recorded state's report when nothing is resumed. */
const FINISHED: Readonly<Record<DrainState, DrainResult>> = {
  scheduled: "failed", // a scheduled label without a scheduled record: damaged
  cordoned: "cordoned",
  draining: "failed", // a drain that may not be resumed (cordon-only record)
  drained: "drained",
  incomplete: "deadline-exceeded",
};

export function resumeStep(
  record: NodeRecord,
  state: DrainState | undefined,
  unschedulable: boolean,
  now: Date,
): ResumeStep {
  if (record.drainAt !== undefined) {
    return { kind: "rearm", drainAt: new Date(record.drainAt) };
  }
  const timeLeft = new Date(record.deadline).getTime() > now.getTime();
  if (record.action === "drain" && (state === "draining" || (state === "incomplete" && timeLeft))) {
    if (!unschedulable) {
      // Uncordoned while nthd was away: the operator's word wins.
      return {
        kind: "report",
        result: "cancelled",
        message: "uncordoned by someone else while nthd was down",
      };
    }
    return { kind: "resume-drain" };
  }
  return {
    kind: "report",
    result: state === undefined ? "failed" : FINISHED[state],
    message: `recorded as ${state ?? "unknown"} before restart`,
  };
}

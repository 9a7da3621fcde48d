/**
 * What a drain did, pod by pod, and one line that says it. When a deadline
 * passes, the line names the pods still there and why each one is (refused
 * by which PodDisruptionBudget, or evicted but still terminating), instead of
 * an opaque "global timeout".
 */
import type { NoticeKind } from "../notice.ts";
import type { SkipCode } from "./filters.ts";
import { type PodRef, podKey } from "./planner.ts";
import type { EngineAction } from "./policy.ts";

export const DRAIN_RESULTS = [
  "drained",
  "cordoned",
  "uncordoned",
  "deadline-exceeded",
  "failed",
  "cancelled",
  "ignored",
  "dry-run",
] as const;
export type DrainResult = (typeof DRAIN_RESULTS)[number];

export type PodOutcomeKind =
  | "evicted" // eviction accepted and the pod is gone
  | "gone" // gone before nthd evicted it
  | "blocked" // refused by a PodDisruptionBudget until the deadline
  | "terminating" // eviction accepted, still terminating at the deadline
  | "failed" // the API server refused for good
  | "cancelled"
  | "skipped" // left by a filter; `reason` names the setting
  | "planned"; // dry-run: would be evicted

export interface PodOutcome {
  readonly pod: PodRef;
  readonly outcome: PodOutcomeKind;
  readonly reason?: string;
  readonly skipCode?: SkipCode;
  readonly pdb?: string;
  readonly gracePeriodSeconds?: number;
  readonly wave?: number;
  /** 429 answers received for this pod. */
  readonly refusals?: number;
}

export interface DrainReport {
  readonly nodeName: string;
  /** The notice that started the work; `joined` lists notices that joined it. */
  readonly noticeId: string;
  readonly joined: readonly string[];
  readonly kind: NoticeKind;
  readonly action: EngineAction;
  readonly result: DrainResult;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly deadline?: Date;
  readonly pods: readonly PodOutcome[];
  readonly message: string;
  /** Resumed from the node's record after a restart. */
  readonly resumed: boolean;
  /** For a notice that needs completion: whether the node's record says it was finished. */
  readonly completion?: "completed" | "open";
}

const LEFT_OUTCOMES: ReadonlySet<PodOutcomeKind> = new Set(["blocked", "terminating", "failed"]);

export function podsLeft(pods: readonly PodOutcome[]): PodOutcome[] {
  return pods.filter((p) => LEFT_OUTCOMES.has(p.outcome));
}

function why(p: PodOutcome): string {
  switch (p.outcome) {
    case "blocked":
      return `refused by PodDisruptionBudget ${p.pdb ?? "(unknown)"} ${p.refusals ?? 0} times: ${p.reason ?? ""}`.trim();
    case "terminating":
      return `evicted with ${p.gracePeriodSeconds ?? "?"} s grace, still terminating`;
    default:
      return p.reason ?? p.outcome;
  }
}

/** One line for logs and the Event: counts, then every pod left and why. */
export function summarize(
  result: DrainResult,
  pods: readonly PodOutcome[],
  deadline: Date | undefined,
): string {
  const count = (k: PodOutcomeKind) => pods.filter((p) => p.outcome === k).length;
  const counts = `${count("evicted")} evicted, ${count("gone")} already gone, ${count("skipped")} skipped`;
  const left = podsLeft(pods);
  const leftText = left.map((p) => `${podKey(p.pod)} ${why(p)}`).join("; ");
  switch (result) {
    case "drained":
      return `drained: ${counts}`;
    case "deadline-exceeded":
      return `deadline ${deadline?.toISOString() ?? "?"} passed with ${left.length} pod(s) left (${counts}): ${leftText}`;
    case "failed":
      return `drain incomplete (${counts}): ${leftText}`;
    case "cancelled":
      return `drain cancelled (${counts})`;
    case "dry-run":
      return `dry run: would evict ${count("planned")} pod(s), skip ${count("skipped")}`;
    default:
      return `${result} (${counts})`;
  }
}

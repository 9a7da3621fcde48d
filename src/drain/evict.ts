/**
 * Evicts one pod through the Eviction API (policy/v1), retrying what may
 * pass: 429 means a PodDisruptionBudget would be violated right now, so it is
 * retried with capped exponential backoff and jitter until the deadline. A
 * 409 is "gone" only when a fresh read of the pod says so (evict-conflict.ts).
 * https://kubernetes.io/docs/concepts/scheduling-eviction/api-eviction/
 */
import { setTimeout as sleep } from "node:timers/promises";
import { classifyKubeError } from "../kube/api-error.ts";
import type { KubeClient } from "../kube/client.ts";
import { EVICTION_BACKOFF } from "./drain-estimate.ts";
import { afterConflict, type PodAfterConflict } from "./evict-conflict.ts";
import { gracePeriodFor, type PlanSettings, type PodRef } from "./planner.ts";

export type EvictionResult =
  /** The API server accepted the eviction: the pod is being deleted. */
  | { readonly status: "evicted"; readonly gracePeriodSeconds: number; readonly refusals: number }
  /** The pod was gone (or replaced by a new incarnation) before it was evicted. */
  | { readonly status: "gone" }
  /** Refused by a PodDisruptionBudget until the deadline; `message` is the API server's. */
  | { readonly status: "blocked"; readonly refusals: number; readonly message: string }
  /** An answer that retrying cannot change (forbidden, several PDBs, invalid). */
  | { readonly status: "failed"; readonly message: string }
  | { readonly status: "cancelled" };

export interface EvictArgs {
  readonly kube: KubeClient;
  readonly pod: PodRef;
  /** The pod's own terminationGracePeriodSeconds, recapped on each attempt. */
  readonly podGraceSeconds: number | undefined;
  readonly settings: Pick<
    PlanSettings,
    "podTerminationGracePeriodSeconds" | "deadlineSafetyMarginSeconds"
  >;
  /** Read on every attempt: a joining notice may bring the deadline forward. */
  readonly deadline: () => Date;
  readonly clock: () => Date;
  readonly signal: AbortSignal;
  /** Aborts when the deadline is reached, to cut a backoff short. */
  readonly wake?: AbortSignal;
  /** Called on each 429 with the API server's message (metrics, logs). */
  readonly onRefused?: (message: string) => void;
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
}

/** The pod as it is now, for afterConflict; a failed read is "unknown", never a throw. */
async function readPod(a: EvictArgs): Promise<PodAfterConflict> {
  try {
    const pod = await a.kube.getPod(a.pod.namespace, a.pod.name, { signal: a.signal });
    return pod === undefined ? { found: false } : { found: true, uid: pod.metadata?.uid };
  } catch (err) {
    return { unknown: true, reason: classifyKubeError(err).message };
  }
}

export async function evictPod(a: EvictArgs): Promise<EvictionResult> {
  const backoff = a.backoff ?? EVICTION_BACKOFF;
  let refusals = 0;
  let failures = 0;
  let lastMessage = "";
  for (let attempt = 0; ; attempt++) {
    if (a.signal.aborted) return { status: "cancelled" };
    const now = a.clock();
    const grace = gracePeriodFor(a.podGraceSeconds, a.settings, now, a.deadline());
    try {
      await a.kube.evictPod(a.pod.namespace, a.pod.name, {
        gracePeriodSeconds: grace.seconds,
        ...(a.pod.uid ? { uid: a.pod.uid } : {}),
        signal: a.signal,
        // A shutdown waits for an eviction already sent: cut off, nobody would
        // know whether it happened (the replica taking over must know).
        abortSent: false,
      });
      return { status: "evicted", gracePeriodSeconds: grace.seconds, refusals };
    } catch (err) {
      if (a.signal.aborted) return { status: "cancelled" };
      const info = classifyKubeError(err);
      lastMessage = info.message;
      switch (info.kind) {
        case "not-found":
          return { status: "gone" };
        case "conflict": {
          // A failed uid precondition (the pod was replaced) or a lost race on
          // the PDB's status: only a fresh read of the pod tells which.
          const decided = afterConflict(a.pod, await readPod(a));
          if (decided.verdict === "gone") return { status: "gone" };
          if (a.signal.aborted) return { status: "cancelled" };
          lastMessage = `${info.message} (${decided.reason})`;
          failures++;
          break;
        }
        case "too-many-requests":
          refusals++;
          a.onRefused?.(info.message);
          break;
        case "server":
        case "network":
          // The API server answers 500 for a pod under several PDBs; that never passes.
          if (/more than one PodDisruptionBudget/i.test(info.message)) {
            return { status: "failed", message: info.message };
          }
          failures++;
          break;
        default:
          return { status: "failed", message: `HTTP ${info.status ?? "-"}: ${info.message}` };
      }
      const exp = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(attempt, 20));
      // Jitter spreads the retries of many pods behind one PDB.
      let waitMs = exp / 2 + Math.random() * (exp / 2);
      if (info.retryAfterSeconds !== undefined)
        waitMs = Math.max(waitMs, info.retryAfterSeconds * 1000);
      const left = a.deadline().getTime() - a.clock().getTime();
      if (left <= 0) {
        return refusals > 0
          ? { status: "blocked", refusals, message: lastMessage }
          : { status: "failed", message: `after ${failures + 1} attempts: ${lastMessage}` };
      }
      try {
        const signal = a.wake ? AbortSignal.any([a.signal, a.wake]) : a.signal;
        await sleep(Math.min(waitMs, left), undefined, { signal });
      } catch {
        if (a.signal.aborted) return { status: "cancelled" };
        // Deadline reached: one last attempt, then the loop reports.
      }
    }
  }
}

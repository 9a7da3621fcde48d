/**
 * Carries out a drain plan against the API server. Every pod has its own
 * eviction loop, so one pod refused by a PodDisruptionBudget never holds up
 * the others. Waves (see planner.ts) run in order: the next wave starts when
 * each pod of the current one is gone, has failed, or is being refused by its
 * PDB (it keeps retrying in the background until the deadline).
 */
import type { V1Pod } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { KubeClient } from "../kube/client.ts";
import type { NoticeKind } from "../notice.ts";
import { countEvictionBlockedByPdb, countPodsEvicted } from "../observe/metrics.ts";
import type { Deadline } from "./deadline.ts";
import type { DrainEvents } from "./events.ts";
import { evictPod } from "./evict.ts";
import { type DrainPlan, type PlannedEviction, type PlanSettings, podKey } from "./planner.ts";
import type { PodTracker } from "./pod-tracker.ts";
import type { PodOutcome } from "./report.ts";

export interface ExecuteArgs {
  readonly kube: KubeClient;
  readonly nodeName: string;
  readonly kind: NoticeKind;
  readonly plan: DrainPlan;
  /** The pods the plan was made from (for each pod's own grace period). */
  readonly pods: readonly V1Pod[];
  readonly tracker: PodTracker;
  readonly settings: PlanSettings;
  readonly deadline: Deadline;
  readonly clock: () => Date;
  /** Cancellation (a cancel notice or shutdown). */
  readonly signal: AbortSignal;
  readonly log: Logger;
  readonly events: DrainEvents;
}

export type ExecuteResult = "drained" | "deadline-exceeded" | "failed" | "cancelled";

export async function executePlan(
  a: ExecuteArgs,
): Promise<{ result: ExecuteResult; pods: PodOutcome[] }> {
  const ownGrace = new Map<string, number | undefined>();
  for (const pod of a.pods) {
    const key = podKey({
      namespace: pod.metadata?.namespace ?? "",
      name: pod.metadata?.name ?? "",
    });
    ownGrace.set(key, pod.spec?.terminationGracePeriodSeconds);
  }
  const stopWaiting = AbortSignal.any([a.signal, a.deadline.signal]);

  // Pods terminating before this drain (or evicted before a restart) still
  // have to be gone for the node to be drained.
  const alreadyGoing = a.plan.skipped
    .filter((s) => s.code === "terminating")
    .map(async (s): Promise<PodOutcome> => {
      const gone = await a.tracker.waitGone(s.pod, stopWaiting);
      return gone
        ? { pod: s.pod, outcome: "gone", reason: "was already terminating" }
        : { pod: s.pod, outcome: "terminating", reason: "was already terminating, still there" };
    });
  const otherSkips: PodOutcome[] = a.plan.skipped
    .filter((s) => s.code !== "terminating")
    .map((s) => ({ pod: s.pod, outcome: "skipped", reason: s.reason, skipCode: s.code }));

  async function runPod(e: PlannedEviction, progressed: () => void): Promise<PodOutcome> {
    const base = { pod: e.pod, wave: e.wave, ...(e.pdb ? { pdb: e.pdb } : {}) };
    if (a.tracker.isGone(e.pod)) return { ...base, outcome: "gone" };
    const r = await evictPod({
      kube: a.kube,
      pod: e.pod,
      podGraceSeconds: ownGrace.get(podKey(e.pod)),
      settings: a.settings,
      deadline: () => a.deadline.at(),
      clock: a.clock,
      signal: a.signal,
      wake: a.deadline.signal,
      onRefused: (message) => {
        countEvictionBlockedByPdb(a.kind);
        a.log.debug(
          { pod: podKey(e.pod), message },
          "eviction refused by PodDisruptionBudget; retrying",
        );
        progressed();
      },
    });
    switch (r.status) {
      case "evicted": {
        countPodsEvicted(a.kind);
        a.events.podEvicted(e.pod, a.nodeName, `evicted with ${r.gracePeriodSeconds} s grace`);
        a.log.info({ pod: podKey(e.pod), grace: r.gracePeriodSeconds }, "pod evicted");
        const gone = await a.tracker.waitGone(e.pod, stopWaiting);
        if (gone)
          return {
            ...base,
            outcome: "evicted",
            gracePeriodSeconds: r.gracePeriodSeconds,
            refusals: r.refusals,
          };
        return a.signal.aborted
          ? { ...base, outcome: "cancelled" }
          : {
              ...base,
              outcome: "terminating",
              gracePeriodSeconds: r.gracePeriodSeconds,
              refusals: r.refusals,
            };
      }
      case "gone":
        return { ...base, outcome: "gone" };
      case "blocked":
        return { ...base, outcome: "blocked", refusals: r.refusals, reason: r.message };
      case "failed":
        a.log.warn({ pod: podKey(e.pod), err: r.message }, "eviction failed");
        return { ...base, outcome: "failed", reason: r.message };
      case "cancelled":
        return { ...base, outcome: "cancelled" };
      default: {
        const unhandled: never = r;
        return unhandled;
      }
    }
  }

  const tasks: Promise<PodOutcome>[] = [];
  for (let wave = 0; wave < a.plan.waves; wave++) {
    if (a.signal.aborted) break;
    const gates: Promise<void>[] = [];
    for (const e of a.plan.evictions.filter((x) => x.wave === wave)) {
      let progressed!: () => void;
      gates.push(
        new Promise<void>((resolve) => {
          progressed = resolve;
        }),
      );
      tasks.push(runPod(e, progressed).finally(() => progressed()));
    }
    await Promise.all(gates);
  }
  // Pods of waves never started (cancelled before their turn).
  const started = tasks.length;
  const notStarted: PodOutcome[] = a.plan.evictions
    .slice(started)
    .map((e) => ({ pod: e.pod, wave: e.wave, outcome: "cancelled" }));

  const pods = [
    ...(await Promise.all(tasks)),
    ...notStarted,
    ...(await Promise.all(alreadyGoing)),
    ...otherSkips,
  ];
  let result: ExecuteResult = "drained";
  if (a.signal.aborted) result = "cancelled";
  else if (pods.some((p) => p.outcome === "blocked" || p.outcome === "terminating"))
    result = "deadline-exceeded";
  else if (pods.some((p) => p.outcome === "failed")) result = "failed";
  return { result, pods };
}

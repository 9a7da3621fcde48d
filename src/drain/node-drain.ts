/**
 * The steps of one node's work: cordon and record (one patch), the drain
 * itself (plan, then execute, up to two passes), recording its outcome, and
 * the dry run that only plans.
 */
import type { V1Node, V1PodDisruptionBudget } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { errorMessage, NthdError } from "../errors.ts";
import { classifyKubeError } from "../kube/api-error.ts";
import { drainsInProgress } from "../observe/metrics.ts";
import { type EngineContext, makeReport, type Work } from "./context.ts";
import { createDeadline } from "./deadline.ts";
import { executePlan } from "./executor.ts";
import { planDrain } from "./planner.ts";
import { trackPods } from "./pod-tracker.ts";
import {
  isScheduled,
  joinPatch,
  markPatch,
  type NodeRecord,
  outOfServicePatch,
  readRecord,
  readState,
  statePatch,
} from "./record.ts";
import { retryTransient, updateNode } from "./record-write.ts";
import type { DrainReport, PodOutcome } from "./report.ts";

export type Marked =
  | {
      readonly state: "marked" | "already-drained";
      /** The notice was not on the node's record before (not a redelivery, not scheduled earlier). */
      readonly fresh: boolean;
      /** The node as read or patched (its labels name the capacity pool). */
      readonly node: V1Node;
    }
  | {
      /** Scheduled work whose record left the node before its start: cancelled elsewhere. */
      readonly state: "withdrawn";
      readonly reason: string;
    };

/**
 * Writes cordon, taint, labels and record in one patch. Scheduled work
 * (`w.drainAt` set) only goes ahead while the node's record still holds its
 * notice: a cancel handled elsewhere, or an operator, may have removed it.
 */
export async function mark(ctx: EngineContext, w: Work, log: Logger): Promise<Marked> {
  let record: NodeRecord | undefined;
  let alreadyDrained = false;
  let fresh = true;
  let withdrawn = false;
  const result = await updateNode(
    ctx.kube,
    w.nodeName,
    (node) => {
      record = undefined;
      alreadyDrained = false;
      const existing = readRecord(node);
      if (!existing.ok) log.warn({ err: existing.error }, "replacing a damaged nthd record");
      const previous = existing.ok ? existing.record : undefined;
      // A scheduled record holds the notice but nthd has not cordoned yet.
      const scheduled = previous !== undefined && isScheduled(previous);
      fresh = !previous?.notices.some((n) => n.id === w.notice.id);
      withdrawn = w.drainAt !== undefined && fresh;
      if (withdrawn) return null;
      if (!fresh && !scheduled && node.spec?.unschedulable) {
        // Redelivered notice, already recorded (by this process before a
        // restart, or by another replica).
        record = previous;
        alreadyDrained = readState(node) === "drained";
        return null;
      }
      if (previous && !scheduled && w.action === "cordon") {
        // Work already recorded on the node (a drain, say): add this notice to it.
        const patch = joinPatch(node, previous, w.notice);
        record = previous;
        return patch;
      }
      const built = markPatch(
        node,
        w.notice,
        w.action,
        w.deadlineAt,
        ctx.config,
        ctx.clock(),
        previous,
      );
      record = built.record;
      return built.patch;
    },
    { lane: "urgent", signal: w.cancel.signal, cached: ctx.nodeCache?.byName(w.nodeName) },
  );
  if (!result.found) {
    throw new NthdError("KUBE_NODE_NOT_FOUND", `node ${w.nodeName} not found`, {
      context: { node: w.nodeName },
    });
  }
  if (withdrawn) {
    return {
      state: "withdrawn",
      reason: `the scheduled record for ${w.notice.id} was removed from the node before the drain started`,
    };
  }
  w.record = record;
  if (record) w.deadlineAt = new Date(record.deadline);
  return { state: alreadyDrained ? "already-drained" : "marked", fresh, node: result.node };
}

export async function listPdbs(
  ctx: EngineContext,
  log: Logger,
  signal: AbortSignal,
): Promise<V1PodDisruptionBudget[]> {
  try {
    return await ctx.pdbs(signal);
  } catch (err) {
    // Without list permission on PDBs the drain still works (the Eviction
    // API enforces them); only the ordering by headroom is lost.
    if (classifyKubeError(err).kind === "forbidden") {
      log.warn(
        { err: errorMessage(err) },
        "cannot list PodDisruptionBudgets; ordering without them",
      );
      return [];
    }
    throw err;
  }
}

export async function drain(ctx: EngineContext, w: Work, log: Logger): Promise<DrainReport> {
  const deadline = createDeadline(w.deadlineAt, ctx.clock);
  w.deadline = deadline;
  drainsInProgress.inc();
  try {
    const signal = w.cancel.signal;
    // A pod bound just as the cordon landed is missed by the first list; a
    // second pass over a fresh list catches it (bounded, so a controller
    // that keeps recreating pods here cannot loop us).
    let outcome: Awaited<ReturnType<typeof executePlan>> = { result: "drained", pods: [] };
    const handled = new Set<string>();
    for (let pass = 1; pass <= 2 && outcome.result === "drained"; pass++) {
      const { pods, resourceVersion } = await retryTransient(
        () =>
          ctx.kube.listPodsOnNode(w.nodeName, { fromCache: ctx.config.useApiserverCache, signal }),
        { signal },
      );
      const pdbs = await retryTransient(() => listPdbs(ctx, log, signal), { signal });
      const plan = planDrain({
        pods: pods.filter((p) => !handled.has(p.metadata?.uid ?? "")),
        pdbs,
        now: ctx.clock(),
        deadline: deadline.at(),
        settings: ctx.planSettings,
      });
      if (pass > 1 && plan.evictions.length === 0) break;
      for (const p of pods) handled.add(p.metadata?.uid ?? "");
      log.info(
        {
          pass,
          evict: plan.evictions.length,
          skip: plan.skipped.length,
          waves: plan.waves,
          deadline: deadline.at(),
        },
        "draining",
      );
      const tracker = await trackPods({
        kube: ctx.kube,
        nodeName: w.nodeName,
        initial: pods,
        resourceVersion,
        log,
      });
      try {
        const next = await executePlan({
          kube: ctx.kube,
          nodeName: w.nodeName,
          kind: w.notice.kind,
          plan,
          pods,
          tracker,
          settings: ctx.planSettings,
          deadline,
          clock: ctx.clock,
          signal,
          log,
          events: ctx.events,
        });
        outcome = { result: next.result, pods: [...outcome.pods, ...next.pods] };
      } finally {
        tracker.stop();
      }
    }
    const r = makeReport(ctx, w, "drain", outcome.result, {
      pods: outcome.pods,
      deadline: deadline.at(),
    });
    if (outcome.result !== "cancelled") await finish(ctx, w, r, log);
    return r;
  } finally {
    deadline.dispose();
    drainsInProgress.dec();
  }
}

/** Records the outcome on the node, adds the out-of-service taint, and announces it. */
export async function finish(
  ctx: EngineContext,
  w: Work,
  r: DrainReport,
  log: Logger,
): Promise<void> {
  const ok = r.result === "drained";
  try {
    await ctx.kube.patchNode(w.nodeName, statePatch(ok ? "drained" : "incomplete"), {
      lane: "urgent",
    });
    if (ok && ctx.config.enableOutOfServiceTaint && w.record) {
      const record = w.record;
      await updateNode(ctx.kube, w.nodeName, (node) => {
        const current = readRecord(node);
        return outOfServicePatch(node, current.ok && current.record ? current.record : record);
      });
    }
  } catch (err) {
    log.warn({ err: errorMessage(err) }, "could not record the drain's outcome on the node");
  }
  ctx.announce.drainEnded(w, r, log);
}

export async function dryRun(ctx: EngineContext, w: Work, log: Logger): Promise<DrainReport> {
  const node = await ctx.kube.getNode(w.nodeName);
  if (!node) throw new NthdError("KUBE_NODE_NOT_FOUND", `node ${w.nodeName} not found`);
  ctx.announce.dryRun(w, node);
  if (w.action === "cordon") {
    return makeReport(ctx, w, "cordon", "dry-run", { message: "dry run: would cordon" });
  }
  const { pods } = await ctx.kube.listPodsOnNode(w.nodeName, {
    fromCache: ctx.config.useApiserverCache,
  });
  const pdbs = await listPdbs(ctx, log, w.cancel.signal);
  const plan = planDrain({
    pods,
    pdbs,
    now: ctx.clock(),
    deadline: w.deadlineAt,
    settings: ctx.planSettings,
  });
  const outcomes: PodOutcome[] = [
    ...plan.evictions.map(
      (e): PodOutcome => ({
        pod: e.pod,
        outcome: "planned",
        wave: e.wave,
        gracePeriodSeconds: e.gracePeriodSeconds,
        ...(e.pdb ? { pdb: e.pdb } : {}),
      }),
    ),
    ...plan.skipped.map(
      (s): PodOutcome => ({ pod: s.pod, outcome: "skipped", reason: s.reason, skipCode: s.code }),
    ),
  ];
  const r = makeReport(ctx, w, "drain", "dry-run", { pods: outcomes, deadline: w.deadlineAt });
  log.info(
    { pods: outcomes.map((p) => `${p.pod.namespace}/${p.pod.name}:${p.outcome}`) },
    r.message,
  );
  return r;
}

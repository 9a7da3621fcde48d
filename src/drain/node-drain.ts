/**
 * The steps of one node's work after its cordon and record (mark.ts): the
 * drain itself (plan, then execute, up to two passes), recording its
 * outcome, and the dry run that only plans.
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
import { outOfServicePatch, readRecord, statePatch } from "./record.ts";
import { retryTransient, updateNode } from "./record-write.ts";
import type { DrainReport, PodOutcome } from "./report.ts";

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
  const me = ctx.replicas?.me;
  let lostTo: string | undefined;
  /** Nothing is written on a node whose work another replica took over meanwhile. */
  const ours = (node: V1Node) => {
    const current = readRecord(node);
    const owner = current.ok ? current.record?.owner : undefined;
    lostTo = me !== undefined && owner !== undefined && owner !== me ? owner : undefined;
    return lostTo === undefined;
  };
  try {
    const opts = { lane: "urgent" as const, cached: ctx.nodeCache?.byName(w.nodeName) };
    await updateNode(
      ctx.kube,
      w.nodeName,
      (node) => (ours(node) ? statePatch(node, ok ? "drained" : "incomplete") : null),
      opts,
    );
    if (ok && lostTo === undefined && ctx.config.enableOutOfServiceTaint && w.record) {
      const record = w.record;
      await updateNode(ctx.kube, w.nodeName, (node) => {
        if (!ours(node)) return null;
        const current = readRecord(node);
        return outOfServicePatch(node, current.ok && current.record ? current.record : record);
      });
    }
  } catch (err) {
    log.warn({ err: errorMessage(err) }, "could not record the drain's outcome on the node");
  }
  if (lostTo !== undefined) {
    // The new owner drains and reports; one report per node, not two.
    log.info({ owner: lostTo }, "the work was taken over by another replica; outcome left to it");
    return;
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

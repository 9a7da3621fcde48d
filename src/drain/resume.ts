/**
 * Recorded work this process did not start: at start-up, nodes carrying
 * nthd's state label; in queue mode also, at any time, work whose owner's
 * Lease went away (adoption.ts finds it). Work a live replica owns is left
 * to it. The rest is taken over (one patch guarded by the resourceVersion
 * naming this replica the owner) and carried out as `resume-plan.ts` decides.
 */
import type { V1Node } from "@kubernetes/client-node";
import type { Notice } from "../notice.ts";
import { noticeLogger } from "../observe/log.ts";
import { type EngineContext, makeReport, type Work } from "./context.ts";
import type { Duties } from "./duties.ts";
import type { ResumedWork } from "./engine.ts";
import { ownerPatch, ownershipOf } from "./ownership.ts";
import { readRecord, readState, recordToNotice, STATE_LABEL } from "./record.ts";
import { updateNode } from "./record-write.ts";
import type { DrainReport } from "./report.ts";
import { resumeStep } from "./resume-plan.ts";
import type { WorkStart } from "./work-run.ts";

export interface ResumeOptions {
  /** Only this node (IMDS mode). */
  readonly nodeName?: string;
  /** The node already has work in this process. */
  readonly busy: (nodeName: string) => boolean;
  readonly start: (s: WorkStart) => Work;
  readonly duties: Duties;
}

/** Nodes taken over at once at start-up. */
const RESUME_CONCURRENCY = 16;

export async function resumeRecorded(
  ctx: EngineContext,
  opts: ResumeOptions,
): Promise<ResumedWork[]> {
  if (ctx.config.dryRun) return [];
  const { nodes } = await ctx.kube.listNodes({ labelSelector: STATE_LABEL, lane: "urgent" });
  const todo = nodes.filter((node) => {
    const nodeName = node.metadata?.name ?? "";
    return !(opts.nodeName && nodeName !== opts.nodeName) && !opts.busy(nodeName);
  });
  const out: ResumedWork[] = [];
  for (let i = 0; i < todo.length; i += RESUME_CONCURRENCY) {
    const batch = todo.slice(i, i + RESUME_CONCURRENCY);
    for (const resumed of await Promise.all(batch.map((node) => adoptNode(ctx, node, opts)))) {
      out.push(...resumed);
    }
  }
  return out;
}

/**
 * Takes the node's recorded work over unless a live replica owns it, then
 * resumes it. Returns one entry per recorded notice (none when left alone).
 */
export async function adoptNode(
  ctx: EngineContext,
  node: V1Node,
  opts: Pick<ResumeOptions, "busy" | "start" | "duties">,
): Promise<ResumedWork[]> {
  const nodeName = node.metadata?.name ?? "";
  const replicas = ctx.replicas;
  let current = node;
  if (replicas !== undefined) {
    let held: string | undefined;
    const result = await updateNode(
      ctx.kube,
      nodeName,
      (n) => {
        held = undefined;
        const read = readRecord(n);
        if (!read.ok || read.record === undefined) return null;
        const own = ownershipOf(read.record, replicas.me, (o) => replicas.alive(o));
        if (own.kind === "held") held = own.owner;
        return own.kind === "free" ? ownerPatch(n, read.record, replicas.me) : null;
      },
      { lane: "urgent", cached: node },
    );
    if (!result.found || held !== undefined) return [];
    // Another notice may have started work here while the patch was on its way.
    if (opts.busy(nodeName)) return [];
    current = result.node;
  }
  return resumeNode(ctx, current, opts);
}

function resumeNode(
  ctx: EngineContext,
  node: V1Node,
  opts: Pick<ResumeOptions, "start" | "duties">,
): ResumedWork[] {
  const nodeName = node.metadata?.name ?? "";
  const current = readRecord(node);
  if (!current.ok) {
    ctx.log.warn({ node: nodeName, err: current.error }, "cannot resume: damaged nthd record");
    return [];
  }
  const record = current.record;
  if (!record) return [];
  const notices = record.notices.map(recordToNotice);
  const first = notices[0] as Notice;
  const log = noticeLogger(ctx.log, first, nodeName);
  const state = readState(node);
  const step = resumeStep(record, state, node.spec?.unschedulable === true, ctx.clock());
  const base = {
    notice: first,
    nodeName,
    action: record.action,
    deadline: new Date(record.deadline),
  };
  let done: Promise<DrainReport>;
  switch (step.kind) {
    case "rearm":
      log.info({ drainAt: step.drainAt }, "re-arming the drain scheduled on the node");
      done = opts.start({ ...base, resumeRecord: record, drainAt: step.drainAt }).done;
      break;
    case "resume-drain":
      log.info({ state }, "resuming drain recorded on the node");
      done = opts.start({ ...base, action: "drain", resumeRecord: record }).done;
      break;
    case "report": {
      if (step.result === "cancelled") log.warn(step.message);
      const joined = notices.slice(1).map((n) => n.id);
      const r = makeReport(
        ctx,
        { nodeName, notice: first, joined, startedAt: ctx.clock(), resumed: true },
        step.result === "cancelled" ? "drain" : record.action,
        step.result,
        { message: step.message },
      );
      done = Promise.resolve(r);
      // Nothing to run, but a notice may still wait to be finished (a lifecycle action).
      opts.duties.handOut(nodeName, record, done);
      break;
    }
  }
  return notices.map((notice) => ({ nodeName, notice, done }));
}

/**
 * Start-up: finds nodes carrying nthd's state label and carries out what
 * `resume-plan.ts` decides for each recorded piece of work.
 */
import type { V1Node } from "@kubernetes/client-node";
import type { Notice } from "../notice.ts";
import { noticeLogger } from "../observe/log.ts";
import { type EngineContext, makeReport, type Work } from "./context.ts";
import type { ResumedWork } from "./engine.ts";
import { readRecord, readState, recordToNotice, STATE_LABEL } from "./record.ts";
import type { DrainReport } from "./report.ts";
import { resumeStep } from "./resume-plan.ts";
import type { WorkStart } from "./work-run.ts";

export interface ResumeOptions {
  /** Only this node (IMDS mode). */
  readonly nodeName?: string;
  /** The node already has work in this process. */
  readonly busy: (nodeName: string) => boolean;
  readonly start: (s: WorkStart) => Work;
}

export async function resumeRecorded(
  ctx: EngineContext,
  opts: ResumeOptions,
): Promise<ResumedWork[]> {
  if (ctx.config.dryRun) return [];
  const { nodes } = await ctx.kube.listNodes({ labelSelector: STATE_LABEL, lane: "urgent" });
  const out: ResumedWork[] = [];
  for (const node of nodes) {
    const nodeName = node.metadata?.name ?? "";
    if (opts.nodeName && nodeName !== opts.nodeName) continue;
    if (opts.busy(nodeName)) continue;
    out.push(...resumeNode(ctx, node, opts.start));
  }
  return out;
}

function resumeNode(
  ctx: EngineContext,
  node: V1Node,
  start: ResumeOptions["start"],
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
      done = start({ ...base, resumeRecord: record, drainAt: step.drainAt }).done;
      break;
    case "resume-drain":
      log.info({ state }, "resuming drain recorded on the node");
      done = start({ ...base, action: "drain", resumeRecord: record }).done;
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
      break;
    }
  }
  return notices.map((notice) => ({ nodeName, notice, done }));
}

/**
 * One node's work, from creation to its report: wait for a scheduled start,
 * cordon and record (one patch), then, in one of the drain slots, drain.
 *
 * - `recorded` resolves when the notice is durable on the node: the cordon
 *   and nthd's record, or for work scheduled ahead the scheduled record.
 * - `marked` resolves once the node is cordoned and recorded.
 * - `done` resolves with the report; it never rejects.
 * Only the eviction phase waits for a slot: cordons go out at once.
 */
import type { Logger } from "pino";
import type { Semaphore } from "../async/semaphore.ts";
import { errorMessage, isNthdError, NthdError } from "../errors.ts";
import type { Notice } from "../notice.ts";
import { noticeLogger } from "../observe/log.ts";
import { type EngineContext, makeReport, type Work } from "./context.ts";
import { drain, dryRun, mark } from "./node-drain.ts";
import type { NodeRecord } from "./record.ts";
import type { DrainReport } from "./report.ts";
import { recordSchedule, waitForStart } from "./schedule-wait.ts";

type Hooks = { resolve(): void; reject(err: unknown): void };

export interface WorkStart {
  readonly notice: Notice;
  readonly nodeName: string;
  readonly action: "drain" | "cordon";
  readonly deadline: Date;
  /** Start only after this settles (a drain upgrading a running cordon). */
  readonly after?: Promise<unknown>;
  /** Resumed from the node's record after a restart. */
  readonly resumeRecord?: NodeRecord;
  /** Scheduled work: recorded now, cordoned and drained then. */
  readonly drainAt?: Date;
}

/** Creates the work and starts running it; `onEnd` runs once it is over. */
export function startWork(
  ctx: EngineContext,
  slots: Semaphore,
  start: WorkStart,
  onEnd: (w: Work) => void,
): Work {
  const record = start.resumeRecord;
  const w: Work = {
    nodeName: start.nodeName,
    notice: start.notice,
    action: start.action,
    ids: new Set(record ? record.notices.map((n) => n.id) : [start.notice.id]),
    kinds: new Set(record ? record.notices.map((n) => n.kind) : [start.notice.kind]),
    joined: record ? record.notices.slice(1).map((n) => n.id) : [],
    cancel: new AbortController(),
    startedAt: ctx.clock(),
    resumed: record !== undefined,
    deadlineAt: record ? new Date(record.deadline) : start.deadline,
    deadline: undefined,
    record,
    drainAt: start.drainAt,
    waiting: start.drainAt !== undefined,
    wake: undefined,
    recorded: Promise.resolve(),
    marked: Promise.resolve(),
    done: Promise.resolve(undefined as unknown as DrainReport),
  };
  let recorded!: Hooks;
  let marked!: Hooks;
  w.recorded = new Promise<void>((resolve, reject) => {
    recorded = { resolve, reject };
  });
  w.marked = new Promise<void>((resolve, reject) => {
    marked = { resolve, reject };
  });
  // A caller that only awaits `done` must not see an unhandled rejection.
  w.recorded.catch(() => {});
  w.marked.catch(() => {});
  w.done = run(ctx, slots, w, recorded, marked, start.after).finally(() => onEnd(w));
  return w;
}

async function run(
  ctx: EngineContext,
  slots: Semaphore,
  w: Work,
  recorded: Hooks,
  marked: Hooks,
  after: Promise<unknown> | undefined,
): Promise<DrainReport> {
  const log = noticeLogger(ctx.log, w.notice, w.nodeName);
  // Whether nthd's cordon is on the node (a resumed drain's was written before the restart).
  let cordoned = w.resumed && !w.waiting;
  try {
    if (after) await after.catch(() => {});
    if (ctx.config.dryRun) {
      const r = await dryRun(ctx, w, log);
      recorded.resolve();
      marked.resolve();
      return r;
    }
    if (w.waiting) {
      await schedule(ctx, w, log);
      // Unless nthd turned out to hold the node already (then the cordon records it).
      if (w.drainAt !== undefined) recorded.resolve();
      await waitForStart(w, ctx.clock, w.cancel.signal);
      w.waiting = false;
    }
    if (!cordoned) {
      const m = await mark(ctx, w, log);
      if (m.state === "withdrawn") {
        recorded.resolve();
        marked.reject(new NthdError("DRAIN_FAILED", m.reason));
        log.info(m.reason);
        return makeReport(ctx, w, w.action, "cancelled", { message: `cancelled: ${m.reason}` });
      }
      cordoned = true;
      recorded.resolve();
      marked.resolve();
      ctx.announce.cordoned(w, m.fresh, m.node, log);
      if (m.state === "already-drained") {
        return makeReport(ctx, w, "drain", "drained", {
          message: "already drained for this notice",
        });
      }
    } else {
      recorded.resolve();
      marked.resolve();
    }
    if (w.action === "cordon")
      return makeReport(ctx, w, "cordon", "cordoned", { message: "cordoned" });
    await slots.acquire(w.cancel.signal);
    try {
      return await drain(ctx, w, log);
    } finally {
      slots.give(1);
    }
  } catch (err) {
    recorded.reject(err);
    marked.reject(err);
    if (w.cancel.signal.aborted) {
      return makeReport(ctx, w, w.action, "cancelled", {
        message: `cancelled: ${errorMessage(w.cancel.signal.reason)}`,
      });
    }
    const message = errorMessage(err);
    log.error({ err: message, code: isNthdError(err) ? err.code : undefined }, "node work failed");
    if (!ctx.config.dryRun) ctx.announce.failed(w, err, cordoned);
    return makeReport(ctx, w, w.action, "failed", { message });
  }
}

/**
 * Scheduled work, before its wait: the scheduled record (unless resumed
 * from one), the notice's Event and the interruption count.
 */
async function schedule(ctx: EngineContext, w: Work, log: Logger): Promise<void> {
  if (w.resumed) return;
  const { outcome, node } = await recordSchedule(ctx, w, log);
  if (outcome === "act-now") {
    // nthd already holds the node for other work; this notice joins it now.
    log.info("node already held by nthd; scheduled notice handled now");
    w.drainAt = undefined;
    return;
  }
  const at = (w.drainAt ?? ctx.clock()).toISOString();
  ctx.announce.scheduled(w, node, outcome === "scheduled", at);
  log.info({ drainAt: at, deadline: w.deadlineAt, outcome }, "notice recorded; drain scheduled");
}

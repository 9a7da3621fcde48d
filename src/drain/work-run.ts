/**
 * One node's work, from creation to its report: wait for a scheduled start,
 * cordon and record (one patch), then, in one of the drain slots, drain.
 *
 * - `recorded` resolves when the notice is durable on the node: the cordon
 *   and nthd's record, or for work scheduled ahead the scheduled record.
 * - `marked` resolves once the node is cordoned and recorded.
 * - `done` resolves with the report; it never rejects.
 * Only the eviction phase waits for a slot: cordons go out at once.
 *
 * In queue mode the record names the replica that owns the work. When
 * another live replica owns it, the notice joins its record and this work
 * only follows it (follow.ts) until it is over, or takes it over when its
 * owner goes away, and then carries on as if resumed from the record.
 */
import type { Logger } from "pino";
import type { Semaphore } from "../async/semaphore.ts";
import { errorMessage, isNthdError, NthdError } from "../errors.ts";
import type { Notice } from "../notice.ts";
import { noticeLogger } from "../observe/log.ts";
import { type EngineContext, makeReport, type Work } from "./context.ts";
import type { Duties } from "./duties.ts";
import { followOwner } from "./follow.ts";
import { mark } from "./mark.ts";
import { drain, dryRun } from "./node-drain.ts";
import { type NodeRecord, readState } from "./record.ts";
import type { DrainReport } from "./report.ts";
import { resumeStep } from "./resume-plan.ts";
import { recordSchedule, waitForStart } from "./schedule-wait.ts";
import type { Wakeups } from "./wakeups.ts";

type Hooks = { resolve(): void; reject(err: unknown): void };

export interface WorkStart {
  readonly notice: Notice;
  readonly nodeName: string;
  readonly action: "drain" | "cordon";
  readonly deadline: Date;
  /** Start only after this settles (a drain upgrading a running cordon). */
  readonly after?: Promise<unknown>;
  /** Resumed from the node's record after a restart (or taken over from a replica that went). */
  readonly resumeRecord?: NodeRecord;
  /** Scheduled work: recorded now, cordoned and drained then. */
  readonly drainAt?: Date;
}

/** What running work shares with the engine. */
export interface WorkDeps {
  readonly slots: Semaphore;
  readonly duties: Duties;
  readonly wakeups: Wakeups;
}

/** Creates the work and starts running it; `onEnd` runs once it is over. */
export function startWork(
  ctx: EngineContext,
  deps: WorkDeps,
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
    following: undefined,
    owned: false,
    claimedVersion: undefined,
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
  // Started a tick later, so every step (handing out duties, say) can rely on `w.done`.
  w.done = Promise.resolve()
    .then(() => run(ctx, deps, w, recorded, marked, start.after))
    .finally(() => onEnd(w));
  return w;
}

/** What to do after the claim: drain (the cordon is on), or report without draining. */
type Claimed = { readonly report: DrainReport } | { readonly report?: undefined };

async function run(
  ctx: EngineContext,
  deps: WorkDeps,
  w: Work,
  recorded: Hooks,
  marked: Hooks,
  after: Promise<unknown> | undefined,
): Promise<DrainReport> {
  const log = noticeLogger(ctx.log, w.notice, w.nodeName);
  // Whether nthd's cordon is on the node (a resumed drain's was written before the restart).
  const cordoned = { on: w.resumed && !w.waiting };
  try {
    if (after) await after.catch(() => {});
    if (ctx.config.dryRun) {
      const r = await dryRun(ctx, w, log);
      recorded.resolve();
      marked.resolve();
      return r;
    }
    const claimed = await claim(ctx, deps, w, log, recorded, marked, cordoned);
    // Whatever the claim found, the notice is on the node's record by now.
    recorded.resolve();
    marked.resolve();
    if (claimed.report !== undefined) return claimed.report;
    if (w.action === "cordon")
      return makeReport(ctx, w, "cordon", "cordoned", { message: "cordoned" });
    await deps.slots.acquire(w.cancel.signal);
    try {
      return await drain(ctx, w, log);
    } finally {
      deps.slots.give(1);
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
    if (!ctx.config.dryRun) ctx.announce.failed(w, err, cordoned.on);
    return makeReport(ctx, w, w.action, "failed", { message });
  }
}

/**
 * Makes the work this replica's: the scheduled record and its wait, then
 * the cordon and record. Work another replica owns is followed, and taken
 * over (then claimed again, from its record) if its owner goes away.
 */
async function claim(
  ctx: EngineContext,
  deps: WorkDeps,
  w: Work,
  log: Logger,
  recorded: Hooks,
  marked: Hooks,
  cordoned: { on: boolean },
): Promise<Claimed> {
  for (;;) {
    if (w.waiting) {
      const held = await schedule(ctx, w, log);
      if (held) {
        recorded.resolve();
        const next = await follow(ctx, deps, w, log, cordoned);
        if (next !== undefined) return next;
        continue;
      }
      // Unless nthd turned out to hold the node already (then the cordon records it).
      if (w.drainAt !== undefined) {
        recorded.resolve();
        w.owned = true;
      }
      await waitForStart(w, ctx.clock, w.cancel.signal);
      w.waiting = false;
    }
    if (cordoned.on) {
      recorded.resolve();
      marked.resolve();
      w.owned = true;
      if (w.record) deps.duties.handOut(w.nodeName, w.record, w.done);
      return {};
    }
    const m = await mark(ctx, w, log);
    if (m.state === "held") {
      recorded.resolve();
      marked.resolve();
      const next = await follow(ctx, deps, w, log, cordoned);
      if (next !== undefined) return next;
      continue;
    }
    if (m.state === "withdrawn") {
      recorded.resolve();
      marked.reject(new NthdError("DRAIN_FAILED", m.reason));
      log.info(m.reason);
      return {
        report: makeReport(ctx, w, w.action, "cancelled", { message: `cancelled: ${m.reason}` }),
      };
    }
    cordoned.on = true;
    w.owned = true;
    recorded.resolve();
    marked.resolve();
    ctx.announce.cordoned(w, m.fresh, m.node, log);
    if (w.record) deps.duties.handOut(w.nodeName, w.record, w.done);
    if (m.state === "already-drained") {
      return {
        report: makeReport(ctx, w, "drain", "drained", {
          message: "already drained for this notice",
        }),
      };
    }
    return {};
  }
}

/**
 * Follows the owner; undefined once this replica took the work over and set
 * it up to be claimed again from the record it took (wait, drain or report).
 */
async function follow(
  ctx: EngineContext,
  deps: WorkDeps,
  w: Work,
  log: Logger,
  cordoned: { on: boolean },
): Promise<Claimed | undefined> {
  const replicas = ctx.replicas;
  if (replicas === undefined) throw new NthdError("DRAIN_FAILED", "no replicas to follow");
  const end = await followOwner({ ...ctx, replicas }, w, deps.wakeups, log);
  if (end.kind === "over") return { report: end.report };
  const { record, node } = end;
  w.claimedVersion = node.metadata?.resourceVersion;
  for (const n of record.notices) {
    if (!w.ids.has(n.id)) w.joined.push(n.id);
    w.ids.add(n.id);
    w.kinds.add(n.kind);
  }
  w.record = record;
  w.resumed = true;
  w.action = record.action;
  w.deadlineAt = new Date(record.deadline);
  const step = resumeStep(record, readState(node), node.spec?.unschedulable === true, ctx.clock());
  switch (step.kind) {
    case "rearm":
      w.waiting = true;
      w.drainAt = step.drainAt;
      return undefined;
    case "resume-drain":
      w.action = "drain";
      cordoned.on = true;
      return undefined;
    case "report": {
      w.owned = true;
      const report = makeReport(ctx, w, record.action, step.result, { message: step.message });
      deps.duties.handOut(w.nodeName, record, Promise.resolve(report));
      return { report };
    }
  }
}

/**
 * Scheduled work, before its wait: the scheduled record (unless resumed
 * from one), the notice's Event and the interruption count. True when
 * another live replica owns the node's work (the notice joined its record).
 */
async function schedule(ctx: EngineContext, w: Work, log: Logger): Promise<boolean> {
  if (w.resumed) return false;
  const { outcome, node } = await recordSchedule(ctx, w, log);
  if (outcome === "held") return true;
  if (outcome === "act-now") {
    // nthd already holds the node for other work; this notice joins it now.
    log.info("node already held by nthd; scheduled notice handled now");
    w.drainAt = undefined;
    return false;
  }
  const at = (w.drainAt ?? ctx.clock()).toISOString();
  ctx.announce.scheduled(w, node, outcome === "scheduled", at);
  log.info({ drainAt: at, deadline: w.deadlineAt, outcome }, "notice recorded; drain scheduled");
  return false;
}

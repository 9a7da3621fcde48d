/**
 * The drain engine: turns a Notice into actions on one node.
 *
 * - One piece of work per node at a time. A notice for a node that is already
 *   being handled joins that work (its id is added to the node's record and a
 *   sooner deadline tightens the drain); a drain notice after a cordon-only
 *   one upgrades it once the cordon is written.
 * - Cordons go out at once, on the rate limiter's urgent lane; only the
 *   eviction phase waits for one of `max-concurrent-drains` slots.
 * - `recorded` resolves when the cordon and nthd's record are durable on the
 *   node (one patch); `done` when the work is over, with a report.
 * - Scheduled maintenance far ahead is only recorded (state `scheduled`,
 *   `recorded` resolves then) and cordoned and drained `scheduled-drain-lead`
 *   seconds before it starts.
 * - Cancel: an `uncordon` notice of the same family aborts the running drain
 *   and undoes exactly what the node's record says nthd did.
 * - Restart: `resume()` finds nodes by nthd's state label, resumes drains
 *   that were running and re-arms scheduled ones.
 */
import { type Logger, pino } from "pino";
import type { Config } from "../config/settings.ts";
import { errorMessage, isNthdError, NthdError } from "../errors.ts";
import type { KubeClient } from "../kube/client.ts";
import type { Notice } from "../notice.ts";
import { countAction, countDrain, countInterruption, observeCordoned } from "../observe/metrics.ts";
import {
  type EngineContext,
  logFor,
  makeReport,
  type NodeCache,
  planSettingsOf,
  type ReportBase,
  type Work,
} from "./context.ts";
import { createDrainEvents, STEP_REASONS } from "./events.ts";
import { drain, dryRun, mark } from "./node-drain.ts";
import { recordSchedule, waitForStart } from "./node-schedule.ts";
import { updateNode } from "./node-update.ts";
import { actionFor, cancelledId, type EngineAction, sameFamily } from "./policy.ts";
import { poolOf } from "./pool.ts";
import {
  isScheduled,
  joinPatch,
  type NodeRecord,
  readRecord,
  readState,
  recordToNotice,
  STATE_LABEL,
} from "./record.ts";
import type { DrainReport, DrainResult } from "./report.ts";
import { drainStartFor } from "./schedule.ts";
import { createSlots } from "./slots.ts";
import { release } from "./uncordon.ts";

export interface DrainEngineDeps {
  readonly kube: KubeClient;
  readonly config: Config;
  readonly log?: Logger;
  readonly clock?: () => Date;
}

export interface HandleResult {
  /**
   * The notice is durable on the node: cordon + record written, or for a
   * drain scheduled ahead the scheduled record. Rejects with an NthdError.
   */
  readonly recorded: Promise<void>;
  /** The work is over. Never rejects: failures are a report with result "failed". */
  readonly done: Promise<DrainReport>;
}

export interface ResumedWork {
  readonly nodeName: string;
  /** A notice from the node's record, with its detail (lifecycle action facts etc.). */
  readonly notice: Notice;
  readonly done: Promise<DrainReport>;
}

export interface DrainEngine {
  handle(notice: Notice, nodeName: string): HandleResult;
  /**
   * Start-up: finds nodes carrying nthd's state label (only `nodeName` in
   * IMDS mode), resumes drains that were running and re-arms scheduled
   * ones. Returns one entry per
   * recorded notice, finished ones included, so a source can finish what they
   * asked (e.g. complete an ASG lifecycle action).
   */
  resume(opts?: { nodeName?: string }): Promise<ResumedWork[]>;
  /** Nodes with work in progress. */
  active(): string[];
  /**
   * Lets cordons build on the informer's copy of the node instead of reading
   * it first: one API request per cordon instead of two when a thousand
   * nodes are being cordoned at once.
   */
  useNodeCache(cache: NodeCache): void;
  /** Aborts running work (records stay, so a restart resumes) and waits for it. */
  close(): Promise<void>;
}

export function createDrainEngine(deps: DrainEngineDeps): DrainEngine {
  const { kube, config } = deps;
  const clock = deps.clock ?? (() => new Date());
  const baseLog = deps.log ?? pino({ level: "silent" });
  const events = createDrainEvents({ kube, config, log: baseLog, clock });
  const ctx: EngineContext = {
    kube,
    config,
    clock,
    log: baseLog,
    events,
    planSettings: planSettingsOf(config),
  };
  const slots = createSlots(config.maxConcurrentDrains);
  const works = new Map<string, Work>();
  let closed = false;

  /** The notice's own deadline, else node-termination-grace-period from now. */
  const drainDeadline = (notice: Notice): Date =>
    notice.deadline ??
    new Date(clock().getTime() + config.nodeTerminationGracePeriodSeconds * 1000);

  const report = (
    w: ReportBase,
    action: EngineAction,
    result: DrainResult,
    extra?: Parameters<typeof makeReport>[4],
  ) => makeReport(ctx, w, action, result, extra);

  function settled(
    nodeName: string,
    notice: Notice,
    result: DrainResult,
    message: string,
  ): HandleResult {
    const done = Promise.resolve(
      report({ nodeName, notice, joined: [], startedAt: clock(), resumed: false }, "none", result, {
        message,
      }),
    );
    return { recorded: Promise.resolve(), done };
  }

  // --- work lifecycle ---------------------------------------------------------------

  type Hooks = { resolve(): void; reject(err: unknown): void };

  async function run(
    w: Work,
    recorded: Hooks,
    marked: Hooks,
    after: Promise<unknown> | undefined,
  ): Promise<DrainReport> {
    const log = logFor(ctx, w.notice, w.nodeName);
    // Whether nthd's cordon is on the node (a resumed drain's was written before the restart).
    let cordoned = w.resumed && !w.waiting;
    try {
      if (after) await after.catch(() => {});
      if (config.dryRun) {
        const r = await dryRun(ctx, w, log);
        recorded.resolve();
        marked.resolve();
        return r;
      }
      if (w.waiting) {
        await schedule(w, log);
        // Unless nthd turned out to hold the node already (then the cordon records it).
        if (w.drainAt !== undefined) recorded.resolve();
        await waitForStart(w, clock, w.cancel.signal);
        w.waiting = false;
      }
      if (!cordoned) {
        const m = await mark(ctx, w, log);
        if (m.state === "withdrawn") {
          recorded.resolve();
          marked.reject(new NthdError("DRAIN_FAILED", m.reason));
          log.info(m.reason);
          return report(w, w.action, "cancelled", { message: `cancelled: ${m.reason}` });
        }
        cordoned = true;
        recorded.resolve();
        marked.resolve();
        if (m.fresh) countInterruption(w.notice.kind, poolOf(m.node, w.notice));
        countAction(w.notice.kind, "cordon", "success");
        if (w.drainAt === undefined) {
          observeCordoned(w.notice, clock());
          events.notice(w.nodeName, w.notice);
        }
        events.step(
          w.nodeName,
          STEP_REASONS.cordon,
          `cordoned for ${w.notice.kind} notice ${w.notice.id}`,
        );
        log.info({ action: w.action, deadline: w.deadlineAt }, "node cordoned and recorded");
        if (m.state === "already-drained") {
          return report(w, "drain", "drained", { message: "already drained for this notice" });
        }
      } else {
        recorded.resolve();
        marked.resolve();
      }
      if (w.action === "cordon") return report(w, "cordon", "cordoned", { message: "cordoned" });
      await slots.acquire(w.cancel.signal);
      try {
        return await drain(ctx, w, log);
      } finally {
        slots.release();
      }
    } catch (err) {
      recorded.reject(err);
      marked.reject(err);
      if (w.cancel.signal.aborted) {
        return report(w, w.action, "cancelled", {
          message: `cancelled: ${errorMessage(w.cancel.signal.reason)}`,
        });
      }
      const message = errorMessage(err);
      const wasRecorded = cordoned;
      log.error(
        { err: message, code: isNthdError(err) ? err.code : undefined },
        "node work failed",
      );
      if (!config.dryRun) {
        countAction(w.notice.kind, wasRecorded ? "cordon-and-drain" : "cordon", "error");
        countDrain(
          w.notice.kind,
          "failed",
          isNthdError(err, "KUBE_NODE_NOT_FOUND") ? "node-not-found" : "kube-api-error",
        );
        events.step(
          w.nodeName,
          wasRecorded ? STEP_REASONS.drainError : STEP_REASONS.cordonError,
          message,
        );
      }
      return report(w, w.action, "failed", { message });
    }
  }

  /**
   * Scheduled work, before its wait: the scheduled record (unless resumed
   * from one), the notice's Event and the interruption count.
   */
  async function schedule(w: Work, log: Logger): Promise<void> {
    if (w.resumed) return;
    const { outcome, node } = await recordSchedule(ctx, w, log);
    if (outcome === "act-now") {
      // nthd already holds the node for other work; this notice joins it now.
      log.info("node already held by nthd; scheduled notice handled now");
      w.drainAt = undefined;
      return;
    }
    const at = (w.drainAt ?? clock()).toISOString();
    if (outcome === "scheduled") {
      countInterruption(w.notice.kind, poolOf(node, w.notice));
      const what = w.action === "drain" ? "cordon and drain" : "cordon";
      events.notice(w.nodeName, w.notice, `nthd will ${what} the node at ${at}`);
    }
    log.info({ drainAt: at, deadline: w.deadlineAt, outcome }, "notice recorded; drain scheduled");
  }

  function start(
    notice: Notice,
    nodeName: string,
    action: "drain" | "cordon",
    opts: { after?: Promise<unknown>; resumeRecord?: NodeRecord; drainAt?: Date } = {},
  ): Work {
    const resumeRecord = opts.resumeRecord;
    const drainAt = config.dryRun ? undefined : opts.drainAt;
    const w: Work = {
      nodeName,
      notice,
      action,
      ids: new Set(resumeRecord ? resumeRecord.notices.map((n) => n.id) : [notice.id]),
      kinds: new Set(resumeRecord ? resumeRecord.notices.map((n) => n.kind) : [notice.kind]),
      joined: resumeRecord ? resumeRecord.notices.slice(1).map((n) => n.id) : [],
      cancel: new AbortController(),
      startedAt: clock(),
      resumed: resumeRecord !== undefined,
      deadlineAt: resumeRecord ? new Date(resumeRecord.deadline) : drainDeadline(notice),
      deadline: undefined,
      record: resumeRecord,
      drainAt,
      waiting: drainAt !== undefined,
      wake: undefined,
      recorded: Promise.resolve(),
      marked: Promise.resolve(),
      done: Promise.resolve(undefined as unknown as DrainReport),
    };
    let recordedHooks!: Hooks;
    let markedHooks!: Hooks;
    w.recorded = new Promise<void>((resolve, reject) => {
      recordedHooks = { resolve, reject };
    });
    w.marked = new Promise<void>((resolve, reject) => {
      markedHooks = { resolve, reject };
    });
    // A caller that only awaits `done` must not see an unhandled rejection.
    w.recorded.catch(() => {});
    w.marked.catch(() => {});
    w.done = run(w, recordedHooks, markedHooks, opts.after).finally(() => {
      if (works.get(nodeName) === w) works.delete(nodeName);
    });
    works.set(nodeName, w);
    return w;
  }

  function join(w: Work, notice: Notice, action: "drain" | "cordon"): HandleResult {
    w.ids.add(notice.id);
    w.kinds.add(notice.kind);
    w.joined.push(notice.id);
    const deadline = drainDeadline(notice);
    if (deadline < w.deadlineAt) {
      w.deadlineAt = deadline;
      w.deadline?.tighten(deadline);
    }
    // Joining scheduled work that has not started: the joiner may want it
    // sooner (a Spot interruption: now) or want a drain rather than a cordon.
    let now = true;
    if (w.waiting) {
      const start = drainStartFor(notice, clock(), config.scheduledDrainLeadSeconds);
      now = start === undefined;
      if (action === "drain") w.action = "drain";
      const at = start ?? clock();
      if (w.drainAt !== undefined && at < w.drainAt) {
        w.drainAt = at;
        w.wake?.();
      }
    }
    logFor(ctx, notice, w.nodeName).info(
      { joins: w.notice.id, ...(w.waiting ? { drainAt: w.drainAt } : {}) },
      "notice joins the work already running on the node",
    );
    // A notice to act on now is recorded once the node is cordoned; one that
    // can wait, once it is in the scheduled record.
    const recorded = (now ? w.marked : w.recorded).then(async () => {
      if (config.dryRun) return;
      await updateNode(kube, w.nodeName, (node) => {
        const current = readRecord(node);
        return current.ok && current.record
          ? joinPatch(node, current.record, notice, deadline, {
              ...(w.drainAt ? { drainAt: w.drainAt } : {}),
              action: w.action,
            })
          : null;
      });
    });
    recorded.catch(() => {});
    return { recorded, done: w.done };
  }

  // --- uncordon -------------------------------------------------------------------

  function uncordon(notice: Notice, nodeName: string): HandleResult {
    const startedAt = clock();
    const w = works.get(nodeName);
    if (w && ![...w.kinds].every((kind) => sameFamily(kind, notice.kind))) {
      return settled(
        nodeName,
        notice,
        "ignored",
        `a ${w.notice.kind} drain is running on the node; left as it is`,
      );
    }
    const named = cancelledId(notice);
    if (w && named !== undefined && (!w.ids.has(named) || w.ids.size > 1)) {
      // A cancel for another event (IMDS lists old ones for days), or for one
      // of several notices holding the node: the work goes on.
      return settled(
        nodeName,
        notice,
        "ignored",
        `cancels ${named}, but nthd holds the node for ${[...w.ids].join(", ")}; left as it is`,
      );
    }
    const done = (async () => {
      if (w) {
        const what = w.waiting ? "scheduled drain" : "drain";
        w.cancel.abort(new Error(`${notice.kind} notice ${notice.id} cancelled it`));
        await w.done;
        events.step(
          nodeName,
          STEP_REASONS.cancel,
          `${what} for ${w.notice.id} cancelled by ${notice.id}`,
        );
      }
      return release(ctx, notice, nodeName, startedAt);
    })();
    const recorded = done.then((r) => {
      if (r.result === "failed") throw new NthdError("KUBE_API", r.message);
    });
    recorded.catch(() => {});
    return { recorded, done };
  }

  // --- public API -------------------------------------------------------------------

  return {
    handle(notice, nodeName) {
      if (closed) return settled(nodeName, notice, "ignored", "engine is shutting down");
      const action = actionFor(notice, config);
      if (action === "none")
        return settled(nodeName, notice, "ignored", `${notice.action}: nothing to do on a node`);
      if (action === "uncordon") return uncordon(notice, nodeName);
      const running = works.get(nodeName);
      if (running) {
        if (running.ids.has(notice.id)) return { recorded: running.recorded, done: running.done };
        if (running.action === "drain" || action === "cordon" || running.waiting) {
          return join(running, notice, action);
        }
        const w = start(notice, nodeName, action, { after: running.done });
        return { recorded: w.recorded, done: w.done };
      }
      const drainAt = drainStartFor(notice, clock(), config.scheduledDrainLeadSeconds);
      const w = start(notice, nodeName, action, drainAt ? { drainAt } : {});
      return { recorded: w.recorded, done: w.done };
    },

    async resume(opts = {}) {
      if (config.dryRun) return [];
      const { nodes } = await kube.listNodes({ labelSelector: STATE_LABEL, lane: "urgent" });
      const out: ResumedWork[] = [];
      for (const node of nodes) {
        const nodeName = node.metadata?.name ?? "";
        if (opts.nodeName && nodeName !== opts.nodeName) continue;
        if (works.has(nodeName)) continue;
        const current = readRecord(node);
        if (!current.ok) {
          baseLog.warn(
            { node: nodeName, err: current.error },
            "cannot resume: damaged nthd record",
          );
          continue;
        }
        const record = current.record;
        if (!record) continue;
        const notices = record.notices.map(recordToNotice);
        const first = notices[0] as Notice;
        const state = readState(node);
        const stillTime = new Date(record.deadline).getTime() > clock().getTime();
        let done: Promise<DrainReport>;
        const base = {
          nodeName,
          notice: first,
          joined: notices.slice(1).map((n) => n.id),
          startedAt: clock(),
          resumed: true,
        };
        if (isScheduled(record)) {
          const drainAt = new Date(record.drainAt ?? clock());
          logFor(ctx, first, nodeName).info(
            { drainAt },
            "re-arming the drain scheduled on the node",
          );
          done = start(first, nodeName, record.action, { resumeRecord: record, drainAt }).done;
        } else if (
          record.action === "drain" &&
          (state === "draining" || (state === "incomplete" && stillTime))
        ) {
          if (node.spec?.unschedulable !== true) {
            // Uncordoned while nthd was away: the operator's word wins.
            logFor(ctx, first, nodeName).warn(
              "node was uncordoned while nthd was down; not resuming its drain",
            );
            done = Promise.resolve(
              report(base, "drain", "cancelled", {
                message: "uncordoned by someone else while nthd was down",
              }),
            );
          } else {
            logFor(ctx, first, nodeName).info({ state }, "resuming drain recorded on the node");
            done = start(first, nodeName, "drain", { resumeRecord: record }).done;
          }
        } else {
          const result: DrainResult =
            state === "drained"
              ? "drained"
              : state === "cordoned"
                ? "cordoned"
                : state === "incomplete"
                  ? "deadline-exceeded"
                  : "failed";
          done = Promise.resolve(
            report(base, record.action, result, {
              message: `recorded as ${state ?? "unknown"} before restart`,
            }),
          );
        }
        for (const notice of notices) out.push({ nodeName, notice, done });
      }
      return out;
    },

    active() {
      return [...works.keys()];
    },

    useNodeCache(cache) {
      ctx.nodeCache = cache;
    },

    async close() {
      closed = true;
      const running = [...works.values()];
      for (const w of running) w.cancel.abort(new Error("nthd is shutting down"));
      await Promise.allSettled(running.map((w) => w.done));
      await events.flush();
    },
  };
}

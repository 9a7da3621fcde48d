/**
 * The drain engine: turns a Notice into actions on one node.
 *
 * Decisions are pure and live beside it: `admission.ts` (what a new notice
 * does given the node's running work), `resume-plan.ts` (what a restart does
 * with a recorded one), the planner and the policy. This module keeps the
 * per-node work table and carries those decisions out; `work-run.ts` runs one
 * piece of work and `announce.ts` tells metrics, Events, logs and webhooks.
 *
 * - Cancel: an `uncordon` notice of the same family aborts the running drain
 *   and undoes exactly what the node's record says nthd did.
 * - Restart: `resume()` finds nodes by nthd's state label, resumes drains
 *   that were running and re-arms scheduled ones.
 * - Several replicas (queue mode, `useReplicas`): the record names the
 *   replica that owns the node's work; a notice for work a live replica
 *   owns joins its record and is not acted on here (follow.ts), work whose
 *   owner went away is adopted (adoption.ts), and notices that need
 *   completion are handed to the source by the owner alone (duties.ts).
 */
import { type Logger, pino } from "pino";
import { Semaphore } from "../async/semaphore.ts";
import { sharedRead } from "../async/shared-read.ts";
import type { Config } from "../config/index.ts";
import { NthdError } from "../errors.ts";
import type { KubeClient } from "../kube/client.ts";
import type { DutyHandler, Notice } from "../notice.ts";
import { noticeLogger } from "../observe/log.ts";
import type { Webhook } from "../observe/webhook.ts";
import { admit, admitCancel, type JoinEffect } from "./admission.ts";
import { type Adopter, createAdopter } from "./adoption.ts";
import { createAnnouncer } from "./announce.ts";
import {
  type EngineContext,
  makeReport,
  type NodeCache,
  planSettingsOf,
  type Replicas,
  type Work,
} from "./context.ts";
import { createDuties } from "./duties.ts";
import { createDrainEvents } from "./events.ts";
import type { RebootDecision } from "./nth-marks.ts";
import { releaseNthRebootMarks } from "./nth-reboot.ts";
import { joinPatch, readRecord } from "./record.ts";
import { updateNode } from "./record-write.ts";
import { release } from "./release.ts";
import type { DrainReport, DrainResult } from "./report.ts";
import { resumeRecorded } from "./resume.ts";
import { Wakeups } from "./wakeups.ts";
import { startWork, type WorkStart } from "./work-run.ts";

/** How long one list of the cluster's PodDisruptionBudgets serves drains that start. */
const PDB_LIST_MAX_AGE_MS = 5000;

export interface DrainEngineDeps {
  readonly kube: KubeClient;
  readonly config: Config;
  readonly log?: Logger;
  readonly clock?: () => Date;
  /** Told of every notice's outcome once its work is over. */
  readonly webhook?: Pick<Webhook, "notify"> | undefined;
}

/** What `handle` returns: the engine's side of the notice contract, with the full report. */
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
   * IMDS mode), resumes drains that were running and re-arms scheduled ones.
   * Returns one entry per recorded notice, finished ones included, so a
   * source can finish what they asked (e.g. complete an ASG lifecycle action).
   */
  resume(opts?: { nodeName?: string }): Promise<ResumedWork[]>;
  /** Nodes with work in progress. */
  active(): string[];
  /**
   * IMDS mode start-up: gives the node back if aws-node-termination-handler
   * cordoned it for a scheduled reboot that has since happened (nth-marks.ts).
   */
  afterReboot(nodeName: string, uptimeSeconds: number): Promise<RebootDecision["kind"]>;
  /** A source keeps failing: a MonitorError Warning Event on the node it watches for. */
  monitorError(nodeName: string, message: string): void;
  /**
   * Lets cordons build on the informer's copy of the node instead of reading
   * it first: one API request per cordon instead of two when a thousand
   * nodes are being cordoned at once.
   */
  useNodeCache(cache: NodeCache): void;
  /**
   * Queue mode: the replicas sharing the queue (call after useNodeCache,
   * before resume). From then on records name their owner, and work whose
   * owner went away is adopted.
   */
  useReplicas(replicas: Replicas): void;
  /** Where notices that need completion go once this replica owns their work. */
  onDuty(handler: DutyHandler): void;
  /**
   * Aborts running work (records stay, so a restart or another replica
   * resumes it), stops handing out and keeping duties, and waits for both.
   */
  close(): Promise<void>;
}

export function createDrainEngine(deps: DrainEngineDeps): DrainEngine {
  const { kube, config } = deps;
  const clock = deps.clock ?? (() => new Date());
  const log = deps.log ?? pino({ level: "silent" });
  const events = createDrainEvents({ kube, config, log, clock });
  const announce = createAnnouncer({ events, clock, webhook: deps.webhook });
  const ctx: EngineContext = {
    kube,
    config,
    clock,
    log,
    events,
    announce,
    planSettings: planSettingsOf(config),
    // The planner uses PDBs only to order evictions (the Eviction API
    // enforces them), so an answer a few seconds old serves every drain that
    // starts meanwhile: one list instead of one per drain and pass.
    pdbs: sharedRead(() => kube.listPodDisruptionBudgets(), { maxAgeMs: PDB_LIST_MAX_AGE_MS }),
  };
  const slots = new Semaphore(config.maxConcurrentDrains);
  const works = new Map<string, Work>();
  const wakeups = new Wakeups();
  const duties = createDuties(ctx);
  let adopter: Adopter | undefined;
  let closed = false;

  const report = (w: Parameters<typeof makeReport>[1], result: DrainResult, message: string) =>
    makeReport(ctx, w, "none", result, { message });

  function settled(nodeName: string, notice: Notice, result: DrainResult, message: string) {
    const base = { nodeName, notice, joined: [], startedAt: clock(), resumed: false };
    return { recorded: Promise.resolve(), done: Promise.resolve(report(base, result, message)) };
  }

  function start(s: WorkStart): Work {
    const w = startWork(ctx, { slots, duties, wakeups }, s, (ended) => {
      if (works.get(ended.nodeName) === ended) works.delete(ended.nodeName);
      adopter?.ended(ended);
    });
    works.set(s.nodeName, w);
    return w;
  }

  function join(w: Work, notice: Notice, effect: JoinEffect): HandleResult {
    w.ids.add(notice.id);
    w.kinds.add(notice.kind);
    w.joined.push(notice.id);
    if (effect.deadlineAt < w.deadlineAt) {
      w.deadlineAt = effect.deadlineAt;
      w.deadline?.tighten(effect.deadlineAt);
    }
    if (w.waiting) {
      w.action = effect.action;
      w.drainAt = effect.drainAt;
      if (effect.wake) w.wake?.();
    }
    noticeLogger(log, notice, w.nodeName).info(
      { joins: w.notice.id, ...(w.waiting ? { drainAt: w.drainAt } : {}) },
      "notice joins the work already running on the node",
    );
    const recorded = (effect.actNow ? w.marked : w.recorded).then(async () => {
      if (config.dryRun) return;
      const result = await updateNode(kube, w.nodeName, (node) => {
        const current = readRecord(node);
        return current.ok && current.record
          ? joinPatch(node, current.record, notice, effect.noticeDeadline, {
              ...(w.drainAt ? { drainAt: w.drainAt } : {}),
              action: w.action,
            })
          : null;
      });
      // Work this replica owns finishes the joiner too (a lifecycle action, say).
      const current = result.found ? readRecord(result.node) : undefined;
      if (w.owned && w.following === undefined && current?.ok && current.record) {
        duties.handOut(w.nodeName, current.record, w.done);
      }
    });
    recorded.catch(() => {});
    return { recorded, done: w.done };
  }

  function uncordon(notice: Notice, nodeName: string): HandleResult {
    const startedAt = clock();
    const w = works.get(nodeName);
    const verdict = admitCancel(
      notice,
      w && { ids: w.ids, kinds: w.kinds, firstKind: w.notice.kind },
    );
    if (verdict.kind === "ignore") return settled(nodeName, notice, "ignored", verdict.reason);
    const done = (async () => {
      if (w && verdict.abortRunning) {
        const what = w.waiting ? "scheduled drain" : "drain";
        w.cancel.abort(new Error(`${notice.kind} notice ${notice.id} cancelled it`));
        await w.done;
        announce.cancelled(nodeName, what, w.notice.id, notice.id);
      }
      return release(ctx, notice, nodeName, startedAt);
    })();
    const recorded = done.then((r) => {
      if (r.result === "failed") throw new NthdError("KUBE_API", r.message);
    });
    recorded.catch(() => {});
    return { recorded, done };
  }

  function dispatch(notice: Notice, nodeName: string): HandleResult {
    if (closed) return settled(nodeName, notice, "ignored", "engine is shutting down");
    const running = works.get(nodeName);
    const a = admit(notice, running, clock(), config, config.dryRun);
    switch (a.kind) {
      case "ignore":
        return settled(nodeName, notice, "ignored", a.reason);
      case "uncordon":
        return uncordon(notice, nodeName);
      case "same":
        return { recorded: (running as Work).recorded, done: (running as Work).done };
      case "join":
        return join(running as Work, notice, a.effect);
      case "after-running":
      case "start": {
        const after = a.kind === "after-running" ? { after: (running as Work).done } : {};
        const at = a.kind === "start" && a.drainAt ? { drainAt: a.drainAt } : {};
        const w = start({
          notice,
          nodeName,
          action: a.action,
          deadline: a.deadline,
          ...after,
          ...at,
        });
        return { recorded: w.recorded, done: w.done };
      }
      default: {
        const unhandled: never = a;
        return unhandled;
      }
    }
  }

  /**
   * A notice that needs completion is done once its completion is settled:
   * recorded on the node by whichever replica finished it, or given up.
   */
  async function withCompletion(notice: Notice, nodeName: string, r: DrainReport) {
    if (!notice.needsCompletion || r.completion !== undefined || config.dryRun) return r;
    const node = ctx.nodeCache?.byName(nodeName);
    const read = node ? readRecord(node) : undefined;
    const record = read?.ok ? read.record : works.get(nodeName)?.record;
    return { ...r, completion: await duties.completion(notice.id, record) };
  }

  return {
    handle(notice, nodeName) {
      const handled = dispatch(notice, nodeName);
      const nlog = noticeLogger(log, notice, nodeName);
      const done = handled.done.then((r) => withCompletion(notice, nodeName, r));
      void done.then((r) => announce.settled(notice, nodeName, r, nlog));
      return { recorded: handled.recorded, done };
    },

    resume: (opts = {}) =>
      resumeRecorded(ctx, { ...opts, busy: (n) => closed || works.has(n), start, duties }),

    active: () => [...works.keys()],

    afterReboot: (nodeName, uptimeSeconds) => releaseNthRebootMarks(ctx, nodeName, uptimeSeconds),

    monitorError: (nodeName, message) => events.step(nodeName, "MonitorError", message),

    useNodeCache(cache) {
      ctx.nodeCache = cache;
      cache.onChange?.((name) => adopter?.nodeChanged(name));
    },

    useReplicas(replicas) {
      ctx.replicas = replicas;
      const a = createAdopter(ctx as EngineContext & { replicas: Replicas }, {
        works,
        start,
        duties,
        wakeups,
        slots,
      });
      adopter = a;
      replicas.onChange(() => a.scan());
      a.scan();
    },

    onDuty(handler) {
      ctx.duties = handler;
    },

    async close() {
      closed = true;
      adopter?.stop();
      const running = [...works.values()];
      for (const w of running) w.cancel.abort(new Error("nthd is shutting down"));
      duties.stopAll("nthd is shutting down");
      await Promise.allSettled(running.map((w) => w.done));
      await duties.settled();
      await events.flush();
    },
  };
}

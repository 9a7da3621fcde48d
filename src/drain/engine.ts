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
 * - Cancel: an `uncordon` notice of the same family aborts the running drain
 *   and undoes exactly what the node's record says nthd did.
 * - Restart: `resume()` finds nodes by nthd's state label and resumes drains
 *   that were running.
 */
import type { V1PodDisruptionBudget } from "@kubernetes/client-node";
import { type Logger, pino } from "pino";
import type { Config } from "../config/settings.ts";
import { errorMessage, isNthdError, NthdError } from "../errors.ts";
import { classifyKubeError } from "../kube/api-error.ts";
import type { KubeClient } from "../kube/client.ts";
import type { Notice, NoticeKind } from "../notice.ts";
import {
  countAction,
  countDrain,
  drainsInProgress,
  observeCordoned,
  observeDrained,
} from "../observe/metrics.ts";
import { createDeadline, type Deadline } from "./deadline.ts";
import { createDrainEvents, type DrainEvents, STEP_REASONS } from "./events.ts";
import { executePlan } from "./executor.ts";
import { retryTransient, updateNode } from "./node-update.ts";
import { type PlanSettings, planDrain } from "./planner.ts";
import { trackPods } from "./pod-tracker.ts";
import { actionFor, type EngineAction, sameFamily } from "./policy.ts";
import {
  joinPatch,
  markPatch,
  type NodeRecord,
  outOfServicePatch,
  readRecord,
  readState,
  recordToNotice,
  releasePatch,
  STATE_LABEL,
  statePatch,
} from "./record.ts";
import { type DrainReport, type DrainResult, type PodOutcome, summarize } from "./report.ts";

export interface DrainEngineDeps {
  readonly kube: KubeClient;
  readonly config: Config;
  readonly log?: Logger;
  readonly clock?: () => Date;
}

export interface HandleResult {
  /** The notice is durable on the node (cordon + record written). Rejects with an NthdError. */
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
   * IMDS mode) and resumes drains that were running. Returns one entry per
   * recorded notice, finished ones included, so a source can finish what they
   * asked (e.g. complete an ASG lifecycle action).
   */
  resume(opts?: { nodeName?: string }): Promise<ResumedWork[]>;
  /** Nodes with work in progress. */
  active(): string[];
  /** Aborts running work (records stay, so a restart resumes) and waits for it. */
  close(): Promise<void>;
}

interface Work {
  readonly nodeName: string;
  readonly notice: Notice;
  readonly action: "drain" | "cordon";
  readonly ids: Set<string>;
  /** Kinds of every notice in the work (a cancel must match them all). */
  readonly kinds: Set<NoticeKind>;
  readonly joined: string[];
  readonly cancel: AbortController;
  readonly startedAt: Date;
  readonly resumed: boolean;
  deadlineAt: Date;
  deadline: Deadline | undefined;
  record: NodeRecord | undefined;
  recorded: Promise<void>;
  done: Promise<DrainReport>;
}

/** A small counting semaphore whose waiters can be cancelled. */
function createSlots(size: number) {
  let free = size;
  const queue: Array<() => void> = [];
  return {
    async acquire(signal: AbortSignal): Promise<void> {
      if (signal.aborted) throw signal.reason;
      if (free > 0) {
        free--;
        return;
      }
      await new Promise<void>((resolve, reject) => {
        const grant = () => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        };
        const onAbort = () => {
          const i = queue.indexOf(grant);
          if (i !== -1) queue.splice(i, 1);
          reject(signal.reason);
        };
        queue.push(grant);
        signal.addEventListener("abort", onAbort, { once: true });
      });
    },
    release(): void {
      const next = queue.shift();
      if (next) next();
      else free++;
    },
  };
}

export function createDrainEngine(deps: DrainEngineDeps): DrainEngine {
  const { kube, config } = deps;
  const clock = deps.clock ?? (() => new Date());
  const baseLog = deps.log ?? pino({ level: "silent" });
  const events: DrainEvents = createDrainEvents({ kube, config, log: baseLog, clock });
  const slots = createSlots(config.maxConcurrentDrains);
  const works = new Map<string, Work>();
  let closed = false;

  const planSettings: PlanSettings = {
    ignoreDaemonSets: config.ignoreDaemonSets,
    deleteLocalData: config.deleteLocalData,
    evictUnmanagedPods: config.evictUnmanagedPods,
    podName: config.podName,
    podNamespace: config.podNamespace,
    podTerminationGracePeriodSeconds: config.podTerminationGracePeriodSeconds,
    deadlineSafetyMarginSeconds: config.deadlineSafetyMarginSeconds,
  };

  /** The notice's own deadline, else node-termination-grace-period from now. */
  const drainDeadline = (notice: Notice): Date =>
    notice.deadline ??
    new Date(clock().getTime() + config.nodeTerminationGracePeriodSeconds * 1000);

  const logFor = (notice: Notice, nodeName: string) =>
    baseLog.child({
      noticeId: notice.id,
      kind: notice.kind,
      instanceId: notice.instanceId,
      node: nodeName,
    });

  function report(
    w: Pick<Work, "nodeName" | "notice" | "joined" | "startedAt" | "resumed">,
    action: EngineAction,
    result: DrainResult,
    extra: { pods?: PodOutcome[]; message?: string; deadline?: Date } = {},
  ): DrainReport {
    const pods = extra.pods ?? [];
    return {
      nodeName: w.nodeName,
      noticeId: w.notice.id,
      joined: [...w.joined],
      kind: w.notice.kind,
      action,
      result,
      startedAt: w.startedAt,
      finishedAt: clock(),
      ...(extra.deadline ? { deadline: extra.deadline } : {}),
      pods,
      message: extra.message ?? summarize(result, pods, extra.deadline),
      resumed: w.resumed,
    };
  }

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

  // --- cordon + record ----------------------------------------------------------

  /** Writes cordon, taint, labels and record in one patch. Returns false when already drained. */
  async function mark(w: Work, log: Logger): Promise<"marked" | "already-drained"> {
    let record: NodeRecord | undefined;
    let alreadyDrained = false;
    const result = await updateNode(
      kube,
      w.nodeName,
      (node) => {
        const existing = readRecord(node);
        if (!existing.ok) log.warn({ err: existing.error }, "replacing a damaged nthd record");
        const previous = existing.ok ? existing.record : undefined;
        if (previous?.notices.some((n) => n.id === w.notice.id) && node.spec?.unschedulable) {
          // Redelivered notice, already recorded (by this process before a
          // restart, or by another replica).
          record = previous;
          alreadyDrained = readState(node) === "drained";
          return null;
        }
        if (previous && w.action === "cordon") {
          // Work already recorded on the node (a drain, say): add this notice to it.
          const patch = joinPatch(node, previous, w.notice);
          record = previous;
          return patch;
        }
        const built = markPatch(node, w.notice, w.action, w.deadlineAt, config, clock(), previous);
        record = built.record;
        return built.patch;
      },
      { lane: "urgent", signal: w.cancel.signal },
    );
    if (!result.found) {
      throw new NthdError("KUBE_NODE_NOT_FOUND", `node ${w.nodeName} not found`, {
        context: { node: w.nodeName },
      });
    }
    w.record = record;
    if (record) w.deadlineAt = new Date(record.deadline);
    return alreadyDrained ? "already-drained" : "marked";
  }

  async function listPdbs(log: Logger, signal: AbortSignal): Promise<V1PodDisruptionBudget[]> {
    try {
      return await kube.listPodDisruptionBudgets({ signal });
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

  // --- drain ----------------------------------------------------------------------

  async function drain(w: Work, log: Logger): Promise<DrainReport> {
    const deadline = createDeadline(w.deadlineAt, clock);
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
          () => kube.listPodsOnNode(w.nodeName, { fromCache: config.useApiserverCache, signal }),
          { signal },
        );
        const pdbs = await retryTransient(() => listPdbs(log, signal), { signal });
        const plan = planDrain({
          pods: pods.filter((p) => !handled.has(p.metadata?.uid ?? "")),
          pdbs,
          now: clock(),
          deadline: deadline.at(),
          settings: planSettings,
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
          kube,
          nodeName: w.nodeName,
          initial: pods,
          resourceVersion,
          log,
        });
        try {
          const next = await executePlan({
            kube,
            nodeName: w.nodeName,
            kind: w.notice.kind,
            plan,
            pods,
            tracker,
            settings: planSettings,
            deadline,
            clock,
            signal,
            log,
            events,
          });
          outcome = { result: next.result, pods: [...outcome.pods, ...next.pods] };
        } finally {
          tracker.stop();
        }
      }
      const r = report(w, "drain", outcome.result, { pods: outcome.pods, deadline: deadline.at() });
      if (outcome.result !== "cancelled") await finish(w, r, log);
      return r;
    } finally {
      deadline.dispose();
      drainsInProgress.dec();
    }
  }

  /** Records the outcome on the node, adds the out-of-service taint, tells Events and metrics. */
  async function finish(w: Work, r: DrainReport, log: Logger): Promise<void> {
    const ok = r.result === "drained";
    try {
      await kube.patchNode(w.nodeName, statePatch(ok ? "drained" : "incomplete"), {
        lane: "urgent",
      });
      if (ok && config.enableOutOfServiceTaint && w.record) {
        const record = w.record;
        await updateNode(kube, w.nodeName, (node) => {
          const current = readRecord(node);
          return outOfServicePatch(node, current.ok && current.record ? current.record : record);
        });
      }
    } catch (err) {
      log.warn({ err: errorMessage(err) }, "could not record the drain's outcome on the node");
    }
    countAction(w.notice.kind, "cordon-and-drain", ok ? "success" : "error");
    if (ok) {
      observeDrained(w.notice, clock());
      countDrain(w.notice.kind, "completed");
      events.step(w.nodeName, STEP_REASONS.drain, `node drained: ${r.message}`);
      log.info({ result: r.result }, r.message);
    } else {
      const blocked = r.pods.some((p) => p.outcome === "blocked");
      countDrain(
        w.notice.kind,
        r.result === "failed" ? "failed" : "deadline-exceeded",
        r.result === "failed" ? "eviction-error" : blocked ? "pdb-blocked" : "pods-not-terminated",
      );
      events.step(w.nodeName, STEP_REASONS.drainError, r.message);
      log.warn(
        {
          result: r.result,
          left: r.pods.filter(
            (p) => p.outcome !== "evicted" && p.outcome !== "gone" && p.outcome !== "skipped",
          ).length,
        },
        r.message,
      );
    }
  }

  async function dryRun(w: Work, log: Logger): Promise<DrainReport> {
    const node = await kube.getNode(w.nodeName);
    if (!node) throw new NthdError("KUBE_NODE_NOT_FOUND", `node ${w.nodeName} not found`);
    countAction(w.notice.kind, w.action === "drain" ? "cordon-and-drain" : "cordon", "dry-run");
    if (w.action === "cordon") {
      return report(w, "cordon", "dry-run", { message: "dry run: would cordon" });
    }
    const { pods } = await kube.listPodsOnNode(w.nodeName, { fromCache: config.useApiserverCache });
    const pdbs = await listPdbs(log, w.cancel.signal);
    const plan = planDrain({
      pods,
      pdbs,
      now: clock(),
      deadline: w.deadlineAt,
      settings: planSettings,
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
    const r = report(w, "drain", "dry-run", { pods: outcomes, deadline: w.deadlineAt });
    log.info(
      { pods: outcomes.map((p) => `${p.pod.namespace}/${p.pod.name}:${p.outcome}`) },
      r.message,
    );
    return r;
  }

  // --- work lifecycle ---------------------------------------------------------------

  async function run(
    w: Work,
    recorded: { resolve(): void; reject(err: unknown): void },
    after: Promise<unknown> | undefined,
  ): Promise<DrainReport> {
    const log = logFor(w.notice, w.nodeName);
    try {
      if (after) await after.catch(() => {});
      if (config.dryRun) {
        const r = await dryRun(w, log);
        recorded.resolve();
        return r;
      }
      if (!w.resumed) {
        const state = await mark(w, log);
        recorded.resolve();
        observeCordoned(w.notice, clock());
        countAction(w.notice.kind, "cordon", "success");
        events.notice(w.nodeName, w.notice);
        events.step(
          w.nodeName,
          STEP_REASONS.cordon,
          `cordoned for ${w.notice.kind} notice ${w.notice.id}`,
        );
        log.info({ action: w.action, deadline: w.deadlineAt }, "node cordoned and recorded");
        if (state === "already-drained") {
          return report(w, "drain", "drained", { message: "already drained for this notice" });
        }
      } else {
        recorded.resolve();
      }
      if (w.action === "cordon") return report(w, "cordon", "cordoned", { message: "cordoned" });
      await slots.acquire(w.cancel.signal);
      try {
        return await drain(w, log);
      } finally {
        slots.release();
      }
    } catch (err) {
      recorded.reject(err);
      if (w.cancel.signal.aborted) {
        return report(w, w.action, "cancelled", {
          message: `cancelled: ${errorMessage(w.cancel.signal.reason)}`,
        });
      }
      const message = errorMessage(err);
      const wasRecorded = w.record !== undefined;
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

  function start(
    notice: Notice,
    nodeName: string,
    action: "drain" | "cordon",
    opts: { after?: Promise<unknown>; resumeRecord?: NodeRecord } = {},
  ): Work {
    const resumeRecord = opts.resumeRecord;
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
      recorded: Promise.resolve(),
      done: Promise.resolve(undefined as unknown as DrainReport),
    };
    let hooks!: { resolve(): void; reject(err: unknown): void };
    w.recorded = new Promise<void>((resolve, reject) => {
      hooks = { resolve, reject };
    });
    // A caller that only awaits `done` must not see an unhandled rejection.
    w.recorded.catch(() => {});
    w.done = run(w, hooks, opts.after).finally(() => {
      if (works.get(nodeName) === w) works.delete(nodeName);
    });
    works.set(nodeName, w);
    return w;
  }

  function join(w: Work, notice: Notice): HandleResult {
    w.ids.add(notice.id);
    w.kinds.add(notice.kind);
    w.joined.push(notice.id);
    const deadline = drainDeadline(notice);
    if (deadline < w.deadlineAt) {
      w.deadlineAt = deadline;
      w.deadline?.tighten(deadline);
    }
    logFor(notice, w.nodeName).info(
      { joins: w.notice.id },
      "notice joins the work already running on the node",
    );
    const recorded = w.recorded.then(async () => {
      if (config.dryRun) return;
      await updateNode(kube, w.nodeName, (node) => {
        const current = readRecord(node);
        return current.ok && current.record
          ? joinPatch(node, current.record, notice, deadline)
          : null;
      });
    });
    recorded.catch(() => {});
    return { recorded, done: w.done };
  }

  // --- uncordon -------------------------------------------------------------------

  async function release(notice: Notice, nodeName: string, startedAt: Date): Promise<DrainReport> {
    const log = logFor(notice, nodeName);
    const base = { nodeName, notice, joined: [], startedAt, resumed: false };
    let verdict = "";
    try {
      const result = await updateNode(kube, nodeName, (node) => {
        const current = readRecord(node);
        if (!current.ok) {
          verdict = `nthd's record on the node is damaged (${current.error}); left as it is`;
          return null;
        }
        const record = current.record;
        if (!record) {
          verdict = "nthd did not cordon this node; left as it is";
          return null;
        }
        const others = record.notices.filter((n) => !sameFamily(n.kind, notice.kind));
        if (others.length > 0) {
          verdict = `nthd also holds the node for ${others.map((n) => `${n.kind} ${n.id}`).join(", ")}; left cordoned`;
          return null;
        }
        if (config.dryRun) {
          verdict = "dry run: would uncordon";
          return null;
        }
        return releasePatch(node, record);
      });
      if (!result.found)
        return report(base, "uncordon", "ignored", { message: `node ${nodeName} not found` });
      if (!result.patched) {
        log.info(verdict);
        if (config.dryRun) countAction(notice.kind, "uncordon", "dry-run");
        return report(
          base,
          "uncordon",
          config.dryRun && verdict.startsWith("dry") ? "dry-run" : "ignored",
          {
            message: verdict,
          },
        );
      }
      countAction(notice.kind, "uncordon", "success");
      events.step(
        nodeName,
        STEP_REASONS.uncordon,
        `nthd's cordon and marks removed (${notice.kind} notice ${notice.id})`,
      );
      log.info("node uncordoned");
      return report(base, "uncordon", "uncordoned", { message: "uncordoned" });
    } catch (err) {
      countAction(notice.kind, "uncordon", "error");
      events.step(nodeName, STEP_REASONS.uncordonError, errorMessage(err));
      log.error({ err: errorMessage(err) }, "uncordon failed");
      return report(base, "uncordon", "failed", { message: errorMessage(err) });
    }
  }

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
    const done = (async () => {
      if (w) {
        w.cancel.abort(new Error(`${notice.kind} notice ${notice.id} cancelled it`));
        await w.done;
        events.step(
          nodeName,
          STEP_REASONS.cancel,
          `drain for ${w.notice.id} cancelled by ${notice.id}`,
        );
      }
      return release(notice, nodeName, startedAt);
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
        if (running.action === "drain" || action === "cordon") return join(running, notice);
        const w = start(notice, nodeName, action, { after: running.done });
        return { recorded: w.recorded, done: w.done };
      }
      const w = start(notice, nodeName, action);
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
        if (
          record.action === "drain" &&
          (state === "draining" || (state === "incomplete" && stillTime))
        ) {
          if (node.spec?.unschedulable !== true) {
            // Uncordoned while nthd was away: the operator's word wins.
            logFor(first, nodeName).warn(
              "node was uncordoned while nthd was down; not resuming its drain",
            );
            done = Promise.resolve(
              report(base, "drain", "cancelled", {
                message: "uncordoned by someone else while nthd was down",
              }),
            );
          } else {
            logFor(first, nodeName).info({ state }, "resuming drain recorded on the node");
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

    async close() {
      closed = true;
      const running = [...works.values()];
      for (const w of running) w.cancel.abort(new Error("nthd is shutting down"));
      await Promise.allSettled(running.map((w) => w.done));
      await events.flush();
    },
  };
}

/**
 * The steps of scheduled work before its drain: write the scheduled record
 * (one patch, nothing else changed on the node) and wait, abortably and
 * without holding the process open, until the drain's start.
 */
import type { V1Node } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { NthdError } from "../errors.ts";
import type { EngineContext, Work } from "./context.ts";
import { ownerPatch, ownershipOf } from "./ownership.ts";
import { isScheduled, joinPatch, readRecord } from "./record.ts";
import { updateNode } from "./record-write.ts";
import { schedulePatch } from "./schedule.ts";

export type ScheduleOutcome =
  /** The notice is now in a scheduled record on the node. */
  | "scheduled"
  /** It already was (a redelivery, or another replica recorded it). */
  | "recorded-before"
  /** nthd already holds the node for other work (cordoned, draining): act now. */
  | "act-now"
  /** Another live replica owns the node's work: the notice joined its record. */
  | "held";

const sooner = (a: Date, b: Date): Date => (b.getTime() < a.getTime() ? b : a);

export async function recordSchedule(
  ctx: EngineContext,
  w: Work,
  log: Logger,
): Promise<{ outcome: ScheduleOutcome; node: V1Node; owner?: string }> {
  let outcome = "scheduled" as ScheduleOutcome;
  let owner: string | undefined;
  const me = ctx.replicas?.me;
  const alive = (o: string) => ctx.replicas?.alive(o) ?? false;
  const result = await updateNode(
    ctx.kube,
    w.nodeName,
    (node) => {
      const drainAt = w.drainAt ?? ctx.clock();
      const existing = readRecord(node);
      if (!existing.ok) log.warn({ err: existing.error }, "replacing a damaged nthd record");
      const previous = existing.ok ? existing.record : undefined;
      const own = ownershipOf(previous, me, alive);
      const recorded = previous?.notices.some((n) => n.id === w.notice.id) === true;
      const change = { drainAt, action: w.action };
      if (own.kind === "held" && previous !== undefined) {
        // Another replica's work: the notice joins its record (maybe bringing its start forward).
        outcome = "held";
        owner = own.owner;
        return recorded ? null : joinPatch(node, previous, w.notice, w.deadlineAt, change);
      }
      if (previous && !isScheduled(previous)) {
        outcome = "act-now";
        return null;
      }
      const claim = me !== undefined && previous !== undefined && previous.owner !== me;
      if (recorded && previous) {
        outcome = "recorded-before";
        return claim ? ownerPatch(node, previous, me as string) : null;
      }
      outcome = "scheduled";
      if (previous) {
        // Another scheduled event for the same node: one record, the sooner start.
        const base = me !== undefined ? { ...previous, owner: me } : previous;
        return joinPatch(node, base, w.notice, w.deadlineAt, change);
      }
      return schedulePatch(node, w.notice, w.action, w.deadlineAt, drainAt, ctx.clock(), me).patch;
    },
    { lane: "urgent", signal: w.cancel.signal },
  );
  if (!result.found) {
    throw new NthdError("KUBE_NODE_NOT_FOUND", `node ${w.nodeName} not found`, {
      context: { node: w.nodeName },
    });
  }
  if (outcome === "held") return { outcome, node: result.node, ...(owner ? { owner } : {}) };
  w.claimedVersion = result.node.metadata?.resourceVersion;
  if (outcome !== "act-now") {
    const current = readRecord(result.node);
    const record = current.ok ? current.record : undefined;
    if (record?.drainAt !== undefined) {
      // The record may hold an earlier start or deadline (another notice);
      // a notice that joined meanwhile may have brought ours forward too.
      w.record = record;
      w.deadlineAt = sooner(w.deadlineAt, new Date(record.deadline));
      w.drainAt = sooner(w.drainAt ?? ctx.clock(), new Date(record.drainAt));
      if (record.action === "drain") w.action = "drain";
    }
  }
  return { outcome, node: result.node };
}

/**
 * Resolves when `w.drainAt` is reached (re-read after each wake, so a start
 * brought forward takes effect at once); rejects when `signal` aborts. The
 * timer is unref'd: a pending scheduled drain never keeps the process alive
 * by itself, and delays longer than setTimeout's limit are waited in steps.
 */
export async function waitForStart(w: Work, clock: () => Date, signal: AbortSignal): Promise<void> {
  for (;;) {
    signal.throwIfAborted();
    const ms = (w.drainAt ?? clock()).getTime() - clock().getTime();
    if (ms <= 0) return;
    await new Promise<void>((resolve, reject) => {
      const finish = (err?: unknown) => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        w.wake = undefined;
        if (err === undefined) resolve();
        else reject(err);
      };
      const onAbort = () => finish(signal.reason ?? new Error("aborted"));
      const timer = setTimeout(finish, Math.min(ms, 2 ** 31 - 1));
      timer.unref();
      signal.addEventListener("abort", onAbort, { once: true });
      w.wake = () => finish();
    });
  }
}

/**
 * Notices that need completion after their work (an Auto Scaling terminate
 * lifecycle action): the replica that owns the node's work hands each one to
 * its source, once at a time, and records on the node that it was finished
 * before telling anyone, so a replica that adopts the work later, or a
 * message delivered again, never finishes it a second time.
 *
 * The notice handed over comes from the node's record: a message that
 * expired or went to another replica strands nothing.
 */
import { errorMessage } from "../errors.ts";
import type { DutyHandler } from "../notice.ts";
import type { EngineContext } from "./context.ts";
import { noticeOutcomeOf } from "./outcome.ts";
import { finishedPatch, unfinished } from "./ownership.ts";
import { type NodeRecord, type NoticeRecord, readRecord, recordToNotice } from "./record.ts";
import { updateNode } from "./record-write.ts";
import type { DrainReport } from "./report.ts";

export type Completion = "completed" | "open";

/** A duty that ended without finishing is not handed out again sooner than this. */
export const DUTY_RETRY_PAUSE_MS = 30_000;
/** How long a settled duty's answer is kept for the messages that ask after it. */
const KEEP_SETTLED_MS = 10 * 60_000;

interface Track {
  readonly nodeName: string;
  readonly stop: AbortController;
  readonly result: Promise<Completion>;
  settledAt: number | undefined;
  settled: Completion | undefined;
}

export interface Duties {
  /** Hands every unfinished notice of the record that no duty is working on to the source. */
  handOut(nodeName: string, record: NodeRecord, done: Promise<DrainReport>): void;
  /** Whether the record leaves a notice unfinished that no duty works on now (a retry is due). */
  pending(record: NodeRecord): boolean;
  /** What became of a notice: its duty's answer (waited for), else what the record says. */
  completion(noticeId: string, record: NodeRecord | undefined): Promise<Completion>;
  /** Stops the node's duties (this replica no longer owns its work). */
  stop(nodeName: string, reason: string): void;
  stopAll(reason: string): void;
  settled(): Promise<void>;
}

type DutyContext = Pick<EngineContext, "kube" | "clock" | "log" | "config" | "nodeCache"> & {
  readonly replicas?: EngineContext["replicas"];
  readonly duties?: DutyHandler;
};

export function createDuties(ctx: DutyContext): Duties {
  const tracks = new Map<string, Track>();

  function prune(now: number): void {
    for (const [id, t] of tracks) {
      if (t.settledAt !== undefined && now - t.settledAt > KEEP_SETTLED_MS) tracks.delete(id);
    }
  }

  /** A notice may be handed out: nothing works on it, and a failed try has rested. */
  function due(n: NoticeRecord, now: number): boolean {
    const t = tracks.get(n.id);
    if (t === undefined) return true;
    if (t.settled === undefined || t.settled === "completed") return false;
    // Stopped (not failed): whoever owns the work now takes it up at once.
    if (t.stop.signal.aborted) return true;
    return now - (t.settledAt ?? now) >= DUTY_RETRY_PAUSE_MS;
  }

  async function record(nodeName: string, id: string, how: "completed" | "gone") {
    await updateNode(
      ctx.kube,
      nodeName,
      (node) => {
        const current = readRecord(node);
        if (!current.ok || current.record === undefined) return null;
        return finishedPatch(node, current.record, id, how, ctx.clock(), ctx.replicas?.me);
      },
      { lane: "urgent", cached: ctx.nodeCache?.byName(nodeName) },
    );
  }

  function start(nodeName: string, n: NoticeRecord, done: Promise<DrainReport>): void {
    const handler = ctx.duties;
    if (handler === undefined) return;
    const notice = recordToNotice(n);
    const stop = new AbortController();
    const log = ctx.log.child({ noticeId: n.id, kind: n.kind, node: nodeName });
    const result = handler({
      notice,
      nodeName,
      done: done.then(noticeOutcomeOf),
      signal: stop.signal,
    })
      .then(async (how): Promise<Completion> => {
        if (how === "open") return "open";
        // Recorded before anyone is told, so nobody completes it again.
        await record(nodeName, n.id, how);
        log.info({ how }, "notice finished and recorded on the node");
        return "completed";
      })
      .catch((err: unknown): Completion => {
        log.warn({ err: errorMessage(err) }, "finishing the notice failed; left for another try");
        return "open";
      });
    const track: Track = { nodeName, stop, result, settledAt: undefined, settled: undefined };
    tracks.set(n.id, track);
    void result.then((c) => {
      track.settled = c;
      track.settledAt = Date.now();
    });
  }

  return {
    handOut(nodeName, rec, done) {
      if (ctx.config.dryRun || ctx.duties === undefined) return;
      const now = Date.now();
      prune(now);
      for (const n of unfinished(rec)) if (due(n, now)) start(nodeName, n, done);
    },

    pending(rec) {
      const now = Date.now();
      return ctx.duties !== undefined && unfinished(rec).some((n) => due(n, now));
    },

    async completion(noticeId, rec) {
      const t = tracks.get(noticeId);
      if (t !== undefined) return t.result;
      const n = rec?.notices.find((x) => x.id === noticeId);
      return n?.finished !== undefined ? "completed" : "open";
    },

    stop(nodeName, reason) {
      for (const t of tracks.values()) {
        if (t.nodeName === nodeName && t.settled === undefined) t.stop.abort(new Error(reason));
      }
    },

    stopAll(reason) {
      for (const t of tracks.values()) if (t.settled === undefined) t.stop.abort(new Error(reason));
    },

    async settled() {
      await Promise.allSettled([...tracks.values()].map((t) => t.result));
    },
  };
}

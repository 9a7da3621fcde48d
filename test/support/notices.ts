/**
 * Notices as the sources hand them to the drain engine (src/notice.ts), and a
 * recording stand-in for the engine that answers the notice contract.
 */

import { noticeOutcomeOf } from "../../src/drain/outcome.ts";
import type { DrainResult } from "../../src/drain/report.ts";
import type { DutyHandler, Notice, NoticeHandler, NoticeReceipt } from "../../src/notice.ts";

/** The fixed "now" of pure tests; a notice built without values is received at it. */
export const NOW = new Date("2026-03-01T12:00:00Z");
/** The instance a notice names unless told otherwise. */
export const INSTANCE_ID = "i-0123456789abcdef0";

const BASE: Notice = {
  id: "n-1",
  kind: "spot-interruption",
  instanceId: INSTANCE_ID,
  action: "drain",
  deadline: new Date(NOW.getTime() + 120_000),
  receivedAt: NOW,
  source: "queue",
  detail: {},
};

/** A notice builder's own defaults; a function when some must be new on every call (ids, times). */
export type NoticeDefaults = Partial<Notice> | (() => Partial<Notice>);

/**
 * A builder of notices: a Spot interruption for INSTANCE_ID received at NOW
 * with two minutes to go, then `defaults`, then what each call asks for.
 */
export function noticeBuilder(defaults: NoticeDefaults = {}): (over?: Partial<Notice>) => Notice {
  return (over = {}) => ({
    ...BASE,
    ...(typeof defaults === "function" ? defaults() : defaults),
    ...over,
  });
}

/** A Spot interruption for INSTANCE_ID received at NOW, two minutes before its deadline. */
export const notice = noticeBuilder();

export interface HandledNotice {
  readonly notice: Notice;
  readonly nodeName: string;
}

/** What a source handed over, and how to make the stand-in engine answer. */
export interface RecordingHandler {
  /** The entry point to give the source under test. */
  readonly handle: NoticeHandler;
  /** Every hand-over, in order. */
  readonly calls: HandledNotice[];
  /** The notices of `calls`, in order. */
  readonly notices: Notice[];
  /** The hand-overs for one instance. */
  for(instanceId: string): HandledNotice[];
  /**
   * Work for this instance runs until the returned function is called with
   * its result (without it, work ends at once as "drained").
   */
  hold(instanceId: string): (result: DrainResult) => void;
  /**
   * Where a notice that needs completion goes, as the engine on the replica
   * owning the node's work hands it (src/drain/duties.ts): the receipt's
   * `done` then says `completion` as the duty ended. Unset: never completed.
   */
  duties: { readonly handler: DutyHandler; readonly signal: AbortSignal } | undefined;
}

/**
 * Stands in for the drain engine: records each notice and answers with a
 * receipt. `records` says whether the notice is durably recorded (default:
 * always); when not, `recorded` rejects and the work ends as "failed", so a
 * source must hand the notice over again. `done` is the engine's own mapping
 * from a drain result to what a source is told (src/drain/outcome.ts).
 */
export function recordingHandler(
  opts: { records?: (notice: Notice) => boolean } = {},
): RecordingHandler {
  const calls: HandledNotice[] = [];
  const held = new Map<string, Promise<DrainResult>>();
  const handle: NoticeHandler = (notice, nodeName): NoticeReceipt => {
    calls.push({ notice, nodeName });
    if (opts.records?.(notice) === false) {
      const recorded = Promise.reject(new Error("the notice could not be recorded on the node"));
      // The source reads the rejection from its own reference; this one only keeps Node quiet.
      recorded.catch(() => {});
      return {
        recorded,
        done: Promise.resolve(noticeOutcomeOf({ result: "failed", message: "not recorded" })),
      };
    }
    const result = held.get(notice.instanceId) ?? Promise.resolve<DrainResult>("drained");
    const outcome = result.then((r) => noticeOutcomeOf({ result: r, message: r }));
    if (!notice.needsCompletion || recorder.duties === undefined) {
      return { recorded: Promise.resolve(), done: outcome };
    }
    const { handler, signal } = recorder.duties;
    const done = handler({ notice, nodeName, done: outcome, signal }).then(async (how) => ({
      ...(await outcome),
      completion: how === "open" ? ("open" as const) : ("completed" as const),
    }));
    return { recorded: Promise.resolve(), done };
  };
  const recorder: RecordingHandler = {
    duties: undefined,
    handle,
    calls,
    get notices() {
      return calls.map((c) => c.notice);
    },
    for: (instanceId) => calls.filter((c) => c.notice.instanceId === instanceId),
    hold(instanceId) {
      let end!: (result: DrainResult) => void;
      held.set(instanceId, new Promise<DrainResult>((resolve) => (end = resolve)));
      return end;
    },
  };
  return recorder;
}

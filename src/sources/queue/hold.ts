/**
 * Holding a message while a system its notice needs is down: the step is
 * tried again with back-off (health-gate.ts) until it gives an answer, the
 * failing system answers again (the gate wakes every held message at once),
 * the hold has lasted queue-hold-max-seconds, or nthd shuts down. The
 * message stays tracked by the visibility keeper the whole time, so SQS does
 * not deliver it again and its receive count stays where it is.
 */
import type { Logger } from "../../observe/log.ts";
import { type Dependency, holdRetryDelayMs, mayHold } from "./health-gate.ts";
import type { OutageGate } from "./outage-gate.ts";

/** One try: an answer, or the system that was down. */
export type Try<T> = { readonly ok: T } | { readonly down: Dependency; readonly err: unknown };

export interface HoldContext {
  readonly gate: OutageGate;
  /** queue-hold-max-seconds, in ms; 0 never holds. */
  readonly maxHoldMs: number;
  /** The notice's deadline: retries come at least twice before it. */
  readonly deadline?: Date | undefined;
  readonly signal: AbortSignal;
  readonly log: Logger;
  readonly now?: () => number;
}

/**
 * Runs `attempt` until it answers. Undefined when the message is not held
 * any longer (held too long, holding is off, or shutdown): the caller then
 * leaves it for redelivery, as it did before there was holding.
 */
export async function holdUntilAnswered<T>(
  what: string,
  attempt: () => Promise<Try<T>>,
  ctx: HoldContext,
): Promise<T | undefined> {
  const now = ctx.now ?? Date.now;
  let heldSince: number | undefined;
  for (let n = 1; ; n++) {
    const result = await attempt();
    if ("ok" in result) {
      if (heldSince !== undefined) {
        ctx.log.info({ what, heldMs: now() - heldSince, tries: n }, "held message goes on");
      }
      return result.ok;
    }
    ctx.gate.failed(result.down, result.err);
    heldSince ??= now();
    if (ctx.signal.aborted) return undefined;
    if (!mayHold(heldSince, now(), ctx.maxHoldMs)) {
      ctx.log.warn(
        { what, system: result.down, heldMs: now() - heldSince },
        "message held as long as allowed; left for redelivery",
      );
      return undefined;
    }
    const toDeadline = ctx.deadline !== undefined ? ctx.deadline.getTime() - now() : undefined;
    const delay = holdRetryDelayMs(n, toDeadline, Math.random());
    if (n === 1) {
      ctx.log.info({ what, system: result.down, retryInMs: delay }, "message held");
    }
    if (!(await ctx.gate.pause(delay, ctx.signal))) return undefined;
  }
}

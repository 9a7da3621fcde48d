/**
 * Keeps received messages invisible while nthd works on them, so SQS does not
 * hand a message to another replica in the middle of a drain (NTH never
 * extends it: its long drains were redelivered and drained twice).
 *
 * One ticker serves every message in flight and extends those that are due
 * with ChangeMessageVisibilityBatch (10 per call). Extensions are short, so a
 * crashed replica's messages come back within about `extendSeconds`.
 *
 * Each batch is on its own: a call that hangs holds only the messages in it
 * (each call is bounded, see changeTimeoutMs, so its messages are tried
 * again while time is left), the next tick extends every other due
 * message, and an entry that failed for a passing reason (throttling, an
 * internal error) is tried again on the next tick. Only an entry SQS says
 * is gone (its receipt no longer valid) stops being extended.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-visibility-timeout.html
 */
import { ChangeMessageVisibilityBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { isAccessDenied } from "../../aws/permissions.ts";
import type { Config } from "../../config/index.ts";
import { errorMessage } from "../../errors.ts";
import type { Logger } from "../../observe/log.ts";
import { chunk } from "./batch.ts";

export interface VisibilityPolicy {
  /** The timeout ReceiveMessage asks for. */
  readonly initialSeconds: number;
  /** Each extension makes the message invisible for this long from now. */
  readonly extendSeconds: number;
}

// SQS's ceiling for one visibility timeout.
const MAX_VISIBILITY_SECONDS = 43_200;

export function visibilityPolicy(
  config: Pick<Config, "sqsMsgVisibilityTimeoutSeconds">,
): VisibilityPolicy {
  const initialSeconds = config.sqsMsgVisibilityTimeoutSeconds;
  // Short enough that a crashed replica's work returns quickly, long enough
  // that a slow API call never lets the message slip out.
  const extendSeconds = Math.min(Math.max(initialSeconds, 30), MAX_VISIBILITY_SECONDS);
  return { initialSeconds, extendSeconds };
}

/** Due for an extension once half an extension's worth of time (or less) is left. */
export function isDue(visibleUntilMs: number, nowMs: number, policy: VisibilityPolicy): boolean {
  return visibleUntilMs - nowMs <= (policy.extendSeconds * 1000) / 2;
}

interface Entry {
  visibleUntilMs: number;
  readonly messageId: string;
  /** A ChangeMessageVisibility call for it is under way. */
  changing: boolean;
}

/**
 * Failure codes of a batch entry after which extending again cannot work:
 * the receipt is stale (the message was deleted, or became visible and was
 * received again). Any other code is taken as passing and retried.
 */
const GONE_CODES: ReadonlySet<string | undefined> = new Set([
  "ReceiptHandleIsInvalid",
  "AWS.SimpleQueueService.ReceiptHandleIsInvalid",
  "MessageNotInflight",
  "AWS.SimpleQueueService.MessageNotInflight",
  "InvalidParameterValue",
]);

/**
 * Bound on one ChangeMessageVisibilityBatch call: a quarter of an
 * extension, and at most half the time its most urgent message has left
 * (so a hung call leaves time for one more try), at least 1 s.
 */
export function changeTimeoutMs(policy: VisibilityPolicy, msLeft = Infinity): number {
  // Whole milliseconds: AbortSignal.timeout throws on a fraction.
  return Math.floor(Math.max(1000, Math.min((policy.extendSeconds * 1000) / 4, msLeft / 2)));
}

export interface VisibilityKeeperOptions {
  readonly sqs: Pick<SQSClient, "send">;
  readonly queueUrl: string;
  readonly policy: VisibilityPolicy;
  readonly log: Logger;
  readonly tickMs?: number;
  readonly now?: () => number;
  /** Bound on one ChangeMessageVisibilityBatch call; default changeTimeoutMs(policy). */
  readonly callTimeoutMs?: number;
  /**
   * False when sqs:ChangeMessageVisibility is refused: messages are tracked
   * (shutdown still knows them) but never extended or released early.
   */
  readonly enabled?: boolean;
  /** Told when AWS refuses the call (the permission was taken away). */
  readonly onDenied?: () => void;
}

export class VisibilityKeeper {
  readonly #opts: VisibilityKeeperOptions;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(opts: VisibilityKeeperOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Starts keeping a message invisible; `receivedAtMs` is when ReceiveMessage answered. */
  track(receiptHandle: string, messageId: string, receivedAtMs: number): void {
    const visibleUntilMs = receivedAtMs + this.#opts.policy.initialSeconds * 1000;
    this.#entries.set(receiptHandle, { visibleUntilMs, messageId, changing: false });
    this.#timer ??= setInterval(() => void this.tick(), this.#opts.tickMs ?? 1000);
    this.#timer.unref?.();
  }

  untrack(receiptHandle: string): void {
    this.#entries.delete(receiptHandle);
    if (this.#entries.size === 0) this.#stopTimer();
  }

  /**
   * Extends every due message not already being extended. Exposed for tests;
   * the ticker calls it every second, whether earlier calls have answered or not.
   */
  async tick(): Promise<void> {
    const now = this.#now();
    const due = [...this.#entries].filter(
      ([, e]) => !e.changing && isDue(e.visibleUntilMs, now, this.#opts.policy),
    );
    const seconds = this.#opts.policy.extendSeconds;
    await Promise.all(chunk(due, 10).map((batch) => this.#change(batch, seconds, now)));
  }

  /**
   * Makes the given messages (default: all tracked) visible again at once, so
   * another replica picks them up without waiting out the timeout (shutdown).
   */
  async release(receiptHandles?: readonly string[]): Promise<void> {
    const handles = receiptHandles ?? [...this.#entries.keys()];
    const batch = handles.flatMap((h) => {
      const entry = this.#entries.get(h);
      this.#entries.delete(h);
      return entry ? [[h, entry] as [string, Entry]] : [];
    });
    if (this.#entries.size === 0) this.#stopTimer();
    await Promise.all(chunk(batch, 10).map((b) => this.#change(b, 0, this.#now())));
  }

  stop(): void {
    this.#stopTimer();
  }

  #stopTimer(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #change(batch: [string, Entry][], seconds: number, now: number): Promise<void> {
    if (this.#opts.enabled === false || batch.length === 0) return;
    for (const [, entry] of batch) entry.changing = true;
    try {
      const out = await this.#opts.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.#opts.queueUrl,
          Entries: batch.map(([handle], i) => ({
            Id: String(i),
            ReceiptHandle: handle,
            VisibilityTimeout: seconds,
          })),
        }),
        {
          abortSignal: AbortSignal.timeout(
            this.#opts.callTimeoutMs ??
              changeTimeoutMs(
                this.#opts.policy,
                Math.min(...batch.map(([, e]) => e.visibleUntilMs)) - now,
              ),
          ),
        },
      );
      const failed = new Map((out.Failed ?? []).map((f) => [f.Id, f]));
      batch.forEach(([handle, entry], i) => {
        const failure = failed.get(String(i));
        if (failure === undefined) {
          entry.visibleUntilMs = now + seconds * 1000;
          return;
        }
        const gone = GONE_CODES.has(failure.Code);
        // A receipt that is no longer valid cannot be extended again (a
        // redelivery carries a new one); anything else is tried next tick.
        if (gone) this.#entries.delete(handle);
        this.#opts.log.warn(
          { messageId: entry.messageId, code: failure.Code, reason: failure.Message, retry: !gone },
          "could not change message visibility",
        );
      });
    } catch (err) {
      if (isAccessDenied(err)) {
        this.#opts.onDenied?.();
        return;
      }
      // Transient (or timed out): the next tick tries these again while time is left.
      this.#opts.log.warn(
        { err: errorMessage(err), count: batch.length },
        "changing message visibility failed",
      );
    } finally {
      for (const [, entry] of batch) entry.changing = false;
    }
  }
}

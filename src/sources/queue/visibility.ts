/**
 * Keeps received messages invisible while nthd works on them, so SQS does not
 * hand a message to another replica in the middle of a drain (NTH never
 * extends it: its long drains were redelivered and drained twice).
 *
 * One ticker serves every message in flight and extends those that are due
 * with ChangeMessageVisibilityBatch (10 per call). Extensions are short, so a
 * crashed replica's messages come back within about `extendSeconds`.
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
}

export interface VisibilityKeeperOptions {
  readonly sqs: Pick<SQSClient, "send">;
  readonly queueUrl: string;
  readonly policy: VisibilityPolicy;
  readonly log: Logger;
  readonly tickMs?: number;
  readonly now?: () => number;
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
  #ticking = false;

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
    this.#entries.set(receiptHandle, { visibleUntilMs, messageId });
    this.#timer ??= setInterval(() => void this.tick(), this.#opts.tickMs ?? 1000);
    this.#timer.unref?.();
  }

  untrack(receiptHandle: string): void {
    this.#entries.delete(receiptHandle);
    if (this.#entries.size === 0) this.#stopTimer();
  }

  /** Extends every due message now. Exposed for tests; the ticker calls it. */
  async tick(): Promise<void> {
    if (this.#ticking) return;
    this.#ticking = true;
    try {
      const now = this.#now();
      const due = [...this.#entries].filter(([, e]) =>
        isDue(e.visibleUntilMs, now, this.#opts.policy),
      );
      const seconds = this.#opts.policy.extendSeconds;
      await Promise.all(chunk(due, 10).map((batch) => this.#change(batch, seconds, now)));
    } finally {
      this.#ticking = false;
    }
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
      );
      const failed = new Map((out.Failed ?? []).map((f) => [f.Id, f]));
      batch.forEach(([handle, entry], i) => {
        const failure = failed.get(String(i));
        if (failure === undefined) {
          entry.visibleUntilMs = now + seconds * 1000;
          return;
        }
        // The receipt is no longer valid (message deleted or already visible
        // again): stop extending; a redelivery carries a new receipt.
        this.#entries.delete(handle);
        this.#opts.log.warn(
          { messageId: entry.messageId, code: failure.Code, reason: failure.Message },
          "could not change message visibility",
        );
      });
    } catch (err) {
      if (isAccessDenied(err)) {
        this.#opts.onDenied?.();
        return;
      }
      // Transient: the next tick retries while time is left.
      this.#opts.log.warn(
        { err: errorMessage(err), count: batch.length },
        "changing message visibility failed",
      );
    }
  }
}

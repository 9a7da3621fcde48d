/**
 * The two ends of a message's life in nthd: deleted (nothing more can come of
 * it) or left (SQS redelivers it after its visibility timeout; after the
 * queue's maxReceiveCount its redrive policy moves it to the dead-letter
 * queue). Deletes are batched (DeleteMessageBatch, 10 per call). A delete
 * that fails for a passing reason (a failed entry of the batch, a throttled,
 * reset or timed-out call) is tried again with back-off for about half a
 * minute while the message is kept invisible: a message that comes back is
 * handled again (idempotently), but each return costs a receive on the way
 * to the dead-letter queue.
 */
import { DeleteMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { sleep } from "../../async/sleep.ts";
import { errorMessage } from "../../errors.ts";
import type { QueueDeleteReason, QueueLeaveReason } from "../../observe/labels.ts";
import type { Logger } from "../../observe/log.ts";
import { countQueueDeleted, countQueueLeft } from "../../observe/metrics.ts";
import { Batcher } from "./batch.ts";
import type { VisibilityKeeper } from "./visibility.ts";

export interface QueueMessageRef {
  readonly messageId: string;
  readonly receiptHandle: string;
}

type DeleteResult = { ok: true } | { ok: false; error: string; gone: boolean };

/** Entry codes after which retrying the delete cannot help: the receipt is stale. */
const GONE_CODES: ReadonlySet<string | undefined> = new Set([
  "ReceiptHandleIsInvalid",
  "AWS.SimpleQueueService.ReceiptHandleIsInvalid",
  "InvalidParameterValue",
]);

/**
 * Tries per delete, the first pause between them and the longest (doubling,
 * with jitter): about half a minute in all, while the message is still kept
 * invisible, so a short SQS outage does not bring a handled message back.
 */
const DELETE_ATTEMPTS = 8;
const DELETE_RETRY_MS = 500;
const DELETE_RETRY_CAP_MS = 8000;

export class MessageAcks {
  readonly #keeper: VisibilityKeeper;
  readonly #log: Logger;
  readonly #deletes: Batcher<string, DeleteResult>;
  readonly #pending = new Set<Promise<void>>();
  /** Messages in hand, by id, with any later deliveries of the same message. */
  readonly #inHand = new Map<string, QueueMessageRef[]>();

  constructor(opts: {
    sqs: Pick<SQSClient, "send">;
    queueUrl: string;
    keeper: VisibilityKeeper;
    log: Logger;
  }) {
    this.#keeper = opts.keeper;
    this.#log = opts.log;
    this.#deletes = new Batcher({
      maxSize: 10,
      windowMs: 10,
      run: async (handles) => {
        const out = await opts.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: opts.queueUrl,
            Entries: handles.map((h, i) => ({ Id: String(i), ReceiptHandle: h })),
          }),
        );
        const failed = new Map((out.Failed ?? []).map((f) => [f.Id, f]));
        return new Map(
          handles.map((h, i): [string, DeleteResult] => {
            const f = failed.get(String(i));
            return [
              h,
              f
                ? {
                    ok: false,
                    error: `${f.Code}: ${f.Message ?? ""}`,
                    gone: GONE_CODES.has(f.Code),
                  }
                : { ok: true },
            ];
          }),
        );
      },
    });
  }

  /**
   * Marks a received message as in hand. False when the same message (by id)
   * is in hand already: its visibility lapsed (extensions failed while SQS
   * was in trouble) and SQS delivered it again. That delivery is not handled
   * a second time; it shares the first one's fate, deleted or left with it,
   * and its fresh receipt makes the delete succeed where the first, stale
   * one no longer can.
   */
  begin(msg: QueueMessageRef): boolean {
    if (msg.messageId === "") return true;
    const later = this.#inHand.get(msg.messageId);
    if (later === undefined) {
      this.#inHand.set(msg.messageId, []);
      return true;
    }
    later.push(msg);
    this.#log.info(
      { messageId: msg.messageId },
      "message delivered again while in hand; it shares the first delivery's fate",
    );
    return false;
  }

  /** The message and its later deliveries; it is no longer in hand. */
  #end(msg: QueueMessageRef): QueueMessageRef[] {
    const later = this.#inHand.get(msg.messageId) ?? [];
    this.#inHand.delete(msg.messageId);
    return [msg, ...later];
  }

  /**
   * Starts deleting the message (batched with others) and returns at once;
   * a failed delete is logged (the message returns and is handled again,
   * idempotently). `settled()` waits for every delete started.
   */
  delete(msg: QueueMessageRef, reason: QueueDeleteReason): void {
    const deleting = this.#delete(msg, reason).finally(() => this.#pending.delete(deleting));
    this.#pending.add(deleting);
  }

  /** Resolves once every delete started so far has its answer (shutdown). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#pending]);
  }

  /**
   * Deletes every delivery of one message; it is gone once any delete
   * succeeds. The message stays in hand (and invisible) while the deletes
   * are tried, so a delivery that comes back meanwhile is deleted with it.
   */
  async #delete(msg: QueueMessageRef, reason: QueueDeleteReason): Promise<void> {
    const started = performance.now();
    const tried = [msg, ...(this.#inHand.get(msg.messageId) ?? [])];
    const results = await Promise.all(tried.map((d) => this.#deleteOne(d)));
    const late = this.#end(msg).filter((d) => !tried.includes(d));
    if (late.length > 0) results.push(...(await Promise.all(late.map((d) => this.#deleteOne(d)))));
    for (const d of [...tried, ...late]) this.#keeper.untrack(d.receiptHandle);
    if (results.some((r) => r.ok)) {
      countQueueDeleted(reason);
      this.#log.debug(
        { messageId: msg.messageId, reason, deleteMs: Math.round(performance.now() - started) },
        "message deleted",
      );
      return;
    }
    this.#log.warn(
      {
        messageId: msg.messageId,
        reason,
        err: results.map((r) => (r.ok ? "" : r.error)).join("; "),
      },
      "deleting message failed; it will be delivered again",
    );
  }

  async #deleteOne(msg: QueueMessageRef): Promise<DeleteResult> {
    let result: DeleteResult | undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        result = await this.#deletes.get(msg.receiptHandle);
      } catch (err) {
        result = { ok: false, error: errorMessage(err), gone: false };
      }
      if (result === undefined || result.ok || result.gone || attempt >= DELETE_ATTEMPTS) break;
      const pause =
        Math.min(DELETE_RETRY_CAP_MS, DELETE_RETRY_MS * 2 ** (attempt - 1)) *
        (0.5 + Math.random() / 2);
      this.#log.debug(
        { messageId: msg.messageId, err: result.error, retryInMs: Math.round(pause) },
        "deleting message failed; trying again",
      );
      await sleep(pause);
    }
    return result ?? { ok: false, error: "no answer", gone: false };
  }

  /** Stops extending the message's visibility and lets SQS deliver it again later. */
  leave(msg: QueueMessageRef, reason: QueueLeaveReason): void {
    for (const d of this.#end(msg)) this.#keeper.untrack(d.receiptHandle);
    countQueueLeft(reason);
  }
}

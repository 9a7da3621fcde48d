/**
 * The SQS consumer: long-polls the queue and hands each message to
 * handleMessage, with at most `inFlightLimit(workers)` messages in their
 * quick phase (parse, resolve, record, delete) at once per replica. The
 * quick phase is nearly all waiting on EC2 and the API server, so the bound
 * is generous: with 10 messages at a time, the cordon rate in a mass
 * interruption was 10 divided by the API server's latency, which is highest
 * exactly then, and the batched EC2 lookups never got more than 10
 * instances per call. Several replicas may consume the same queue: SQS gives each
 * message to one of them at a time, and the drain engine's record on the node
 * makes a duplicate delivery join the drain already running.
 *
 * A message's slot is free again as soon as its fate is known: its delete
 * goes on in the background (batched with others), so a slow DeleteMessage
 * never holds back the next receive.
 *
 * Back-pressure: while the API server (or EC2, or Auto Scaling) is down, the
 * outage gate stops the pollers, and messages already taken are held and
 * retried (hold.ts) rather than left to climb toward the dead-letter queue.
 *
 * Shutdown (the signal aborts): receiving stops at once (the long poll is
 * cancelled), messages in their quick phase finish it, follow-ups stop
 * waiting, started deletes get their answer, and every message not yet
 * deleted is made visible again so another replica takes it over without
 * waiting out its visibility timeout.
 */

import type { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import type { EC2Client } from "@aws-sdk/client-ec2";
import { ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { pino } from "pino";
import { Semaphore } from "../../async/semaphore.ts";
import { sleep } from "../../async/sleep.ts";
import { awsRequestTimeoutMs } from "../../aws/clients.ts";
import type { Config } from "../../config/index.ts";
import { errorMessage } from "../../errors.ts";
import type { NoticeHandler } from "../../notice.ts";
import type { AwsPermission } from "../../observe/labels.ts";
import type { Logger } from "../../observe/log.ts";
import {
  countMonitorError,
  countQueueLeft,
  countQueueReceived,
  markSourcePolled,
} from "../../observe/metrics.ts";
import { MessageAcks } from "./acks.ts";
import { runInstancePrimer } from "./instance-primer.ts";
import { createInstanceDirectory, type InstanceDirectory } from "./instances.ts";
import { createLifecycleActions } from "./lifecycle-actions.ts";
import { handleMessage, type QueueConfig, type ReceivedMessage } from "./message.ts";
import { OutageGate } from "./outage-gate.ts";
import type { NodeLookup } from "./resolve.ts";
import { VisibilityKeeper, visibilityPolicy } from "./visibility.ts";

export interface QueueSourceOptions {
  readonly config: QueueConfig &
    Pick<Config, "queueUrl" | "workers" | "sqsMsgVisibilityTimeoutSeconds"> &
    Partial<Pick<Config, "awsRequestTimeoutSeconds">>;
  readonly sqs: Pick<SQSClient, "send">;
  readonly ec2: Pick<EC2Client, "send">;
  readonly autoscaling: Pick<AutoScalingClient, "send">;
  /** Takes each notice found on a node of this cluster. */
  readonly handle: NoticeHandler;
  /** The Node informer's view of the cluster. */
  readonly resolver: NodeLookup;
  readonly log?: Logger;
  /** Abort to shut down; the returned promise resolves once shutdown is complete. */
  readonly signal: AbortSignal;
  /** Long-poll wait per ReceiveMessage (SQS maximum and default here: 20). */
  readonly waitTimeSeconds?: number;
  /** Share an EC2 lookup cache (tests); default: a new one. */
  readonly instances?: InstanceDirectory;
  /**
   * The cluster's instance ids (the Node informer's). With the managed-tag
   * check on, their EC2 facts are primed ahead of any notice.
   */
  readonly clusterInstanceIds?: () => string[];
  /**
   * One cheap Kubernetes API call (any answer: reachable). With it the
   * consumer learns of an API outage, and of its end, without waiting for a
   * record to fail or succeed.
   */
  readonly kubeProbe?: (signal: AbortSignal) => Promise<unknown>;
  /** IAM actions refused at start-up (src/aws/permissions.ts): what needs them is skipped. */
  readonly denied?: ReadonlySet<AwsPermission>;
  /** Told when AWS refuses a call later (the permission was taken away). */
  readonly onDenied?: (action: AwsPermission) => void;
}

/** Largest batch one ReceiveMessage returns. */
const MAX_RECEIVE = 10;

/**
 * How a poller gathers its slots: ten at once, or what is free 200 ms after
 * the first one was. Taking each slot as soon as it frees made a mass
 * interruption's receives bring 2.3 messages on average (1,000 messages, 427
 * ReceiveMessage calls), so the queue's own latency, paid per call, set the
 * pace. When slots are plentiful the batch is there at once and nothing waits.
 */
const RECEIVE_BATCH = { atLeast: MAX_RECEIVE, lingerMs: 200 } as const;

/** Back-off after a failed ReceiveMessage: 1 s doubling to 30 s. */
export function receiveBackoffMs(consecutiveFailures: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.max(0, consecutiveFailures - 1));
}

/** How many pollers keep `slots` message slots fed (one per 10, at least one). */
export function pollerCount(slots: number): number {
  return Math.max(1, Math.ceil(slots / MAX_RECEIVE));
}

/**
 * Messages one replica works on at once: ten per worker. The bound keeps a
 * replica from taking the whole queue while the API server is down (each
 * held message has its visibility extended), yet lets 100 messages (default)
 * be resolved and cordoned together in a mass interruption.
 */
export function inFlightLimit(workers: number): number {
  return Math.max(MAX_RECEIVE, workers * 10);
}

export async function startQueueSource(opts: QueueSourceOptions): Promise<void> {
  const { config, sqs, signal } = opts;
  const log = opts.log ?? pino({ level: "silent" });
  const policy = visibilityPolicy(config);
  const keeper = new VisibilityKeeper({
    sqs,
    queueUrl: config.queueUrl,
    policy,
    log,
    enabled: !opts.denied?.has("sqs:ChangeMessageVisibility"),
    onDenied: () => opts.onDenied?.("sqs:ChangeMessageVisibility"),
  });
  const acks = new MessageAcks({ sqs, queueUrl: config.queueUrl, keeper, log });
  const instances =
    opts.instances ?? createInstanceDirectory({ ec2: opts.ec2, tagKeys: [config.managedTag] });
  const primer =
    config.checkTagBeforeDraining && opts.clusterInstanceIds !== undefined
      ? runInstancePrimer({
          directory: instances,
          instanceIds: opts.clusterInstanceIds,
          signal,
          log,
        })
      : undefined;
  const gate = new OutageGate({ log, ...(opts.kubeProbe ? { kubeProbe: opts.kubeProbe } : {}) });
  const probes = gate.runProbes(signal);
  const deps = {
    config,
    gate,
    handle: opts.handle,
    nodes: opts.resolver,
    instances,
    lifecycle: createLifecycleActions({
      autoscaling: opts.autoscaling,
      log,
      ...(opts.denied ? { denied: opts.denied } : {}),
      ...(opts.onDenied ? { onDenied: opts.onDenied } : {}),
    }),
    acks,
    log,
    signal,
  };
  const slots = new Semaphore(inFlightLimit(config.workers));
  const active = new Set<Promise<void>>();
  const followUps = new Set<Promise<void>>();

  const dispatch = (msg: ReceivedMessage) => {
    const work = handleMessage(msg, deps)
      .then(({ followUp }) => {
        if (followUp === undefined) return;
        const tracked = followUp.catch((err: unknown) => {
          log.error(
            { messageId: msg.messageId, err: errorMessage(err) },
            "message follow-up failed",
          );
        });
        followUps.add(tracked);
        void tracked.finally(() => followUps.delete(tracked));
      })
      .catch((err: unknown) => {
        // A bug in handling costs this message one delivery, never the consumer.
        log.error({ messageId: msg.messageId, err: errorMessage(err) }, "handling message failed");
        acks.leave(msg, "kube-api-error");
      })
      .finally(() => {
        active.delete(work);
        slots.give(1);
      });
    active.add(work);
  };

  const poll = async () => {
    let failures = 0;
    while (!signal.aborted) {
      // Back-pressure: take nothing new while a system notices need is down.
      if (!(await gate.waitOpen(signal))) break;
      const want = await slots.take(MAX_RECEIVE, signal, RECEIVE_BATCH);
      if (want === 0) break;
      let messages: ReceivedMessage[];
      const receiveStart = performance.now();
      try {
        messages = await receive(
          sqs,
          config.queueUrl,
          want,
          policy.initialSeconds,
          opts.waitTimeSeconds ?? 20,
          signal,
          awsRequestTimeoutMs(config),
        );
        failures = 0;
        markSourcePolled("queue");
      } catch (err) {
        slots.give(want);
        if (signal.aborted) break;
        failures++;
        countMonitorError("SQS_MONITOR");
        const backoff = receiveBackoffMs(failures);
        log.warn(
          { err: errorMessage(err), failures, retryInMs: backoff },
          "receiving from the queue failed",
        );
        await sleep(backoff, signal);
        continue;
      }
      slots.give(want - messages.length);
      countQueueReceived(messages.length);
      if (messages.length > 0) {
        log.debug(
          { count: messages.length, receiveMs: Math.round(performance.now() - receiveStart) },
          "messages received",
        );
      }
      for (const msg of messages) {
        keeper.track(msg.receiptHandle, msg.messageId, msg.receivedAt.getTime());
        // A second delivery of a message still in hand is not handled twice.
        if (acks.begin(msg)) dispatch(msg);
        else slots.give(1);
      }
    }
  };

  log.info({ queueUrl: config.queueUrl, workers: config.workers }, "queue consumer started");
  await Promise.all(Array.from({ length: pollerCount(inFlightLimit(config.workers)) }, poll));

  // Shutdown: let quick phases reach their end, then hand back what is left.
  await Promise.allSettled([...active]);
  await Promise.allSettled([...followUps]);
  await acks.settled();
  await primer;
  await probes;
  const left = keeper.size;
  await keeper.release();
  keeper.stop();
  if (left > 0) countQueueLeft("shutdown", left);
  log.info({ released: left }, "queue consumer stopped");
}

async function receive(
  sqs: Pick<SQSClient, "send">,
  queueUrl: string,
  max: number,
  visibilitySeconds: number,
  waitSeconds: number,
  signal: AbortSignal,
  attemptTimeoutMs: number,
): Promise<ReceivedMessage[]> {
  const out = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: max,
      WaitTimeSeconds: waitSeconds,
      VisibilityTimeout: visibilitySeconds,
      MessageSystemAttributeNames: ["ApproximateReceiveCount", "SentTimestamp"],
    }),
    // A long poll is silent for up to its wait: bound it by that plus the usual attempt timeout.
    { abortSignal: signal, requestTimeout: waitSeconds * 1000 + attemptTimeoutMs },
  );
  const receivedAt = new Date();
  const messages: ReceivedMessage[] = [];
  for (const m of out.Messages ?? []) {
    if (m.ReceiptHandle === undefined) continue;
    messages.push({
      messageId: m.MessageId ?? "",
      receiptHandle: m.ReceiptHandle,
      body: m.Body ?? "",
      receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1),
      receivedAt,
      sentAtMs: Number(m.Attributes?.SentTimestamp) || undefined,
    });
  }
  return messages;
}

/**
 * One queue message, from body to deletion. The message is deleted only when
 * nothing more can come of it:
 *  - notices that cordon or drain: once the drain engine has durably recorded
 *    them on the node (cordon + record annotation). The drain itself goes on
 *    in the engine, and any replica that restarts resumes it from the record;
 *  - an Auto Scaling terminate action: once the node's record says the action
 *    was completed. Whichever replica owns the node's work completes it (the
 *    token travels in the record, lifecycle-duties.ts); a delivery that comes
 *    back after that is deleted without completing anything again;
 *  - a launch action: once the node is Ready and the action completed;
 *  - irrelevant or foreign messages: at once (see disposition.ts).
 * A malformed body is never deleted: the queue's redrive policy moves it to
 * the dead-letter queue after its maxReceiveCount.
 *
 * A notice that cannot be recorded because the API server or EC2 is down is
 * held instead (hold.ts): tried again with back-off while its visibility is
 * extended, so an outage does not walk its receive count into the
 * dead-letter queue.
 *
 * `handleMessage` returns after the quick part (parse, resolve, record); long
 * waits (drain then complete, launch readiness) continue as `followUp`, which
 * does not hold one of the `workers` slots: a drain blocked by a
 * PodDisruptionBudget never stops other messages from being handled.
 */

import type { Config } from "../../config/index.ts";
import { errorMessage } from "../../errors.ts";
import type { NoticeHandler, NoticeOutcome } from "../../notice.ts";
import { type Logger, noticeLogger } from "../../observe/log.ts";
import { countMonitorError, countParseError } from "../../observe/metrics.ts";
import type { MessageAcks, QueueMessageRef } from "./acks.ts";
import {
  type Disposition,
  deleteFor,
  leaveFor,
  messageDisposition,
  type NoticeTarget,
  noNodeVerdict,
  noticePath,
} from "./disposition.ts";
import {
  completedOnNode,
  completeLaunch,
  completeWithoutNode,
  type FollowUpResult,
} from "./follow-ups.ts";
import { type Dependency, kubeOutage } from "./health-gate.ts";
import { holdUntilAnswered } from "./hold.ts";
import type { InstanceDirectory } from "./instances.ts";
import type { LifecycleActions } from "./lifecycle-actions.ts";
import type { OutageGate } from "./outage-gate.ts";
import { lifecycleActionOf, parseQueueMessage } from "./parse.ts";
import { type NodeLookup, resolveTarget } from "./resolve.ts";

export interface ReceivedMessage extends QueueMessageRef {
  readonly body: string;
  readonly receiveCount: number;
  readonly receivedAt: Date;
  /** When SQS accepted the message (its SentTimestamp attribute), if it said. */
  readonly sentAtMs?: number | undefined;
}

export type QueueConfig = Pick<
  Config,
  | "dryRun"
  | "checkTagBeforeDraining"
  | "managedTag"
  | "deleteSqsMsgIfNodeNotFound"
  | "completeLifecycleActionDelaySeconds"
  | "completeLaunchLifecycleAction"
  | "heartbeatIntervalSeconds"
  | "heartbeatUntilSeconds"
  | "queueHoldMaxSeconds"
  | "completeLifecycleActionWithoutNode"
  | "nodeRegistrationWaitSeconds"
>;

export interface MessageDeps {
  readonly config: QueueConfig;
  readonly handle: NoticeHandler;
  readonly nodes: NodeLookup;
  readonly instances: InstanceDirectory;
  readonly lifecycle: LifecycleActions;
  readonly acks: MessageAcks;
  /** Told of outages and recoveries; holds messages while a system is down. */
  readonly gate: OutageGate;
  readonly log: Logger;
  /** Aborts on shutdown: follow-ups stop waiting and leave their message to SQS. */
  readonly signal: AbortSignal;
}

export async function handleMessage(
  msg: ReceivedMessage,
  deps: MessageDeps,
): Promise<{ followUp?: Promise<void> }> {
  const log = deps.log.child({ messageId: msg.messageId, receiveCount: msg.receiveCount });
  const parsed = parseQueueMessage(msg.body, msg.receivedAt);
  if (!parsed.ok) {
    if ("ignore" in parsed) {
      log.info({ reason: parsed.ignore }, "message ignored");
      deps.acks.delete(msg, "ignored-kind");
    } else {
      countMonitorError("SQS_MONITOR");
      countParseError("queue", parsed.stage ?? "schema");
      log.warn(
        { reason: parsed.error },
        "malformed message left in the queue; its redrive policy moves it to the dead-letter queue",
      );
      deps.acks.leave(msg, "malformed");
    }
    return {};
  }
  for (const warning of parsed.warnings ?? []) log.warn({ warning }, parsed.description);
  if (parsed.notices.length === 0) {
    deps.acks.delete(msg, "ignored-kind");
    return {};
  }

  const targets: NoticeTarget[] = [];
  const followUps: Promise<FollowUpResult>[] = [];
  let recordFailed = false;
  await Promise.all(
    parsed.notices.map(async (notice) => {
      const nlog = noticeLogger(log, notice);
      const action = lifecycleActionOf(notice);
      const path = noticePath(notice, action !== undefined, deps.config);
      if (path === "ignore") {
        nlog.info({ description: parsed.description }, "notice needs no action");
        return;
      }
      if (path === "complete-launch" && action !== undefined) {
        followUps.push(completeLaunch(notice, action, deps, nlog));
        return;
      }
      const resolveStart = performance.now();
      let recordMs = 0;
      let resolvedAws = false;
      let lastDown: Dependency | undefined;
      let recordError: unknown;
      const hold = {
        gate: deps.gate,
        maxHoldMs: deps.config.queueHoldMaxSeconds * 1000,
        deadline: notice.deadline,
        signal: deps.signal,
        log: nlog,
      };
      // Resolve and record; while EC2 or the API server is down, hold and try again.
      const step = await holdUntilAnswered<{ target: NoticeTarget; done?: Promise<NoticeOutcome> }>(
        "record",
        async () => {
          const target = await resolveTarget(
            notice.instanceId,
            deps.nodes,
            deps.instances,
            deps.config,
          );
          if (target.kind === "error" && target.outage && !deps.signal.aborted) {
            resolvedAws = true;
            lastDown = "aws";
            return { down: "aws", err: target.message };
          }
          // A lookup that failed on this message before has now answered (it is never cached).
          if (resolvedAws) deps.gate.answered("aws");
          if (target.kind !== "node") return { ok: { target } };
          const recordStart = performance.now();
          const started = deps.handle(notice, target.nodeName);
          // `done` never rejects by contract; a broken promise still must not crash or complete.
          const done = started.done.catch((err: unknown): NoticeOutcome => {
            nlog.warn({ err: errorMessage(err) }, "drain failed");
            return {
              result: "retry",
              mayCompleteLifecycleAction: false,
              summary: errorMessage(err),
            };
          });
          try {
            await started.recorded;
            recordMs = Math.round(performance.now() - recordStart);
            deps.gate.answered("kube");
            return { ok: { target, done } };
          } catch (err) {
            if (kubeOutage(err) && !deps.signal.aborted) {
              lastDown = "kube";
              return { down: "kube", err };
            }
            recordError = err;
            return { ok: { target } };
          }
        },
        hold,
      );
      if (step === undefined && lastDown === "aws") {
        // EC2 stayed unavailable as long as the message could be held: as before, retry on redelivery.
        targets.push({
          kind: "error",
          reason: "aws-api-error",
          message: "EC2 unavailable",
          outage: true,
        });
        return;
      }
      if (step === undefined || recordError !== undefined) {
        // Held too long, shutdown, or a failure that is no outage: as before, left for redelivery.
        recordFailed = true;
        nlog.warn(
          { err: recordError === undefined ? "not recorded" : errorMessage(recordError) },
          "could not record the notice on the node",
        );
        return;
      }
      const { target, done } = step;
      targets.push(target);
      if (target.kind === "not-in-cluster" && path === "drain-then-complete" && action) {
        const verdict = noNodeVerdict(target, deps.config, Date.now(), msg.receivedAt.getTime());
        if (verdict.kind !== "leave") {
          const untilMs = verdict.kind === "wait" ? verdict.untilMs : 0;
          followUps.push(completeWithoutNode(notice, action, untilMs, deps, nlog));
          return;
        }
      }
      if (target.kind !== "node" || done === undefined) {
        nlog.info(
          { target: target.kind, ...("message" in target ? { err: target.message } : {}) },
          "notice not acted on",
        );
        return;
      }
      const resolveMs = Math.round(performance.now() - resolveStart) - recordMs;
      // Where the time went, for operators asking why a node was cordoned
      // late: waiting in the queue, EC2 lookups, or the API server.
      nlog.info(
        {
          node: target.nodeName,
          resolveMs,
          recordMs,
          sinceReceiveMs: Date.now() - msg.receivedAt.getTime(),
          ...(msg.sentAtMs !== undefined
            ? { queuedMs: msg.receivedAt.getTime() - msg.sentAtMs }
            : {}),
        },
        "notice recorded on the node",
      );
      if (path === "drain-then-complete") followUps.push(completedOnNode(done, deps, nlog));
    }),
  );

  const settle = (disposition: Disposition): void => {
    if (disposition.delete) deps.acks.delete(msg, disposition.reason);
    else {
      log.info({ reason: disposition.reason }, "message left for redelivery");
      deps.acks.leave(msg, disposition.reason);
    }
  };
  const now = recordFailed ? leaveFor("kube-api-error") : nowDisposition(targets, deps.config);
  if (followUps.length === 0 || !now.delete) {
    settle(followUps.length === 0 && targets.length === 0 ? deleteFor("ignored-kind") : now);
    return {};
  }
  const followUp = Promise.all(followUps).then((results) => {
    if (results.some((r) => r === undefined)) return; // shutdown: the consumer releases it
    const failed = results.find((r) => r !== undefined && !r.delete);
    settle(failed ?? now);
  });
  return { followUp };
}

/** Disposition of the resolved notices; with none (only lifecycle follow-ups), "handled". */
function nowDisposition(targets: readonly NoticeTarget[], config: QueueConfig): Disposition {
  return targets.length === 0 ? deleteFor("handled") : messageDisposition(targets, config);
}

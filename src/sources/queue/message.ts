/**
 * One queue message, from body to deletion. The message is deleted only when
 * nothing more can come of it:
 *  - notices that cordon or drain: once the drain engine has durably recorded
 *    them on the node (cordon + record annotation). The drain itself goes on
 *    in the engine, and any replica that restarts resumes it from the record;
 *  - an Auto Scaling terminate action: once the drain is over and the action
 *    completed (the token lives only in the message, so it is kept until then);
 *  - a launch action: once the node is Ready and the action completed;
 *  - irrelevant or foreign messages: at once (see disposition.ts).
 * A malformed body is never deleted: the queue's redrive policy moves it to
 * the dead-letter queue after its maxReceiveCount.
 *
 * `handleMessage` returns after the quick part (parse, resolve, record); long
 * waits (drain then complete, launch readiness) continue as `followUp`, which
 * does not hold one of the `workers` slots: a drain blocked by a
 * PodDisruptionBudget never stops other messages from being handled.
 */

import { sleep } from "../../async/sleep.ts";
import type { Config } from "../../config/index.ts";
import { errorMessage } from "../../errors.ts";
import type { Notice, NoticeHandler, NoticeOutcome } from "../../notice.ts";
import type { QueueLeaveReason } from "../../observe/labels.ts";
import { type Logger, noticeLogger } from "../../observe/log.ts";
import { countMonitorError, countParseError } from "../../observe/metrics.ts";
import type { MessageAcks, QueueMessageRef } from "./acks.ts";
import {
  completionDelayMs,
  type Disposition,
  deleteFor,
  leaveFor,
  messageDisposition,
  type NoticeTarget,
  noticePath,
} from "./disposition.ts";
import type { InstanceDirectory } from "./instances.ts";
import { heartbeatPlan, type LifecycleActions } from "./lifecycle-actions.ts";
import { type LifecycleAction, lifecycleActionOf, parseQueueMessage } from "./parse.ts";
import { type NodeLookup, resolveTarget, waitForReadyNode } from "./resolve.ts";

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
>;

export interface MessageDeps {
  readonly config: QueueConfig;
  readonly handle: NoticeHandler;
  readonly nodes: NodeLookup;
  readonly instances: InstanceDirectory;
  readonly lifecycle: LifecycleActions;
  readonly acks: MessageAcks;
  readonly log: Logger;
  /** Aborts on shutdown: follow-ups stop waiting and leave their message to SQS. */
  readonly signal: AbortSignal;
}

/** A follow-up's verdict; undefined when shutdown interrupted it (the consumer releases the message). */
type FollowUpResult = Disposition | undefined;

/** Launch waits are bounded by the hook's timeout (default 300 s), at most an hour. */
const LAUNCH_WAIT_CAP_SECONDS = 3600;

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
      const target = await resolveTarget(
        notice.instanceId,
        deps.nodes,
        deps.instances,
        deps.config,
      );
      targets.push(target);
      if (target.kind !== "node") {
        nlog.info(
          { target: target.kind, ...("message" in target ? { err: target.message } : {}) },
          "notice not acted on",
        );
        return;
      }
      const resolveMs = Math.round(performance.now() - resolveStart);
      const recordStart = performance.now();
      const started = deps.handle(notice, target.nodeName);
      // `done` never rejects by contract; a broken promise still must not crash or complete.
      const done = started.done.catch((err: unknown): NoticeOutcome => {
        nlog.warn({ err: errorMessage(err) }, "drain failed");
        return { result: "retry", mayCompleteLifecycleAction: false, summary: errorMessage(err) };
      });
      try {
        await started.recorded;
      } catch (err) {
        recordFailed = true;
        nlog.warn(
          { node: target.nodeName, err: errorMessage(err) },
          "could not record the notice on the node",
        );
        return;
      }
      // Where the time went, for operators asking why a node was cordoned
      // late: waiting in the queue, EC2 lookups, or the API server.
      nlog.info(
        {
          node: target.nodeName,
          resolveMs,
          recordMs: Math.round(performance.now() - recordStart),
          sinceReceiveMs: Date.now() - msg.receivedAt.getTime(),
          ...(msg.sentAtMs !== undefined
            ? { queuedMs: msg.receivedAt.getTime() - msg.sentAtMs }
            : {}),
        },
        "notice recorded on the node",
      );
      if (path === "drain-then-complete" && action !== undefined) {
        followUps.push(completeAfterDrain(action, done, deps, nlog));
      }
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

/** Resolves when `signal` aborts (never rejects). */
function aborted(signal: AbortSignal): Promise<undefined> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(undefined);
    else signal.addEventListener("abort", () => resolve(undefined), { once: true });
  });
}

/** Terminate hook: heartbeat while the drain runs, then (after the configured delay) CONTINUE. */
async function completeAfterDrain(
  action: LifecycleAction,
  done: Promise<NoticeOutcome>,
  deps: MessageDeps,
  log: Logger,
): Promise<FollowUpResult> {
  const stopHeartbeats = new AbortController();
  const onShutdown = () => stopHeartbeats.abort();
  deps.signal.addEventListener("abort", onShutdown, { once: true });
  try {
    // Only `auto` heartbeats need the hook's timeout (DescribeLifecycleHooks).
    const timeout =
      deps.config.heartbeatIntervalSeconds === "auto"
        ? await deps.lifecycle.hookTimeoutSeconds(
            action.autoScalingGroupName,
            action.lifecycleHookName,
          )
        : undefined;
    const plan = heartbeatPlan(deps.config, timeout);
    if (plan !== undefined) void deps.lifecycle.keepAlive(action, plan, stopHeartbeats.signal);
    const outcome = await Promise.race([done, aborted(deps.signal)]);
    if (outcome === undefined) return undefined;
    if (!outcome.mayCompleteLifecycleAction) {
      log.warn(
        { result: outcome.result, summary: outcome.summary },
        "drain did not finish; lifecycle action left open",
      );
      return leaveFor("drain-failed");
    }
    if (!(await sleep(completionDelayMs(deps.config), deps.signal))) return undefined;
    stopHeartbeats.abort();
    return await complete(action, deps, log);
  } finally {
    stopHeartbeats.abort();
    deps.signal.removeEventListener("abort", onShutdown);
  }
}

/** Launch hook: CONTINUE once the instance's node is Ready; left for redelivery if it never is. */
async function completeLaunch(
  notice: Notice,
  action: LifecycleAction,
  deps: MessageDeps,
  log: Logger,
): Promise<FollowUpResult> {
  const timeout = await deps.lifecycle.hookTimeoutSeconds(
    action.autoScalingGroupName,
    action.lifecycleHookName,
  );
  const waitSeconds = Math.min(timeout ?? 300, LAUNCH_WAIT_CAP_SECONDS);
  const node = await waitForReadyNode(notice.instanceId, deps.nodes, deps.instances, {
    timeoutMs: waitSeconds * 1000,
    signal: deps.signal,
  });
  if (deps.signal.aborted) return undefined;
  if (node === undefined) {
    log.warn(
      { waitSeconds },
      "no Ready node for the launched instance; lifecycle action left open",
    );
    return leaveFor("not-in-cluster");
  }
  log.info({ node }, "launched instance's node is Ready");
  return complete(action, deps, log);
}

async function complete(
  action: LifecycleAction,
  deps: MessageDeps,
  log: Logger,
): Promise<Disposition> {
  if (deps.config.dryRun) {
    log.info({ group: action.autoScalingGroupName }, "dry run: lifecycle action not completed");
    return deleteFor("handled");
  }
  try {
    const result = await deps.lifecycle.complete(action);
    log.info(
      { group: action.autoScalingGroupName, hook: action.lifecycleHookName, result },
      "lifecycle action completed",
    );
    return deleteFor("handled");
  } catch (err) {
    log.warn(
      { err: errorMessage(err) },
      "completing the lifecycle action failed; will retry on redelivery",
    );
    return leaveFor("aws-api-error" satisfies QueueLeaveReason);
  }
}

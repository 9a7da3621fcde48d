import { orAborted } from "../../async/or-aborted.ts";
import { errorMessage } from "../../errors.ts";
import type { Notice, NoticeOutcome } from "../../notice.ts";
import type { QueueLeaveReason } from "../../observe/labels.ts";
import type { Logger } from "../../observe/log.ts";
import { type Disposition, deleteFor, leaveFor } from "./disposition.ts";
import { isAwsOutage } from "./health-gate.ts";
import { holdUntilAnswered } from "./hold.ts";
import type { CompleteResult } from "./lifecycle-actions.ts";
import type { MessageDeps } from "./message.ts";
import type { LifecycleAction } from "./parse.ts";
import { waitForReadyNode } from "./resolve.ts";

/** A follow-up's verdict; undefined when shutdown interrupted it (the consumer releases the message). */
export type FollowUpResult = Disposition | undefined;

/** Launch waits are bounded by the hook's timeout (default 300 s), at most an hour. */
const LAUNCH_WAIT_CAP_SECONDS = 3600;

/**
 * Terminate hook: kept until the node's record says the action was
 * completed, by this replica or whichever owns the node's work.
 */
export async function completedOnNode(
  done: Promise<NoticeOutcome>,
  deps: MessageDeps,
  log: Logger,
): Promise<FollowUpResult> {
  const outcome = await orAborted(done, deps.signal);
  if (outcome === undefined) return undefined;
  if (deps.config.dryRun) {
    log.info("dry run: lifecycle action not completed");
    return deleteFor("handled");
  }
  if (outcome.completion === "completed") return deleteFor("handled");
  log.warn(
    { result: outcome.result, summary: outcome.summary },
    "lifecycle action not completed; message left for another try",
  );
  return leaveFor("drain-failed");
}

/** Launch hook: CONTINUE once the instance's node is Ready; left for redelivery if it never is. */
export async function completeLaunch(
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

/**
 * Terminate hook for an instance with no node (see noNodeVerdict): waits
 * until `untilMs` for a node to register, then completes with CONTINUE. A
 * node that does register sends the message back for redelivery, where it
 * takes the normal path (record, drain, complete).
 */
export async function completeWithoutNode(
  notice: Notice,
  action: LifecycleAction,
  untilMs: number,
  deps: MessageDeps,
  log: Logger,
): Promise<FollowUpResult> {
  const waitMs = untilMs - Date.now();
  if (waitMs > 0) {
    log.info({ waitMs }, "instance has no node yet; waiting for it to register");
    const node = await waitForReadyNode(notice.instanceId, deps.nodes, deps.instances, {
      timeoutMs: waitMs,
      pollMs: 1000,
      signal: deps.signal,
      ready: false,
    });
    if (deps.signal.aborted) return undefined;
    if (node !== undefined) {
      log.info({ node }, "the instance's node registered; the message comes back to drain it");
      return leaveFor("not-in-cluster");
    }
  }
  log.info("instance has no node in the cluster: completing its lifecycle action without a drain");
  return complete(action, deps, log);
}

/** CONTINUE; while Auto Scaling is unavailable the message is held and the call retried. */
async function complete(
  action: LifecycleAction,
  deps: MessageDeps,
  log: Logger,
): Promise<FollowUpResult> {
  if (deps.config.dryRun) {
    log.info({ group: action.autoScalingGroupName }, "dry run: lifecycle action not completed");
    return deleteFor("handled");
  }
  let failure: unknown;
  const result = await holdUntilAnswered<CompleteResult | undefined>(
    "CompleteLifecycleAction",
    async () => {
      try {
        const r = await deps.lifecycle.complete(action);
        deps.gate.answered("aws");
        return { ok: r };
      } catch (err) {
        if (isAwsOutage(err) && !deps.signal.aborted) return { down: "aws", err };
        failure = err;
        return { ok: undefined };
      }
    },
    {
      gate: deps.gate,
      maxHoldMs: deps.config.queueHoldMaxSeconds * 1000,
      signal: deps.signal,
      log,
    },
  );
  if (result !== undefined) {
    log.info(
      { group: action.autoScalingGroupName, hook: action.lifecycleHookName, result },
      "lifecycle action completed",
    );
    return deleteFor("handled");
  }
  if (deps.signal.aborted) return undefined;
  log.warn(
    { err: failure === undefined ? "held too long" : errorMessage(failure) },
    "completing the lifecycle action failed; will retry on redelivery",
  );
  return leaveFor("aws-api-error" satisfies QueueLeaveReason);
}

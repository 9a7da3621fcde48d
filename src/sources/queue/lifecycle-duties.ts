/**
 * Terminate lifecycle actions this replica owns, as the drain engine hands
 * them over (a NoticeDuty: the notice from the node's record, the token in
 * its detail). Whoever owns the node's work heartbeats the action at once
 * (a replica taking it over from one that went away does not know when the
 * last heartbeat was sent), then at the interval, and completes it with
 * CONTINUE once the drain is over; the engine records that on the node
 * before the message is deleted, so it is completed once.
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/completing-lifecycle-hooks.html
 */
import { orAborted } from "../../async/or-aborted.ts";
import { sleep } from "../../async/sleep.ts";
import { errorMessage } from "../../errors.ts";
import type { DutyHandler, DutyResult, NoticeDuty, NoticeOutcome } from "../../notice.ts";
import type { Logger } from "../../observe/log.ts";
import { completionDelayMs } from "./disposition.ts";
import { holdRetryDelayMs, isAwsOutage, mayHold } from "./health-gate.ts";
import {
  type CompleteResult,
  type HeartbeatPlan,
  heartbeatPlan,
  type LifecycleActions,
} from "./lifecycle-actions.ts";
import type { QueueConfig } from "./message.ts";
import { lifecycleActionOf } from "./parse.ts";

export interface LifecycleDuties {
  readonly handle: DutyHandler;
  /** Resolves once every duty handed over has ended. */
  settled(): Promise<void>;
}

export function createLifecycleDuties(deps: {
  readonly lifecycle: LifecycleActions;
  readonly config: QueueConfig;
  readonly log: Logger;
  /** Shutdown: every duty stops (the engine stops them too). */
  readonly signal: AbortSignal;
}): LifecycleDuties {
  const running = new Set<Promise<DutyResult>>();

  async function carryOut(duty: NoticeDuty): Promise<DutyResult> {
    const action = lifecycleActionOf(duty.notice);
    const log = deps.log.child({
      noticeId: duty.notice.id,
      instanceId: duty.notice.instanceId,
      node: duty.nodeName,
    });
    if (action === undefined) {
      log.warn("notice needs completion but carries no lifecycle action");
      return "open";
    }
    const stop = AbortSignal.any([duty.signal, deps.signal]);
    const beats = new AbortController();
    // The first heartbeat goes out before anything else, the hook's timeout is read meanwhile.
    let setPlan!: (p: Promise<HeartbeatPlan | undefined>) => void;
    const plan = new Promise<HeartbeatPlan | undefined>((resolve) => {
      setPlan = resolve;
    });
    // HEARTBEAT_INTERVAL=-1: no heartbeats at all, as in NTH.
    const heartbeats =
      deps.config.heartbeatIntervalSeconds === -1
        ? Promise.resolve()
        : deps.lifecycle.keepAlive(action, plan, AbortSignal.any([stop, beats.signal]));
    // Only `auto` needs the hook's timeout (DescribeLifecycleHooks).
    setPlan(
      deps.config.heartbeatIntervalSeconds === "auto"
        ? deps.lifecycle
            .hookTimeoutSeconds(action.autoScalingGroupName, action.lifecycleHookName)
            .then((timeout) => heartbeatPlan(deps.config, timeout))
        : Promise.resolve(heartbeatPlan(deps.config, undefined)),
    );
    log.info({ group: action.autoScalingGroupName }, "lifecycle action owned here; heartbeating");
    try {
      const outcome: NoticeOutcome | undefined = await orAborted(duty.done, stop);
      if (outcome === undefined) return "open";
      if (!outcome.mayCompleteLifecycleAction) {
        log.warn(
          { result: outcome.result, summary: outcome.summary },
          "drain did not finish; lifecycle action left open",
        );
        return "open";
      }
      if (!(await sleep(completionDelayMs(deps.config), stop))) return "open";
      beats.abort();
      const result = await completeHeld(action, stop, log);
      if (result === undefined) return "open";
      log.info(
        { group: action.autoScalingGroupName, hook: action.lifecycleHookName, result },
        "lifecycle action completed",
      );
      return result;
    } catch (err) {
      log.warn({ err: errorMessage(err) }, "completing the lifecycle action failed");
      return "open";
    } finally {
      beats.abort();
      await heartbeats;
    }
  }

  /**
   * CONTINUE; while Auto Scaling is unavailable (no answer, 5xx, throttling)
   * the call is tried again with back-off for up to queue-hold-max-seconds,
   * rather than leaving the message to come back and be handled again.
   * Undefined when it stopped trying (held too long, or shutdown).
   */
  async function completeHeld(
    action: NonNullable<ReturnType<typeof lifecycleActionOf>>,
    stop: AbortSignal,
    log: Logger,
  ): Promise<CompleteResult | undefined> {
    const since = Date.now();
    for (let attempt = 1; ; attempt++) {
      try {
        return await deps.lifecycle.complete(action);
      } catch (err) {
        const maxHoldMs = deps.config.queueHoldMaxSeconds * 1000;
        if (!isAwsOutage(err) || !mayHold(since, Date.now(), maxHoldMs)) throw err;
        const wait = holdRetryDelayMs(attempt, undefined, Math.random());
        log.info(
          { err: errorMessage(err), retryInMs: wait },
          "completing held: Auto Scaling unavailable",
        );
        if (!(await sleep(wait, stop))) return undefined;
      }
    }
  }

  return {
    handle(duty) {
      const p = carryOut(duty);
      running.add(p);
      void p.finally(() => running.delete(p));
      return p;
    },
    async settled() {
      await Promise.allSettled([...running]);
    },
  };
}

/**
 * Auto Scaling lifecycle actions: completing them (CONTINUE) and keeping them
 * alive with heartbeats while a drain outlives the hook's heartbeat timeout.
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/completing-lifecycle-hooks.html
 */
import {
  type AutoScalingClient,
  CompleteLifecycleActionCommand,
  DescribeLifecycleHooksCommand,
  RecordLifecycleActionHeartbeatCommand,
} from "@aws-sdk/client-auto-scaling";
import { sleep } from "../../async/sleep.ts";
import { isAccessDenied } from "../../aws/permissions.ts";
import type { Config } from "../../config/index.ts";
import { errorMessage, NthdError } from "../../errors.ts";
import type { AwsPermission } from "../../observe/labels.ts";
import type { Logger } from "../../observe/log.ts";
import type { LifecycleAction } from "./parse.ts";

/** AWS ends a lifecycle action after 100 heartbeat timeouts or 48 hours, whichever is less. */
const MAX_GLOBAL_TIMEOUT_SECONDS = 172_800;

export interface HeartbeatPlan {
  readonly intervalSeconds: number;
  readonly untilSeconds: number;
}

/**
 * When to heartbeat. A configured interval (NTH's HEARTBEAT_INTERVAL/UNTIL)
 * wins and -1 means none, as in NTH; `auto` (nthd's default) beats every half
 * of the hook's own heartbeat timeout, which keeps the action alive with a
 * margin, until AWS's global timeout. No timeout known: no heartbeats.
 */
export function heartbeatPlan(
  config: Pick<Config, "heartbeatIntervalSeconds" | "heartbeatUntilSeconds">,
  hookTimeoutSeconds: number | undefined,
): HeartbeatPlan | undefined {
  if (config.heartbeatIntervalSeconds === -1) return undefined;
  if (typeof config.heartbeatIntervalSeconds === "number") {
    // HEARTBEAT_UNTIL's default (48 h) is the settings table's.
    return {
      intervalSeconds: config.heartbeatIntervalSeconds,
      untilSeconds: config.heartbeatUntilSeconds,
    };
  }
  if (hookTimeoutSeconds === undefined || hookTimeoutSeconds <= 0) return undefined;
  return {
    intervalSeconds: Math.max(1, Math.floor(hookTimeoutSeconds / 2)),
    untilSeconds: Math.min(100 * hookTimeoutSeconds, MAX_GLOBAL_TIMEOUT_SECONDS),
  };
}

/** "completed", or "gone" when AWS has no such action in progress (completed by someone else, timed out). */
export type CompleteResult = "completed" | "gone";

export interface LifecycleActions {
  /** The hook's heartbeat timeout in seconds; undefined if it cannot be learned. Cached per hook. */
  hookTimeoutSeconds(group: string, hook: string): Promise<number | undefined>;
  complete(action: LifecycleAction): Promise<CompleteResult>;
  /**
   * Sends a heartbeat at once (whoever takes an action over does not know
   * when the last one was sent), then by the plan until `signal` aborts, the
   * plan's time is up or AWS says the action ended. No plan: only the first.
   */
  keepAlive(
    action: LifecycleAction,
    plan: Promise<HeartbeatPlan | undefined>,
    signal: AbortSignal,
  ): Promise<void>;
}

/** A ValidationError means AWS will never accept this call: there is no such action in progress. */
function isValidationError(err: unknown): boolean {
  return (
    typeof err === "object" &&
    err !== null &&
    (err as { name?: unknown }).name === "ValidationError"
  );
}

/**
 * What names one lifecycle action to Auto Scaling, for completing it or for
 * a heartbeat: group and hook, the token when the message carried one, and
 * always the instance id, which alone is enough (both calls accept it in
 * place of the token).
 */
function actionIds(action: LifecycleAction) {
  return {
    AutoScalingGroupName: action.autoScalingGroupName,
    LifecycleHookName: action.lifecycleHookName,
    ...(action.lifecycleActionToken !== undefined
      ? { LifecycleActionToken: action.lifecycleActionToken }
      : {}),
    InstanceId: action.instanceId,
  };
}

export function createLifecycleActions(opts: {
  autoscaling: Pick<AutoScalingClient, "send">;
  log: Logger;
  /** IAM actions refused at start-up: their calls are not made at all. */
  denied?: ReadonlySet<AwsPermission>;
  /** Told when AWS refuses a call (the permission was taken away). */
  onDenied?: (action: AwsPermission) => void;
}): LifecycleActions {
  const { autoscaling, log } = opts;
  const denied = new Set(opts.denied ?? []);
  const refuse = (action: AwsPermission) => {
    denied.add(action);
    opts.onDenied?.(action);
  };
  const timeouts = new Map<string, Promise<number | undefined>>();

  async function describeTimeout(group: string, hook: string): Promise<number | undefined> {
    if (denied.has("autoscaling:DescribeLifecycleHooks")) return undefined;
    try {
      const out = await autoscaling.send(
        new DescribeLifecycleHooksCommand({
          AutoScalingGroupName: group,
          LifecycleHookNames: [hook],
        }),
      );
      return out.LifecycleHooks?.find((h) => h.LifecycleHookName === hook)?.HeartbeatTimeout;
    } catch (err) {
      if (isAccessDenied(err)) {
        refuse("autoscaling:DescribeLifecycleHooks");
        return undefined;
      }
      log.warn(
        { group, hook, err: errorMessage(err) },
        "could not read the lifecycle hook's timeout",
      );
      timeouts.delete(`${group}\n${hook}`); // try again next time
      return undefined;
    }
  }

  return {
    hookTimeoutSeconds(group, hook) {
      const key = `${group}\n${hook}`;
      let pending = timeouts.get(key);
      if (pending === undefined) {
        pending = describeTimeout(group, hook);
        timeouts.set(key, pending);
      }
      return pending;
    },

    async complete(action) {
      try {
        await autoscaling.send(
          new CompleteLifecycleActionCommand({
            ...actionIds(action),
            LifecycleActionResult: "CONTINUE",
          }),
        );
        return "completed";
      } catch (err) {
        if (isValidationError(err)) {
          log.info(
            {
              group: action.autoScalingGroupName,
              hook: action.lifecycleHookName,
              reason: errorMessage(err),
            },
            "lifecycle action is no longer in progress",
          );
          return "gone";
        }
        throw new NthdError("AWS_API", `completing lifecycle action: ${errorMessage(err)}`, {
          cause: err,
          context: { group: action.autoScalingGroupName, instanceId: action.instanceId },
        });
      }
    },

    async keepAlive(action, plan, signal) {
      const startedAt = Date.now();
      /** False once AWS says the action is over. */
      const beat = async (): Promise<boolean> => {
        if (denied.has("autoscaling:RecordLifecycleActionHeartbeat")) return false;
        try {
          await autoscaling.send(new RecordLifecycleActionHeartbeatCommand(actionIds(action)));
          log.debug({ group: action.autoScalingGroupName }, "lifecycle heartbeat sent");
          return true;
        } catch (err) {
          if (isValidationError(err)) {
            log.info({ reason: errorMessage(err) }, "lifecycle action ended; heartbeats stop");
            return false;
          }
          if (isAccessDenied(err)) {
            refuse("autoscaling:RecordLifecycleActionHeartbeat");
            return false;
          }
          log.warn(
            { err: errorMessage(err) },
            "lifecycle heartbeat failed; retrying next interval",
          );
          return true;
        }
      };
      if (signal.aborted || !(await beat())) return;
      const p = await plan;
      if (p === undefined) return;
      const stopAt = startedAt + p.untilSeconds * 1000;
      while (!signal.aborted) {
        const wait = Math.min(p.intervalSeconds * 1000, stopAt - Date.now());
        if (wait <= 0) break;
        if (!(await sleep(wait, signal))) break;
        if (!(await beat())) return;
      }
    },
  };
}

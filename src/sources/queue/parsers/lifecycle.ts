/**
 * Auto Scaling lifecycle actions, in either shape they reach the queue: the
 * `detail` of an EventBridge "EC2 Instance-… Lifecycle Action" event, or the
 * message a lifecycle hook sends straight to SQS. Both carry the same keys.
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-event-reference.html
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/prepare-for-lifecycle-notifications.html
 */
import { createHash } from "node:crypto";
import { isInstanceId } from "../../../aws-ids.ts";
import type { Notice } from "../../../notice.ts";
import { found, ignored, malformed, type ParseResult } from "../../parse-result.ts";
import { type JsonObject, show, str } from "./fields.ts";
import {
  type EventParser,
  envelopeDetail,
  eventTimeOrReceipt,
  type ParseContext,
  queueNotice,
} from "./types.ts";

export const TRANSITION_TERMINATING = "autoscaling:EC2_INSTANCE_TERMINATING";
export const TRANSITION_LAUNCHING = "autoscaling:EC2_INSTANCE_LAUNCHING";
export const TEST_NOTIFICATION = "autoscaling:TEST_NOTIFICATION";
export type LifecycleTransition = typeof TRANSITION_TERMINATING | typeof TRANSITION_LAUNCHING;

/**
 * What CompleteLifecycleAction and RecordLifecycleActionHeartbeat need. Both
 * calls accept the instance id in place of the token, so an action whose
 * message carried no token is still completed (by instance id).
 */
export interface LifecycleAction {
  readonly autoScalingGroupName: string;
  readonly lifecycleHookName: string;
  readonly lifecycleActionToken?: string;
  readonly instanceId: string;
  readonly transition: LifecycleTransition;
}

/** The hook's test message, sent once when a hook is created; it names no real action. */
export function isTestNotification(record: JsonObject): boolean {
  return record.Event === TEST_NOTIFICATION || record.LifecycleTransition === TEST_NOTIFICATION;
}

/**
 * Turns one lifecycle record into a notice. `expected` is the transition the
 * envelope promised (EventBridge detail-type or the direct message's own field).
 */
export function lifecycleNotice(
  record: JsonObject,
  expected: LifecycleTransition,
  extra: { eventTime: Date | undefined; detail: Record<string, unknown> },
  ctx: ParseContext,
): ParseResult {
  if (isTestNotification(record)) {
    return ignored("Auto Scaling test notification: sent when a hook is created");
  }
  if (record.LifecycleTransition !== expected) {
    return malformed(
      `LifecycleTransition is ${show(record.LifecycleTransition)}, expected "${expected}"`,
    );
  }
  const instanceId = record.EC2InstanceId;
  if (!isInstanceId(instanceId)) {
    return malformed("EC2InstanceId is missing or not an EC2 instance id");
  }
  // Only the instance decides what to drain. Group and hook name are needed
  // to complete the action, the token not even for that (the instance id
  // stands in), so their absence is reported, never a reason to keep the
  // message: the instance goes away whatever its message lacks.
  const groupName = str(record, "AutoScalingGroupName");
  const hookName = str(record, "LifecycleHookName");
  const token = str(record, "LifecycleActionToken");
  if (groupName === undefined || hookName === undefined) {
    ctx.warn("AutoScalingGroupName or LifecycleHookName missing: the action cannot be completed");
  } else if (token === undefined) {
    ctx.warn("LifecycleActionToken missing: the action is completed by instance id");
  }
  const terminating = expected === TRANSITION_TERMINATING;
  const notice = queueNotice(
    {
      kind: terminating ? "asg-terminate" : "asg-launch",
      // The token names the lifecycle action whichever way it arrived, so the
      // same action seen via EventBridge and via the hook's own target
      // dedupes. It is also a secret (whoever holds it may complete the
      // action), and the notice id is printed in taints, Events, logs and
      // webhooks: the id carries a digest of it, never the token itself.
      eventKey:
        token !== undefined
          ? lifecycleKey(token)
          : (str(record, "RequestId") ?? `${groupName ?? "-"}/${hookName ?? "-"}`),
      instanceId,
      action: terminating ? "drain" : "complete-launch",
      // Completed after the drain by whichever replica owns the node's work.
      needsCompletion: terminating,
      // The hook's timeout is not in the message; the consumer knows it.
      deadline: undefined,
      eventTime: extra.eventTime,
      detail: {
        ...extra.detail,
        autoScalingGroupName: groupName,
        lifecycleHookName: hookName,
        lifecycleActionToken: token,
        lifecycleTransition: expected,
        origin: str(record, "Origin"),
        destination: str(record, "Destination"),
        notificationMetadata: str(record, "NotificationMetadata"),
        requestId: str(record, "RequestId"),
      },
    },
    ctx,
  );
  return found([notice]);
}

/**
 * The stable, non-secret key of a lifecycle action: a digest of its token.
 * 64 bits are plenty to tell apart the actions one queue sees.
 */
export function lifecycleKey(token: string): string {
  return `lifecycle-${createHash("sha256").update(token).digest("hex").slice(0, 16)}`;
}

/**
 * A notice's detail fit to show a person (`nthd explain`): the lifecycle
 * token, which lets whoever holds it complete the action, is replaced.
 */
export function redactedDetail(
  detail: Readonly<Record<string, unknown>>,
): Readonly<Record<string, unknown>> {
  if (typeof detail.lifecycleActionToken !== "string") return detail;
  return { ...detail, lifecycleActionToken: "(redacted)" };
}

/** The lifecycle action a notice must complete or heartbeat, if it carries one. */
export function lifecycleActionOf(notice: Notice): LifecycleAction | undefined {
  if (notice.kind !== "asg-terminate" && notice.kind !== "asg-launch") return undefined;
  const d = notice.detail;
  const transition = d.lifecycleTransition;
  if (
    typeof d.autoScalingGroupName !== "string" ||
    typeof d.lifecycleHookName !== "string" ||
    (transition !== TRANSITION_TERMINATING && transition !== TRANSITION_LAUNCHING)
  ) {
    return undefined;
  }
  return {
    autoScalingGroupName: d.autoScalingGroupName,
    lifecycleHookName: d.lifecycleHookName,
    ...(typeof d.lifecycleActionToken === "string"
      ? { lifecycleActionToken: d.lifecycleActionToken }
      : {}),
    instanceId: notice.instanceId,
    transition,
  };
}

/**
 * The EventBridge parser for one lifecycle transition: both "EC2 Instance-…
 * Lifecycle Action" detail types carry the same keys and differ only in
 * their transition and what nthd does with it.
 */
export function lifecycleEventParser(
  detailType: string,
  kind: "asg-launch" | "asg-terminate",
  transition: LifecycleTransition,
): EventParser {
  return {
    source: "aws.autoscaling",
    detailTypes: [detailType],
    kind,
    parse(event, ctx) {
      const result = lifecycleNotice(
        event.detail,
        transition,
        { eventTime: event.time, detail: envelopeDetail(event) },
        ctx,
      );
      // Records a warning when the event time is unreadable.
      if (result.ok) eventTimeOrReceipt(event, ctx);
      return result;
    },
  };
}

/**
 * Messages Auto Scaling sends straight to the queue, with no EventBridge
 * envelope: lifecycle hook notifications (keyed on `LifecycleTransition`),
 * the hook's test message and scaling notifications (keyed on `Event`).
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/prepare-for-lifecycle-notifications.html
 */
import { ignored, malformed, type ParseResult } from "../../parse-result.ts";
import { type JsonObject, parseRfc3339, show, str } from "./fields.ts";
import {
  isTestNotification,
  type LifecycleTransition,
  lifecycleNotice,
  TRANSITION_LAUNCHING,
  TRANSITION_TERMINATING,
} from "./lifecycle.ts";
import type { ParseContext } from "./types.ts";

/** The direct lifecycle transitions nthd handles. Adding one = one line here. */
export const DIRECT_TRANSITIONS: readonly LifecycleTransition[] = [
  TRANSITION_TERMINATING,
  TRANSITION_LAUNCHING,
];

/** No envelope, but the keys a hook or scaling notification always has. */
export function isDirectAsgShaped(obj: JsonObject): boolean {
  return (
    typeof obj.LifecycleTransition === "string" ||
    (typeof obj.Event === "string" && obj.Event.startsWith("autoscaling:"))
  );
}

export function directAsgLabel(obj: JsonObject): string {
  const transition = str(obj, "LifecycleTransition");
  if (transition !== undefined) return `Auto Scaling lifecycle notification ${show(transition)}`;
  return `Auto Scaling notification ${show(obj.Event)}`;
}

export function parseDirectAsg(obj: JsonObject, ctx: ParseContext): ParseResult {
  if (isTestNotification(obj)) {
    return ignored("Auto Scaling test notification: sent when a hook is created");
  }
  const transition = DIRECT_TRANSITIONS.find((t) => t === obj.LifecycleTransition);
  if (transition === undefined) {
    // Scaling notifications (autoscaling:EC2_INSTANCE_LAUNCH, …_TERMINATE, …_ERROR)
    // report what already happened; the lifecycle hook is the actionable message.
    if (obj.LifecycleTransition === undefined && typeof obj.Event === "string") {
      return ignored(`Auto Scaling notification ${show(obj.Event)}: informational`);
    }
    return malformed(
      `LifecycleTransition ${show(obj.LifecycleTransition)} is not a known transition`,
    );
  }
  let eventTime: Date | undefined;
  if (typeof obj.Time === "string") {
    eventTime = parseRfc3339(obj.Time);
    if (eventTime === undefined) ctx.warn(`Time ${show(obj.Time)} is not a timestamp`);
  }
  return lifecycleNotice(
    obj,
    transition,
    { eventTime, detail: { accountId: str(obj, "AccountId"), service: str(obj, "Service") } },
    ctx,
  );
}

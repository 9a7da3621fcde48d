/**
 * "EC2 Instance-launch Lifecycle Action" via EventBridge. Never a reason to
 * drain: the consumer completes the action once the node is Ready, or ignores
 * it, as configured. Destination "WarmPool" means the instance will be stopped
 * without ever joining the cluster; the detail carries it so the consumer need
 * not wait for a Ready node.
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/warm-pools-eventbridge-events.html
 */
import { lifecycleNotice, TRANSITION_LAUNCHING } from "./lifecycle.ts";
import { type EventParser, envelopeDetail, eventTimeOrReceipt } from "./types.ts";

export const asgLaunch: EventParser = {
  source: "aws.autoscaling",
  detailTypes: ["EC2 Instance-launch Lifecycle Action"],
  kind: "asg-launch",
  parse(event, ctx) {
    const result = lifecycleNotice(
      event.detail,
      TRANSITION_LAUNCHING,
      { eventTime: event.time, detail: envelopeDetail(event) },
      ctx,
    );
    if (result.ok) eventTimeOrReceipt(event, ctx);
    return result;
  },
};

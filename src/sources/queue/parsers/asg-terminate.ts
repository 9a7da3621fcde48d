/**
 * "EC2 Instance-terminate Lifecycle Action" via EventBridge: drain, then the
 * consumer completes the action. Scale-in back into a warm pool
 * (Destination "WarmPool") also takes the node out of service, so it drains too.
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/warm-pools-eventbridge-events.html
 */
import { lifecycleNotice, TRANSITION_TERMINATING } from "./lifecycle.ts";
import { type EventParser, envelopeDetail, eventTimeOrReceipt } from "./types.ts";

export const asgTerminate: EventParser = {
  source: "aws.autoscaling",
  detailTypes: ["EC2 Instance-terminate Lifecycle Action"],
  kind: "asg-terminate",
  parse(event, ctx) {
    const result = lifecycleNotice(
      event.detail,
      TRANSITION_TERMINATING,
      { eventTime: event.time, detail: envelopeDetail(event) },
      ctx,
    );
    if (result.ok) eventTimeOrReceipt(event, ctx);
    return result;
  },
};

/**
 * "EC2 Instance-terminate Lifecycle Action" via EventBridge: drain, then the
 * consumer completes the action. Scale-in back into a warm pool
 * (Destination "WarmPool") also takes the node out of service, so it drains too.
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/warm-pools-eventbridge-events.html
 */
import { lifecycleEventParser, TRANSITION_TERMINATING } from "./lifecycle.ts";

export const asgTerminate = lifecycleEventParser(
  "EC2 Instance-terminate Lifecycle Action",
  "asg-terminate",
  TRANSITION_TERMINATING,
);

/**
 * "EC2 Instance-launch Lifecycle Action" via EventBridge. Never a reason to
 * drain: the consumer completes the action once the node is Ready, or ignores
 * it, as configured. Destination "WarmPool" means the instance will be stopped
 * without ever joining the cluster; the detail carries it so the consumer need
 * not wait for a Ready node.
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/warm-pools-eventbridge-events.html
 */
import { lifecycleEventParser, TRANSITION_LAUNCHING } from "./lifecycle.ts";

export const asgLaunch = lifecycleEventParser(
  "EC2 Instance-launch Lifecycle Action",
  "asg-launch",
  TRANSITION_LAUNCHING,
);

/**
 * "EC2 Instance State-change Notification". Only states that take the
 * instance away lead to a drain; pending/running are known and irrelevant.
 * For stopped/terminated the pods are already gone: the drain is clean-up.
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/monitoring-instance-state-changes.html
 */
import { found, ignored, malformed } from "../../parse-result.ts";
import { show } from "./fields.ts";
import { ec2InstanceEventParser, eventNotice, eventTimeOrReceipt } from "./types.ts";

/** The instance states NTH drains on; nthd keeps the same set. */
export const LEAVING_INSTANCE_STATES = [
  "stopping",
  "stopped",
  "shutting-down",
  "terminated",
] as const;
const KNOWN_INSTANCE_STATES = ["pending", "running", ...LEAVING_INSTANCE_STATES];

export const instanceStateChange = ec2InstanceEventParser(
  ["EC2 Instance State-change Notification"],
  "instance-state-change",
  (event, instanceId, ctx) => {
    const state = event.detail.state;
    if (typeof state !== "string" || state === "") {
      return malformed("detail.state is missing or not a string");
    }
    if (!(LEAVING_INSTANCE_STATES as readonly string[]).includes(state)) {
      if (!KNOWN_INSTANCE_STATES.includes(state)) ctx.warn(`unknown instance state ${show(state)}`);
      return ignored(
        `EC2 instance ${instanceId} entered state ${show(state)}: the node is not going away`,
      );
    }
    eventTimeOrReceipt(event, ctx);
    // No deadline: the instance is already on its way out; the engine's own
    // drain budget applies.
    const notice = eventNotice(
      event,
      {
        kind: "instance-state-change",
        instanceId,
        action: "drain",
        deadline: undefined,
        detail: { state },
      },
      ctx,
    );
    return found([notice]);
  },
);

/**
 * "EC2 Instance State-change Notification". Only states that take the
 * instance away lead to a drain; pending/running are known and irrelevant,
 * and the state alone decides that: an event for `running` is deleted even
 * when its instance id is missing or malformed.
 * For stopped/terminated the pods are already gone: the drain is clean-up.
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/monitoring-instance-state-changes.html
 */
import { found, malformed } from "../../parse-result.ts";
import { type JsonObject, show } from "./fields.ts";
import { ec2InstanceEventParser, eventNotice, eventTimeOrReceipt } from "./types.ts";

/** The instance states NTH drains on; nthd keeps the same set. */
export const LEAVING_INSTANCE_STATES = [
  "stopping",
  "stopped",
  "shutting-down",
  "terminated",
] as const;

function isLeaving(state: unknown): boolean {
  return (LEAVING_INSTANCE_STATES as readonly unknown[]).includes(state);
}

/** Any state that is a string and not a leaving one: the node is not going away. */
function irrelevantState(detail: JsonObject): string | undefined {
  const state = detail.state;
  if (typeof state !== "string" || state === "" || isLeaving(state)) return undefined;
  return `EC2 instance ${show(detail["instance-id"])} entered state ${show(state)}: the node is not going away`;
}

export const instanceStateChange = ec2InstanceEventParser(
  ["EC2 Instance State-change Notification"],
  "instance-state-change",
  (event, instanceId, ctx) => {
    const state = event.detail.state;
    if (typeof state !== "string" || !isLeaving(state)) {
      return malformed("detail.state is missing or not a string");
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
  irrelevantState,
);

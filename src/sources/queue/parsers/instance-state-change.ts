/**
 * "EC2 Instance State-change Notification". Only states that take the
 * instance away lead to a drain; pending/running are known and irrelevant.
 * For stopped/terminated the pods are already gone: the drain is clean-up.
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/monitoring-instance-state-changes.html
 */
import { isInstanceId, show } from "./fields.ts";
import {
  type EventParser,
  envelopeDetail,
  eventTimeOrReceipt,
  type KindResult,
  queueNotice,
} from "./types.ts";

/** The states NTH drains on; nthd keeps the same set. */
export const DRAIN_STATES = ["stopping", "stopped", "shutting-down", "terminated"] as const;
const KNOWN_STATES = ["pending", "running", ...DRAIN_STATES];

export const instanceStateChange: EventParser = {
  source: "aws.ec2",
  detailTypes: ["EC2 Instance State-change Notification"],
  kind: "instance-state-change",
  parse(event, ctx): KindResult {
    const instanceId = event.detail["instance-id"];
    if (!isInstanceId(instanceId)) {
      return { ok: false, error: "detail.instance-id is missing or not an EC2 instance id" };
    }
    const state = event.detail.state;
    if (typeof state !== "string" || state === "") {
      return { ok: false, error: "detail.state is missing or not a string" };
    }
    if (!(DRAIN_STATES as readonly string[]).includes(state)) {
      if (!KNOWN_STATES.includes(state)) ctx.warn(`unknown instance state ${show(state)}`);
      return {
        ok: false,
        ignore: `EC2 instance ${instanceId} entered state ${show(state)}: the node is not going away`,
      };
    }
    eventTimeOrReceipt(event, ctx);
    // No deadline: the instance is already on its way out; the engine's own
    // drain budget applies.
    const notice = queueNotice(
      {
        kind: "instance-state-change",
        eventKey: event.id,
        instanceId,
        action: "drain",
        deadline: undefined,
        eventTime: event.time,
        detail: { ...envelopeDetail(event), state },
      },
      ctx,
    );
    return { ok: true, notices: [notice] };
  },
};

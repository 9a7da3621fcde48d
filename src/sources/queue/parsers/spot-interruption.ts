/**
 * "EC2 Spot Instance Interruption Warning": the instance is stopped,
 * hibernated or terminated about two minutes after the event time.
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-instance-termination-notices.html
 */
import { addSeconds, isInstanceId, show } from "./fields.ts";
import {
  type EventParser,
  envelopeDetail,
  eventTimeOrReceipt,
  type KindResult,
  queueNotice,
} from "./types.ts";

const WARNING_SECONDS = 120;
const DOCUMENTED_ACTIONS = ["terminate", "stop", "hibernate"];

export const spotInterruption: EventParser = {
  source: "aws.ec2",
  detailTypes: ["EC2 Spot Instance Interruption Warning"],
  kind: "spot-interruption",
  parse(event, ctx): KindResult {
    const instanceId = event.detail["instance-id"];
    if (!isInstanceId(instanceId)) {
      return { ok: false, error: "detail.instance-id is missing or not an EC2 instance id" };
    }
    const instanceAction = event.detail["instance-action"];
    // Every action takes the node away, so an unknown value (the docs show the
    // placeholder "action") is recorded, not rejected.
    if (typeof instanceAction !== "string" || !DOCUMENTED_ACTIONS.includes(instanceAction)) {
      ctx.warn(`instance-action ${show(instanceAction)} is not terminate|stop|hibernate`);
    }
    const start = eventTimeOrReceipt(event, ctx);
    // Hibernation starts at once: the docs promise no two-minute lead for it.
    const deadline = instanceAction === "hibernate" ? start : addSeconds(start, WARNING_SECONDS);
    const notice = queueNotice(
      {
        kind: "spot-interruption",
        eventKey: event.id,
        instanceId,
        action: "drain",
        deadline,
        eventTime: event.time,
        detail: {
          ...envelopeDetail(event),
          instanceAction: typeof instanceAction === "string" ? instanceAction : undefined,
        },
      },
      ctx,
    );
    return { ok: true, notices: [notice] };
  },
};

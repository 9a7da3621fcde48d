/**
 * "EC2 Capacity Reservation Instance Interruption Warning": the owner of an
 * interruptible Capacity Reservation reclaims capacity; the instance is
 * terminated two minutes later (detail.instance-termination-time says when).
 * One revision of the page names the detail-type "EC2 Interruptible Capacity
 * Reservation Instance Interruption Warning"; both are accepted.
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/monitor-interruptible-cr.html
 */
import { addSeconds, isInstanceId, parseRfc3339, show, str } from "./fields.ts";
import {
  type EventParser,
  envelopeDetail,
  eventTimeOrReceipt,
  type KindResult,
  queueNotice,
} from "./types.ts";

const WARNING_SECONDS = 120;

export const capacityReservationInterruption: EventParser = {
  source: "aws.ec2",
  detailTypes: [
    "EC2 Capacity Reservation Instance Interruption Warning",
    "EC2 Interruptible Capacity Reservation Instance Interruption Warning",
  ],
  kind: "capacity-reservation-interruption",
  parse(event, ctx): KindResult {
    const instanceId = event.detail["instance-id"];
    if (!isInstanceId(instanceId)) {
      return { ok: false, error: "detail.instance-id is missing or not an EC2 instance id" };
    }
    const terminationTime = event.detail["instance-termination-time"];
    let deadline = typeof terminationTime === "string" ? parseRfc3339(terminationTime) : undefined;
    if (deadline === undefined) {
      ctx.warn(
        `instance-termination-time ${show(terminationTime)} is not a timestamp; assuming two minutes`,
      );
      deadline = addSeconds(eventTimeOrReceipt(event, ctx), WARNING_SECONDS);
    } else {
      eventTimeOrReceipt(event, ctx);
    }
    const notice = queueNotice(
      {
        kind: "capacity-reservation-interruption",
        eventKey: event.id,
        instanceId,
        action: "drain",
        deadline,
        eventTime: event.time,
        detail: {
          ...envelopeDetail(event),
          instanceAction: str(event.detail, "instance-action"),
          azId: str(event.detail, "azId"),
        },
      },
      ctx,
    );
    return { ok: true, notices: [notice] };
  },
};

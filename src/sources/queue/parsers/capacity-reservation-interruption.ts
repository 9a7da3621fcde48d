/**
 * "EC2 Capacity Reservation Instance Interruption Warning": the owner of an
 * interruptible Capacity Reservation reclaims capacity; the instance is
 * terminated two minutes later (detail.instance-termination-time says when).
 * One revision of the page names the detail-type "EC2 Interruptible Capacity
 * Reservation Instance Interruption Warning"; both are accepted.
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/monitor-interruptible-cr.html
 */
import { found } from "../../parse-result.ts";
import { addSeconds, parseRfc3339, show, str } from "./fields.ts";
import { ec2InstanceEventParser, eventNotice, eventTimeOrReceipt } from "./types.ts";

const WARNING_SECONDS = 120;

export const capacityReservationInterruption = ec2InstanceEventParser(
  [
    "EC2 Capacity Reservation Instance Interruption Warning",
    "EC2 Interruptible Capacity Reservation Instance Interruption Warning",
  ],
  "capacity-reservation-interruption",
  (event, instanceId, ctx) => {
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
    const notice = eventNotice(
      event,
      {
        kind: "capacity-reservation-interruption",
        instanceId,
        action: "drain",
        deadline,
        detail: {
          instanceAction: str(event.detail, "instance-action"),
          azId: str(event.detail, "azId"),
        },
      },
      ctx,
    );
    return found([notice]);
  },
);

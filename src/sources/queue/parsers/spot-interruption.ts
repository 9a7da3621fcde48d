/**
 * "EC2 Spot Instance Interruption Warning": the instance is stopped,
 * hibernated or terminated about two minutes after the event time.
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-instance-termination-notices.html
 */
import { found } from "../../parse-result.ts";
import { addSeconds, show } from "./fields.ts";
import { ec2InstanceEventParser, eventNotice, eventTimeOrReceipt } from "./types.ts";

const WARNING_SECONDS = 120;
const DOCUMENTED_ACTIONS = ["terminate", "stop", "hibernate"];

export const spotInterruption = ec2InstanceEventParser(
  ["EC2 Spot Instance Interruption Warning"],
  "spot-interruption",
  (event, instanceId, ctx) => {
    const instanceAction = event.detail["instance-action"];
    // Every action takes the node away, so an unknown value (the docs show the
    // placeholder "action") is recorded, not rejected.
    if (typeof instanceAction !== "string" || !DOCUMENTED_ACTIONS.includes(instanceAction)) {
      ctx.warn(`instance-action ${show(instanceAction)} is not terminate|stop|hibernate`);
    }
    const start = eventTimeOrReceipt(event, ctx);
    // Hibernation starts at once: the docs promise no two-minute lead for it.
    const deadline = instanceAction === "hibernate" ? start : addSeconds(start, WARNING_SECONDS);
    const notice = eventNotice(
      event,
      {
        kind: "spot-interruption",
        instanceId,
        action: "drain",
        deadline,
        detail: { instanceAction: typeof instanceAction === "string" ? instanceAction : undefined },
      },
      ctx,
    );
    return found([notice]);
  },
);

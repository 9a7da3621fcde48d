/**
 * "EC2 Instance Rebalance Recommendation": the Spot instance is at elevated
 * risk of interruption. No deadline; the node is cordoned (draining is a
 * setting applied by the engine, not decided here).
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/rebalance-recommendations.html
 */
import { found } from "../../parse-result.ts";
import { ec2InstanceEventParser, eventNotice, eventTimeOrReceipt } from "./types.ts";

export const rebalanceRecommendation = ec2InstanceEventParser(
  ["EC2 Instance Rebalance Recommendation"],
  "rebalance-recommendation",
  (event, instanceId, ctx) => {
    eventTimeOrReceipt(event, ctx); // records the warning for a placeholder time
    const notice = eventNotice(
      event,
      {
        kind: "rebalance-recommendation",
        instanceId,
        action: "cordon",
        deadline: undefined,
        detail: {},
      },
      ctx,
    );
    return found([notice]);
  },
);

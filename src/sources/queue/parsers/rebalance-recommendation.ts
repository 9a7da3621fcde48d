/**
 * "EC2 Instance Rebalance Recommendation": the Spot instance is at elevated
 * risk of interruption. No deadline; the node is cordoned (draining is a
 * setting applied by the engine, not decided here).
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/rebalance-recommendations.html
 */
import { isInstanceId } from "./fields.ts";
import {
  type EventParser,
  envelopeDetail,
  eventTimeOrReceipt,
  type KindResult,
  queueNotice,
} from "./types.ts";

export const rebalanceRecommendation: EventParser = {
  source: "aws.ec2",
  detailTypes: ["EC2 Instance Rebalance Recommendation"],
  kind: "rebalance-recommendation",
  parse(event, ctx): KindResult {
    const instanceId = event.detail["instance-id"];
    if (!isInstanceId(instanceId)) {
      return { ok: false, error: "detail.instance-id is missing or not an EC2 instance id" };
    }
    eventTimeOrReceipt(event, ctx); // records the warning for a placeholder time
    const notice = queueNotice(
      {
        kind: "rebalance-recommendation",
        eventKey: event.id,
        instanceId,
        action: "cordon",
        deadline: undefined,
        eventTime: event.time,
        detail: envelopeDetail(event),
      },
      ctx,
    );
    return { ok: true, notices: [notice] };
  },
};

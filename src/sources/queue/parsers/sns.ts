/**
 * SNS envelopes: what an SQS subscriber of a topic receives when raw message
 * delivery is off. The event is the `Message` string. Signatures are not
 * checked: the queue's own access policy decides who may send.
 * https://docs.aws.amazon.com/sns/latest/dg/sns-large-payload-raw-message-delivery.html
 */
import { type JsonObject, show, str } from "./fields.ts";

export function isSnsNotification(obj: JsonObject): obj is JsonObject & { Message: string } {
  return obj.Type === "Notification" && typeof obj.Message === "string";
}

/**
 * Subscription handshakes reach a cross-account queue as messages too; they
 * carry no event. Returns the ignore reason, or undefined for anything else.
 */
export function snsHandshake(obj: JsonObject): string | undefined {
  if (obj.Type !== "SubscriptionConfirmation" && obj.Type !== "UnsubscribeConfirmation") {
    return undefined;
  }
  if (str(obj, "TopicArn") === undefined) return undefined;
  return `SNS ${show(obj.Type)} for ${show(obj.TopicArn)}: no event inside`;
}

/** Facts about the envelope worth keeping on the notices found inside it. */
export function snsDetail(obj: JsonObject): Record<string, unknown> {
  return { snsMessageId: str(obj, "MessageId"), snsTopicArn: str(obj, "TopicArn") };
}

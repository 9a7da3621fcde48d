/**
 * The EventBridge envelope around every event the queue carries from a rule
 * with no input transformer.
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events-structure.html
 */
import { malformed, type ParseResult } from "../../parse-result.ts";
import { isObject, type JsonObject, parseRfc3339, str } from "./fields.ts";
import type { EventEnvelope } from "./types.ts";

/** Does this object look like an EventBridge event (as opposed to SNS or a direct hook message)? */
export function isEventBridgeShaped(obj: JsonObject): boolean {
  return "detail-type" in obj || ("source" in obj && "detail" in obj);
}

/** Names the source and detail-type for reasons, even when the envelope is incomplete. */
export function eventLabel(obj: JsonObject): string {
  const source = typeof obj.source === "string" ? obj.source : "?";
  const type = typeof obj["detail-type"] === "string" ? obj["detail-type"] : "?";
  return `${source} "${clip(type)}"`;
}

export function clip(text: string, max = 80): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/**
 * Checks the envelope fields a handled kind needs. `version` is not required:
 * the EC2 state-change sample in the docs has none. An unparseable `time`
 * (the docs' own "yyyy-mm-ddThh:mm:ssZ") is tolerated; a non-string one is not.
 */
export function readEnvelope(obj: JsonObject): ParseResult<{ readonly event: EventEnvelope }> {
  const label = eventLabel(obj);
  const id = str(obj, "id");
  if (id === undefined) return malformed(`${label}: "id" missing or not a string`, "envelope");
  const source = str(obj, "source");
  const detailType = str(obj, "detail-type");
  if (source === undefined || detailType === undefined) {
    return malformed(`${label}: "source" or "detail-type" missing or not a string`, "envelope");
  }
  if (typeof obj.time !== "string") {
    return malformed(`${label}: "time" missing or not a string`, "envelope");
  }
  if (!isObject(obj.detail)) {
    return malformed(`${label}: "detail" missing or not an object`, "envelope");
  }
  // The capacity-reservation sample gives resources as one string; accept both.
  const rawResources = Array.isArray(obj.resources) ? obj.resources : [obj.resources];
  const resources = rawResources.filter((r): r is string => typeof r === "string");
  return {
    ok: true,
    event: {
      id,
      source,
      detailType,
      time: parseRfc3339(obj.time),
      rawTime: clip(obj.time, 40),
      account: str(obj, "account"),
      region: str(obj, "region"),
      resources,
      detail: obj.detail,
    },
  };
}

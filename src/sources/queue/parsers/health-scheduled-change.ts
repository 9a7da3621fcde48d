/**
 * "AWS Health Event" for EC2 scheduled changes (maintenance, retirement).
 * One event may name many instances; each gets its own notice and id, so all
 * of them drain (NTH shares one id across instances and drains only the first).
 * https://docs.aws.amazon.com/health/latest/ug/aws-health-events-eventbridge-schema.html
 */
import type { Notice } from "../../../notice.ts";
import { found, ignored } from "../../parse-result.ts";
import { instanceIdIn, isObject, type JsonObject, parseAwsTime, show, str } from "./fields.ts";
import { type EventParser, eventNotice, eventTimeOrReceipt } from "./types.ts";

export const healthScheduledChange: EventParser = {
  source: "aws.health",
  detailTypes: ["AWS Health Event"],
  kind: "health-scheduled-change",
  irrelevant: irrelevantHealthEvent,
  parse(event, ctx) {
    const d = event.detail;
    const skip = irrelevantHealthEvent(d);
    if (skip !== undefined) return ignored(skip);
    const instanceIds = affectedInstances(d.affectedEntities, event.resources);
    if (instanceIds.length === 0) {
      return ignored("AWS Health scheduled change names no EC2 instance");
    }
    let deadline: Date | undefined;
    if (typeof d.startTime === "string") deadline = parseAwsTime(d.startTime);
    if (deadline === undefined) ctx.warn(`startTime ${show(d.startTime)} is not a timestamp`);
    eventTimeOrReceipt(event, ctx);
    const detail = {
      eventArn: str(d, "eventArn"),
      eventTypeCode: str(d, "eventTypeCode"),
      statusCode: str(d, "statusCode"),
      startTime: str(d, "startTime"),
      endTime: str(d, "endTime"),
      affectedInstanceCount: instanceIds.length,
    };
    const notices: Notice[] = instanceIds.map((instanceId) =>
      eventNotice(
        event,
        { kind: "health-scheduled-change", instanceId, action: "drain", deadline, detail },
        ctx,
      ),
    );
    return found(notices);
  },
};

/**
 * Service, category and status decide whether nthd has anything to do;
 * nothing else in the event is looked at before they have.
 */
function irrelevantHealthEvent(d: JsonObject): string | undefined {
  const service = str(d, "service");
  if (service !== "EC2") return `AWS Health event for service ${show(service)}: not EC2`;
  const category = str(d, "eventTypeCategory");
  if (category !== "scheduledChange") {
    return `AWS Health event category ${show(category)}: not scheduledChange`;
  }
  // "closed" means the change is over or was cancelled: nothing left to prepare for.
  if (d.statusCode === "closed") return "AWS Health scheduled change is closed: nothing left to do";
  return undefined;
}

/** Instance ids among the affected entities (bare or ARN), else among `resources`; unique. */
function affectedInstances(entities: unknown, resources: readonly string[]): string[] {
  const values = Array.isArray(entities)
    ? entities.map((e) => (isObject(e) ? e.entityValue : undefined))
    : [];
  const ids = values.map(instanceIdIn).filter((id): id is string => id !== undefined);
  const chosen =
    ids.length > 0 ? ids : resources.map(instanceIdIn).filter((id) => id !== undefined);
  return [...new Set(chosen)] as string[];
}

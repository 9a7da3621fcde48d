/**
 * What every per-kind parser shares: the parsed EventBridge envelope it is
 * given, the context (receipt time, warnings) and the notices it builds. It
 * answers a ParseResult; parse.ts adds the human description.
 */
import { isInstanceId } from "../../../aws-ids.ts";
import type { Notice, NoticeAction, NoticeKind } from "../../../notice.ts";
import { ignored, malformed, type ParseResult } from "../../parse-result.ts";
import type { JsonObject } from "./fields.ts";

export interface ParseContext {
  readonly receivedAt: Date;
  /** Tolerated oddities (doc placeholders, unknown values): logged and counted by the caller. */
  warn(message: string): void;
}

/** The EventBridge envelope fields every event carries (detail is kind-specific). */
export interface EventEnvelope {
  readonly id: string;
  readonly source: string;
  readonly detailType: string;
  /** Event time; undefined when AWS sent a placeholder or garbage (a warning is recorded). */
  readonly time: Date | undefined;
  readonly rawTime: string;
  readonly account: string | undefined;
  readonly region: string | undefined;
  readonly resources: readonly string[];
  readonly detail: JsonObject;
}

/** One registry entry: an EventBridge (source, detail-type) and its parser. */
export interface EventParser {
  readonly source: string;
  readonly detailTypes: readonly string[];
  readonly kind: NoticeKind;
  /**
   * Decides relevance from the fields that decide it, before anything else
   * is checked: an ignore reason, or undefined to go on. An event that is
   * irrelevant by its own account (an instance entering `running`, a Health
   * event about another service) is deleted even when fields it does not
   * need (instance id, envelope id, time) are missing or malformed;
   * otherwise such a message would cycle into the dead-letter queue.
   */
  irrelevant?(detail: JsonObject): string | undefined;
  parse(event: EventEnvelope, ctx: ParseContext): ParseResult;
}

export interface NoticeFields {
  readonly kind: NoticeKind;
  /** Identifies the AWS event across redeliveries (event id, lifecycle token). */
  readonly eventKey: string;
  readonly instanceId: string;
  readonly action: NoticeAction;
  readonly deadline: Date | undefined;
  readonly eventTime: Date | undefined;
  readonly detail: Record<string, unknown>;
  /** See Notice.needsCompletion (a terminate lifecycle action). */
  readonly needsCompletion?: boolean;
}

/** Build a queue notice; id = event key + instance id, so redeliveries dedupe. */
export function queueNotice(fields: NoticeFields, ctx: ParseContext): Notice {
  const detail: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields.detail)) {
    if (value !== undefined) detail[key] = value;
  }
  return {
    id: `${fields.eventKey}_${fields.instanceId}`,
    kind: fields.kind,
    instanceId: fields.instanceId,
    action: fields.action,
    ...(fields.deadline !== undefined ? { deadline: fields.deadline } : {}),
    ...(fields.eventTime !== undefined ? { eventTime: fields.eventTime } : {}),
    receivedAt: ctx.receivedAt,
    source: "queue",
    detail,
    ...(fields.needsCompletion ? { needsCompletion: true } : {}),
  };
}

/**
 * The notice for one instance an EventBridge event names: keyed on the event
 * id, with the envelope facts ahead of the kind's own detail.
 */
export function eventNotice(
  event: EventEnvelope,
  fields: Omit<NoticeFields, "eventKey" | "eventTime">,
  ctx: ParseContext,
): Notice {
  return queueNotice(
    {
      ...fields,
      eventKey: event.id,
      eventTime: event.time,
      detail: { ...envelopeDetail(event), ...fields.detail },
    },
    ctx,
  );
}

/**
 * The parser of an aws.ec2 event about the one instance in
 * `detail.instance-id`: the id is checked here, so `parse` reads only the
 * kind's own fields. `irrelevant` (see EventParser) runs first, so an event
 * its own fields make irrelevant never fails on the id.
 */
export function ec2InstanceEventParser(
  detailTypes: readonly string[],
  kind: NoticeKind,
  parse: (event: EventEnvelope, instanceId: string, ctx: ParseContext) => ParseResult,
  irrelevant?: (detail: JsonObject) => string | undefined,
): EventParser {
  return {
    source: "aws.ec2",
    detailTypes,
    kind,
    ...(irrelevant ? { irrelevant } : {}),
    parse(event, ctx) {
      const skip = irrelevant?.(event.detail);
      if (skip !== undefined) return ignored(skip);
      const instanceId = event.detail["instance-id"];
      if (!isInstanceId(instanceId)) {
        return malformed("detail.instance-id is missing or not an EC2 instance id");
      }
      return parse(event, instanceId, ctx);
    },
  };
}

/** Envelope facts worth keeping on every EventBridge-born notice. */
export function envelopeDetail(event: EventEnvelope): Record<string, unknown> {
  return {
    eventId: event.id,
    eventSource: event.source,
    detailType: event.detailType,
    account: event.account,
    region: event.region,
  };
}

/** The event time, or the receipt time with a warning when the event's is unusable. */
export function eventTimeOrReceipt(event: EventEnvelope, ctx: ParseContext): Date {
  if (event.time !== undefined) return event.time;
  ctx.warn(
    `event time ${JSON.stringify(event.rawTime)} is not a timestamp; using the receipt time`,
  );
  return ctx.receivedAt;
}

/**
 * Pure parsing of one SQS message body into notices. Never throws, never
 * does I/O. The three outcomes of a Parsed (../parse-result.ts), for the
 * queue: notices to act on; `ignore` (known and irrelevant: delete the
 * message); `error` (malformed: keep it so the redrive policy moves it to the
 * dead-letter queue).
 *
 * Shapes recognised, in order: an SNS envelope (unwrapped once), an
 * EventBridge event (registry keyed on source + detail-type), an Auto Scaling
 * message sent straight to the queue (keyed on LifecycleTransition / Event).
 */
import { errorMessage } from "../../errors.ts";
import {
  found,
  ignored,
  malformed,
  type Parsed,
  type ParseResult,
  prefixed,
} from "../parse-result.ts";
import { directAsgLabel, isDirectAsgShaped, parseDirectAsg } from "./parsers/asg-direct.ts";
import { decodeJson, jsonTypeName } from "./parsers/body.ts";
import { eventLabel, isEventBridgeShaped, readEnvelope } from "./parsers/envelope.ts";
import { isObject, type JsonObject } from "./parsers/fields.ts";
import { parserFor } from "./parsers/registry.ts";
import { isSnsNotification, snsDetail, snsHandshake } from "./parsers/sns.ts";
import type { ParseContext } from "./parsers/types.ts";

export { DIRECT_TRANSITIONS } from "./parsers/asg-direct.ts";
export { MAX_BODY_BYTES } from "./parsers/body.ts";
export { type LifecycleAction, lifecycleActionOf, redactedDetail } from "./parsers/lifecycle.ts";
export { HANDLED_EVENT_TYPES, type HandledEventType } from "./parsers/registry.ts";

export function parseQueueMessage(body: string, receivedAt: Date): Parsed {
  try {
    return parseText(body, receivedAt, "body", false);
  } catch (err) {
    // Unreachable by design; kept so a parser bug costs one message, not the consumer.
    return malformed(`parser failure: ${errorMessage(err)}`);
  }
}

function parseText(text: string, receivedAt: Date, what: string, insideSns: boolean): Parsed {
  const decoded = decodeJson(text, what);
  if (!decoded.ok) return decoded;
  const value = decoded.value;
  if (!isObject(value)) {
    return malformed(`${what} is ${jsonTypeName(value)}, expected a JSON object`, "envelope");
  }
  if (isSnsNotification(value)) {
    if (insideSns) return malformed("SNS envelope inside an SNS envelope", "envelope");
    return unwrapSns(value, receivedAt);
  }
  const handshake = snsHandshake(value);
  if (handshake !== undefined) return ignored(handshake);

  const warnings: string[] = [];
  const ctx: ParseContext = { receivedAt, warn: (m) => warnings.push(m) };
  if (isEventBridgeShaped(value)) return parseEvent(value, ctx, warnings);
  if (isDirectAsgShaped(value)) {
    return describe(parseDirectAsg(value, ctx), directAsgLabel(value), warnings);
  }
  return malformed(
    `${what} is a JSON object but not an EventBridge event, an Auto Scaling notification or an SNS envelope`,
    "envelope",
  );
}

function parseEvent(obj: JsonObject, ctx: ParseContext, warnings: string[]): Parsed {
  const label = eventLabel(obj);
  if (typeof obj.source !== "string" || typeof obj["detail-type"] !== "string") {
    return malformed(`${label}: "source" or "detail-type" missing or not a string`, "envelope");
  }
  const parser = parserFor(obj.source, obj["detail-type"]);
  if (parser === undefined) {
    return ignored(`EventBridge event ${label}: not a kind nthd acts on`);
  }
  // Relevance first: fields the decision does not use must not turn an
  // irrelevant event into a malformed one (and so a dead-letter message).
  const skip = isObject(obj.detail) ? parser.irrelevant?.(obj.detail) : undefined;
  if (skip !== undefined) return ignored(skip);
  const envelope = readEnvelope(obj);
  if (!envelope.ok) return envelope;
  return describe(parser.parse(envelope.event, ctx), envelope.event.detailType, warnings);
}

/** Names what was parsed ("EC2 Spot Instance Interruption Warning"); ignore reasons say it already. */
function describe(result: ParseResult, label: string, warnings: readonly string[]): Parsed {
  if (result.ok) return found(result.notices, label, warnings);
  return "error" in result ? prefixed(result, label) : result;
}

function unwrapSns(envelope: JsonObject & { Message: string }, receivedAt: Date): Parsed {
  const inner = parseText(envelope.Message, receivedAt, "SNS Message", true);
  if (!inner.ok) return prefixed(inner, "SNS envelope");
  const extra = snsDetail(envelope);
  const notices = inner.notices.map((n) => ({ ...n, detail: { ...n.detail, ...defined(extra) } }));
  return {
    ...inner,
    notices,
    description: `SNS envelope unwrapped; inner: ${inner.description}`,
  };
}

function defined(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined));
}

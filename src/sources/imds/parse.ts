/**
 * Pure parsers for the instance metadata items nthd polls. No I/O, never
 * throw: every body becomes a Parsed (../parse-result.ts), the same answer
 * the queue parser gives: notices, an explicit "nothing to do" (ignore) or an
 * error naming what was wrong. `nthd explain` imports these too.
 *
 * Formats: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-categories.html
 */
import type { Notice } from "../../notice.ts";
import { isObject } from "../json.ts";
import { costlyJsonShape } from "../json-shape.ts";
import { found, ignored, malformed, type Parsed, type ParseResult } from "../parse-result.ts";
import { MAX_IMDS_BODY_BYTES } from "./protocol.ts";
import { parseImdsEventTime, parseRfc3339 } from "./times.ts";

export interface ParseContext {
  readonly instanceId: string;
  readonly receivedAt: Date;
}

/** AWS promises two minutes between a Spot warning and the action. */
const SPOT_LEAD_MS = 120_000;

/**
 * Scheduled-event codes AWS documents. An active event with another code is
 * still drained (a termination handler errs on the safe side) and flagged.
 */
export const SCHEDULED_EVENT_CODES = [
  "instance-reboot",
  "system-reboot",
  "system-maintenance",
  "instance-retirement",
  "instance-stop",
] as const;

/** Terminal states of a scheduled event: the node may be given back. */
const SCHEDULED_DONE_STATES = ["canceled", "completed"] as const;

/** GET /latest/meta-data/spot/instance-action → {"action": "...", "time": "..."} (404 when none). */
export function parseSpotInstanceAction(body: string, ctx: ParseContext): Parsed {
  const json = readObject(body, "spot/instance-action");
  if (!json.ok) return json;
  const { action: rawAction, time } = json.value;
  // A 200 on this item means an interruption is pending, but an object with
  // neither field is not the documented body: report it rather than drain on it.
  if (typeof rawAction !== "string" && typeof time !== "string") {
    return malformed("spot/instance-action: body has neither `action` nor `time`");
  }
  // Every action takes the instance away, so an odd `action` is reported, not
  // a reason to skip the drain.
  const action = typeof rawAction === "string" ? rawAction : undefined;
  const oddAction =
    rawAction === undefined || action !== undefined
      ? []
      : [`spot/instance-action: \`action\` is ${typeOf(rawAction)}, not a string`];
  const at = parseRfc3339(time);
  // An unreadable time must not stop the drain: assume the documented two minutes.
  const deadline = at ?? new Date(ctx.receivedAt.getTime() + SPOT_LEAD_MS);
  const timeText = typeof time === "string" ? time : "";
  const notice: Notice = {
    id: safeId(`spot-${ctx.instanceId}-${timeText || "unknown-time"}`),
    kind: "spot-interruption",
    instanceId: ctx.instanceId,
    action: "drain",
    deadline,
    receivedAt: ctx.receivedAt,
    source: "imds",
    detail: {
      instanceAction: action ?? "unknown",
      time: timeText,
      ...(at ? {} : { timeUnparsed: true }),
    },
  };
  const when = at ? at.toISOString() : `unparseable time ${JSON.stringify(time)}, assuming +2 min`;
  return found([notice], `spot interruption (${action ?? "unknown action"}) at ${when}`, [
    ...oddAction,
    ...(at ? [] : [`spot/instance-action: unreadable time ${clip(time)}`]),
  ]);
}

/** GET /latest/meta-data/events/recommendations/rebalance → {"noticeTime": "..."} (404 when none). */
export function parseRebalanceRecommendation(body: string, ctx: ParseContext): Parsed {
  const json = readObject(body, "events/recommendations/rebalance");
  if (!json.ok) return json;
  const { noticeTime: rawTime } = json.value;
  // The item is served only while a recommendation stands; its time only
  // enriches the notice. An object without it is not the documented body.
  if (rawTime === undefined) {
    return malformed("events/recommendations/rebalance: `noticeTime` is missing");
  }
  const noticeTime = typeof rawTime === "string" ? rawTime : "";
  const at = parseRfc3339(noticeTime);
  const notice: Notice = {
    id: safeId(`rebalance-${ctx.instanceId}-${noticeTime || "unknown-time"}`),
    kind: "rebalance-recommendation",
    instanceId: ctx.instanceId,
    action: "cordon",
    ...(at ? { eventTime: at } : {}),
    receivedAt: ctx.receivedAt,
    source: "imds",
    detail: { noticeTime, ...(at ? {} : { timeUnparsed: true }) },
  };
  return found(
    [notice],
    `rebalance recommendation at ${at ? at.toISOString() : clip(rawTime)}`,
    at ? [] : [`rebalance: unreadable noticeTime ${clip(rawTime)}`],
  );
}

/**
 * GET /latest/meta-data/events/maintenance/scheduled → JSON array of events.
 * Active events drain before NotBefore; canceled/completed ones give back
 * the node (the engine uncordons only nodes it cordoned for that EventId).
 */
export function parseScheduledEvents(body: string, ctx: ParseContext): Parsed {
  const where = "events/maintenance/scheduled";
  const parsed = readJson(body, where);
  if (!parsed.ok) return parsed;
  if (!Array.isArray(parsed.value)) return malformed(`${where}: body is not a JSON array`);
  if (parsed.value.length === 0) return ignored("no scheduled events");

  // One entry per EventId; a terminal state wins because it can only follow `active`.
  const byId = new Map<string, Record<string, unknown>>();
  const problems: string[] = [];
  const warningsBefore: string[] = [];
  for (const [i, entry] of parsed.value.entries()) {
    if (!isObject(entry)) {
      problems.push(`entry ${i} is not an object`);
      continue;
    }
    const { EventId } = entry;
    let id = typeof EventId === "string" ? EventId.trim() : "";
    if (id === "") {
      // The state decides: an active event drains even without its id (one
      // is made from what it has); any other state names nothing to undo.
      if (!isActive(entry.State)) {
        problems.push(`entry ${i} has no EventId`);
        continue;
      }
      id = `event-${textOf(entry.Code) || "unknown"}-${textOf(entry.NotBefore) || i}`;
      warningsBefore.push(`entry ${i} is active but has no EventId; drained as ${safeId(id)}`);
    }
    const seen = byId.get(id);
    if (!seen || isDone(entry.State)) byId.set(id, entry);
  }

  const notices: Notice[] = [];
  const summary: string[] = [];
  const warnings = [...warningsBefore, ...problems];
  for (const [eventId, event] of byId) {
    const made = scheduledNotice(eventId, event, ctx);
    if ("notice" in made) {
      notices.push(made.notice);
      if (made.notice.detail.unknownCode) warnings.push(`${eventId}: unknown code, drained anyway`);
      if (made.notice.detail.notBeforeUnparsed && made.notice.action === "drain") {
        warnings.push(`${eventId}: unreadable NotBefore, no deadline`);
      }
    }
    summary.push(made.summary);
  }
  if (notices.length > 0) return found(notices, summary.join("; "), warnings);
  if (problems.length > 0) return malformed(`${where}: ${problems.join("; ")}`);
  return ignored(summary.join("; "));
}

function scheduledNotice(
  eventId: string,
  event: Record<string, unknown>,
  ctx: ParseContext,
): { notice: Notice; summary: string } | { summary: string } {
  const code = typeof event.Code === "string" ? event.Code : "";
  const state = typeof event.State === "string" ? event.State.toLowerCase() : "";
  const notBefore = parseImdsEventTime(event.NotBefore);
  const detail = {
    eventId,
    code,
    state,
    description: typeof event.Description === "string" ? event.Description : "",
    notBefore: textOf(event.NotBefore),
    notAfter: textOf(event.NotAfter),
    notBeforeDeadline: textOf(event.NotBeforeDeadline),
    ...(code !== "" && !isKnownCode(code) ? { unknownCode: true } : {}),
    ...(notBefore ? {} : { notBeforeUnparsed: true }),
  };
  const base = {
    kind: "scheduled-maintenance",
    instanceId: ctx.instanceId,
    receivedAt: ctx.receivedAt,
    source: "imds",
  } as const;
  if (state === "active") {
    return {
      notice: {
        ...base,
        id: safeId(eventId),
        action: "drain",
        ...(notBefore ? { deadline: notBefore } : {}),
        detail,
      },
      summary: `${eventId}: ${code || "unknown code"} active, not before ${detail.notBefore || "?"}`,
    };
  }
  if (isDone(state)) {
    // A separate id so the engine's dedupe does not swallow it; `cancels` names the drain's id.
    return {
      notice: {
        ...base,
        id: safeId(`${eventId}-${state}`),
        action: "uncordon",
        detail: { ...detail, cancels: safeId(eventId) },
      },
      summary: `${eventId}: ${code || "unknown code"} ${state}`,
    };
  }
  return { summary: `${eventId}: state ${JSON.stringify(event.State)} needs no action` };
}

/** GET /latest/meta-data/autoscaling/target-lifecycle-state → plain text (404 when unset). */
export function parseAsgTargetLifecycleState(body: string, ctx: ParseContext): Parsed {
  // Values are a few letters: only the start of an odd long body is looked at.
  const state = (body.length > 256 ? body.slice(0, 256) : body).trim();
  // Values are words with an optional "Warmed:" prefix; anything else is not this item.
  if (!/^[A-Za-z]+(?::[A-Za-z]+)?$/.test(state)) {
    return malformed(
      `autoscaling/target-lifecycle-state: unexpected value ${JSON.stringify(state.slice(0, 60))}`,
    );
  }
  // Terminated: the instance is leaving. Warmed:*: it returns to the warm pool
  // (stopped, hibernated or idle) and so leaves service as a node.
  const leaving = state === "Terminated" || state.startsWith("Warmed:");
  if (!leaving) return ignored(`target lifecycle state ${state} needs no action`);
  const notice: Notice = {
    id: safeId(`asg-${ctx.instanceId}-${state}`),
    kind: "asg-terminate",
    instanceId: ctx.instanceId,
    action: "drain",
    receivedAt: ctx.receivedAt,
    source: "imds",
    detail: { targetLifecycleState: state },
  };
  return found([notice], `target lifecycle state ${state}`);
}

// --- helpers ---------------------------------------------------------------

type JsonResult<T> = ParseResult<{ readonly value: T }>;

function readJson(body: string, where: string): JsonResult<unknown> {
  // The client never hands over more (MAX_IMDS_BODY_BYTES); `nthd explain` may.
  if (body.length > MAX_IMDS_BODY_BYTES) {
    return malformed(
      `${where}: body is over ${MAX_IMDS_BODY_BYTES / 1024} KiB, not an IMDS answer`,
    );
  }
  const costly = costlyJsonShape(body);
  if (costly !== undefined) return malformed(`${where}: body ${costly}`);
  try {
    return { ok: true, value: JSON.parse(body) as unknown };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return malformed(`${where}: body is not JSON (${why})`);
  }
}

function readObject(body: string, where: string): JsonResult<Record<string, unknown>> {
  const parsed = readJson(body, where);
  if (!parsed.ok) return parsed;
  if (!isObject(parsed.value)) return malformed(`${where}: body is not a JSON object`);
  return { ok: true, value: parsed.value };
}

function isDone(state: unknown): boolean {
  return (
    typeof state === "string" &&
    (SCHEDULED_DONE_STATES as readonly string[]).includes(state.toLowerCase())
  );
}

function isActive(state: unknown): boolean {
  return typeof state === "string" && state.toLowerCase() === "active";
}

/** A value for a reason: JSON, cut to 60 characters. */
function clip(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

function typeOf(value: unknown): string {
  if (value === null) return "null";
  return Array.isArray(value) ? "an array" : `a ${typeof value}`;
}

function isKnownCode(code: string): boolean {
  return (SCHEDULED_EVENT_CODES as readonly string[]).includes(code);
}

function textOf(value: unknown): string {
  return typeof value === "string" ? value : "";
}

/**
 * Ids end up in taint values and labels: keep [A-Za-z0-9_.-] and at most 63
 * characters, which every id built above fits in for real instance ids.
 */
function safeId(raw: string): string {
  return raw.replace(/[^A-Za-z0-9_.-]/g, "-").slice(0, 63);
}

/**
 * Narrow, hand-written checks for the few fields the queue parsers read.
 * Every check returns a value or undefined; none throws, so a parser can turn
 * a missing field into a reason that names it.
 */
import { instanceIdFromArn, isInstanceId } from "../../../aws-ids.ts";

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A non-empty string, or undefined. */
export function str(obj: JsonObject, key: string): string | undefined {
  const value = obj[key];
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** An instance id given bare or as an instance ARN. */
export function instanceIdIn(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  return isInstanceId(value) ? value : instanceIdFromArn(value);
}

/** RFC 3339 as EventBridge writes it: 2025-01-15T10:00:00Z, fractions allowed. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

export function parseRfc3339(value: string): Date | undefined {
  if (!RFC3339.test(value)) return undefined;
  const ms = Date.parse(value);
  // Date.parse rolls "2025-02-30" over to March; reject by round-tripping the date part.
  if (Number.isNaN(ms)) return undefined;
  const date = new Date(ms);
  if (value.endsWith("Z") && date.toISOString().slice(0, 10) !== value.slice(0, 10)) {
    return undefined;
  }
  return date;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/**
 * RFC 1123 dates as AWS Health writes startTime: "Sat, 05 Jun 2016 15:10:09 GMT".
 * The weekday is not checked: the Health sample itself names the wrong one.
 */
export function parseHttpDate(value: string): Date | undefined {
  const m =
    /^(?:[A-Z][a-z]{2}, )?(\d{1,2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/.exec(
      value,
    );
  if (m === null) return undefined;
  const [, day, mon, year, hh, mm, ss] = m;
  const month = MONTHS.indexOf(mon ?? "");
  if (month < 0) return undefined;
  const ms = Date.UTC(Number(year), month, Number(day), Number(hh), Number(mm), Number(ss));
  const date = new Date(ms);
  if (date.getUTCDate() !== Number(day) || Number(hh) > 23 || Number(mm) > 59) return undefined;
  return date;
}

/** Either timestamp form AWS uses in event bodies. */
export function parseAwsTime(value: string): Date | undefined {
  return parseRfc3339(value) ?? parseHttpDate(value);
}

export function addSeconds(date: Date, seconds: number): Date {
  return new Date(date.getTime() + seconds * 1000);
}

/** A field value for a reason or warning: strings quoted and clipped, others by type. */
export function show(value: unknown): string {
  if (typeof value === "string") {
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  }
  if (value === null || typeof value === "number" || typeof value === "boolean") {
    return String(value);
  }
  return Array.isArray(value) ? "an array" : value === undefined ? "nothing" : `a ${typeof value}`;
}

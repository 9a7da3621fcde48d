/**
 * Narrow, hand-written checks for the few fields the queue parsers read.
 * Every check returns a value or undefined; none throws, so a parser can turn
 * a missing field into a reason that names it.
 */
import { instanceIdFromArn, isInstanceId } from "../../../aws-ids.ts";
import type { JsonObject } from "../../json.ts";

// Shared with the IMDS source: JSON objects and the timestamp formats AWS writes.
export { isObject, type JsonObject } from "../../json.ts";
export { parseAwsTime, parseHttpDate, parseRfc3339 } from "../../times.ts";

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

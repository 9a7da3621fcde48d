/**
 * JSON as both sources' parsers read it: a decoded object is a record of
 * unknown values, checked field by field. Pure, no imports.
 */

export type JsonObject = Record<string, unknown>;

/** A JSON object: not null, not an array. */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

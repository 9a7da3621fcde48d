import { costlyJsonShape } from "../../json-shape.ts";
import { ignored, malformed, type ParseResult } from "../../parse-result.ts";
import { jsonErrorIndex } from "./json-error.ts";

/**
 * Decoding a message body (or an SNS Message) into a JSON value, with a
 * reason for everything that is not one. Plain text is known and irrelevant
 * (an SNS test message with raw delivery on, a hook's e-mail rendering);
 * broken JSON, binary bytes and oversized bodies are malformed.
 */

/** SQS's largest message; anything bigger did not come from SQS intact. */
export const MAX_BODY_BYTES = 1024 * 1024;

export type Decoded = ParseResult<{ readonly value: unknown }>;

// Control characters other than tab/CR/LF, and U+FFFD left by invalid UTF-8.
// biome-ignore lint/suspicious/noControlCharactersInRegex: detecting them is the point
const NOT_TEXT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufffd]/;

export function decodeJson(text: string, what: string): Decoded {
  // Characters never outnumber UTF-8 bytes, so the cheap test goes first.
  if (text.length > MAX_BODY_BYTES || Buffer.byteLength(text) > MAX_BODY_BYTES) {
    return malformed(
      `${what} is ${Buffer.byteLength(text)} bytes, over the ${MAX_BODY_BYTES}-byte SQS maximum`,
      "json",
    );
  }
  const trimmed = text.trim();
  if (trimmed === "") return malformed(`${what} is empty`, "json");
  const costly = costlyJsonShape(text);
  if (costly !== undefined) return malformed(`${what} ${costly}`, "json");
  const looksLikeJson = trimmed.startsWith("{") || trimmed.startsWith("[");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    if (looksLikeJson) return malformed(`${what} is not JSON ${where(text, err)}`, "json");
    if (NOT_TEXT.test(text)) {
      return malformed(`${what} is neither JSON nor text (control or invalid bytes)`, "json");
    }
    const firstLine = trimmed.split("\n", 1)[0] ?? "";
    const sample = firstLine.length > 40 ? `${firstLine.slice(0, 40)}…` : firstLine;
    return ignored(`${what} is plain text, not an AWS event: ${JSON.stringify(sample)}`);
  }
  return { ok: true, value };
}

/**
 * Past this size the position comes from V8's own message instead of
 * json-error.ts: the scanner's time grows with the body (about 100 ms for a
 * megabyte of escapes), and a parse must never cost that.
 */
const SCAN_FOR_POSITION_MAX = 64 * 1024;

/** "at byte 17": the UTF-8 offset of the first character that breaks the JSON. */
function where(text: string, err: unknown): string {
  let index: number | undefined;
  if (text.length <= SCAN_FOR_POSITION_MAX) index = jsonErrorIndex(text);
  else {
    const message = err instanceof Error ? err.message : "";
    const at = /at position (\d+)/.exec(message)?.[1];
    if (at !== undefined) index = Number(at);
    else if (/end of JSON input/.test(message)) index = text.length;
  }
  if (index === undefined) return "(the position is not known)";
  const at = `at byte ${Buffer.byteLength(text.slice(0, index))}`;
  return index >= text.length ? `${at} (ends early)` : at;
}

/** "an array", "a number", … for reasons. */
export function jsonTypeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

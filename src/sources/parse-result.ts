/**
 * What every parser of either source answers: the queue's message and
 * per-kind parsers, the IMDS item parsers, and the decoding steps before
 * them. Three outcomes, told apart by `ok` and then by the reason's field:
 *
 * - found (`ok: true`): notices to act on; `description` names what was
 *   read, `warnings` the tolerated oddities to log and count;
 * - ignored (`ignore`): known and irrelevant: the queue deletes the message,
 *   IMDS has nothing to do;
 * - malformed (`error`): not what the source promises: the queue keeps the
 *   message for the dead-letter queue, IMDS logs it and polls again.
 *
 * Pure: parsers never throw and never do I/O.
 */
import type { Notice } from "../notice.ts";

export interface Ignored {
  readonly ok: false;
  readonly ignore: string;
}

export interface Malformed {
  readonly ok: false;
  readonly error: string;
  /**
   * Where it failed, for the parse-error metric: decoding the body (json),
   * its envelope or shape (envelope), or the kind's own fields (schema, the
   * default).
   */
  readonly stage?: "json" | "envelope" | "schema";
}

export interface Found {
  readonly notices: Notice[];
  /** What was read, for logs and `nthd explain`: "SNS envelope unwrapped; inner: …". */
  readonly description?: string;
  /** Tolerated oddities (doc placeholders, unreadable times, unknown values): log and count them. */
  readonly warnings?: readonly string[];
}

/** `T` is what success carries: notices by default, a decoded value for the steps before. */
export type ParseResult<T extends object = Found> =
  | ({ readonly ok: true } & T)
  | Ignored
  | Malformed;

/** A source's answer for one message or metadata item: always described. */
export type Parsed = ParseResult<Found & { readonly description: string }>;

export function ignored(reason: string): Ignored {
  return { ok: false, ignore: reason };
}

export function malformed(reason: string, stage?: Malformed["stage"]): Malformed {
  return stage === undefined ? { ok: false, error: reason } : { ok: false, error: reason, stage };
}

/** Notices to act on; empty warnings are left out, so a clean parse has none. */
export function found(notices: Notice[]): ParseResult;
export function found(notices: Notice[], description: string, warnings?: readonly string[]): Parsed;
export function found(
  notices: Notice[],
  description?: string,
  warnings: readonly string[] = [],
): ParseResult {
  return {
    ok: true,
    notices,
    ...(description !== undefined ? { description } : {}),
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

/** The same failure, its reason prefixed with where it was found ("SNS envelope: …"). */
export function prefixed(failure: Ignored | Malformed, where: string): Ignored | Malformed {
  return "error" in failure
    ? malformed(`${where}: ${failure.error}`, failure.stage)
    : ignored(`${where}: ${failure.ignore}`);
}

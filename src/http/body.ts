/**
 * Reading a response body with a size limit. A peer that answers with an
 * endless or enormous body (a misbehaving proxy in front of IMDS, a webhook
 * receiver, an API server answering a list of a huge cluster) must cost nthd
 * a clear error, never its memory: reading stops at the limit and the rest
 * of the body is discarded unread (the stream is destroyed, so the
 * connection is not reused).
 */
import { NthdError } from "../errors.ts";
import type { BodySource } from "../observe/labels.ts";
import { countBodyOverLimit } from "../observe/metrics.ts";

/** A response body as undici gives it: chunks of bytes, and a way to stop. */
export interface BodyStream extends AsyncIterable<Uint8Array> {
  destroy(err?: Error): unknown;
}

export interface BodyLimit {
  readonly maxBytes: number;
  /** What was being read, for the error: "GET /api/v1/nodes", "instance metadata GET /x". */
  readonly what: string;
  /** The metric label: whose body it was. */
  readonly source: BodySource;
  /** The response's content-length header, when given: a body declared too large is not read at all. */
  readonly declaredLength?: unknown;
}

/** The bytes read, and whether the body went on past the limit. */
export async function readCapped(
  body: BodyStream,
  limit: BodyLimit,
): Promise<{ bytes: Buffer; overLimit: boolean }> {
  const declared = Number(limit.declaredLength);
  if (Number.isFinite(declared) && declared > limit.maxBytes) {
    body.destroy();
    countBodyOverLimit(limit.source);
    return { bytes: Buffer.alloc(0), overLimit: true };
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.byteLength;
    if (total > limit.maxBytes) {
      body.destroy();
      countBodyOverLimit(limit.source);
      return { bytes: Buffer.concat(chunks), overLimit: true };
    }
    chunks.push(chunk);
  }
  return { bytes: Buffer.concat(chunks, total), overLimit: false };
}

/** The body as UTF-8 text; throws NthdError BODY_TOO_LARGE naming what was read and the limit. */
export async function readBodyText(body: BodyStream, limit: BodyLimit): Promise<string> {
  const { bytes, overLimit } = await readCapped(body, limit);
  if (overLimit) throw bodyTooLarge(limit.what, limit.maxBytes);
  return bytes.toString("utf8");
}

export function bodyTooLarge(what: string, maxBytes: number): NthdError {
  return new NthdError(
    "BODY_TOO_LARGE",
    `${what}: body is over ${formatBytes(maxBytes)}, the limit`,
    {
      context: { what, limitBytes: maxBytes },
    },
  );
}

/** "64 KiB", "16 MiB": limits are powers of two. */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

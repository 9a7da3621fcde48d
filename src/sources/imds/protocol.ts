/**
 * The IMDSv2 rules as pure functions, so the client's decisions are unit
 * tested without a socket. What each status means:
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html
 */

export const TOKEN_PATH = "/latest/api/token";

/**
 * Longest metadata body read. The items nthd reads are a few hundred bytes
 * (a token at most 4 KiB); anything near this is not IMDS answering.
 */
export const MAX_IMDS_BODY_BYTES = 64 * 1024;
export const TOKEN_TTL_HEADER = "x-aws-ec2-metadata-token-ttl-seconds";
export const TOKEN_HEADER = "x-aws-ec2-metadata-token";

/** What the client does with a metadata GET answer. */
export type StatusVerdict =
  | "ok" // 200: the body is the value
  | "absent" // 404: nothing pending / item not set; the body is an HTML page, never parsed
  | "token-rejected" // 401: token missing, expired or invalid: fetch a new one, try again
  | "retry" // 429 / 5xx: IMDS is busy or restarting: back off and try again
  | "fail"; // anything else (400, 403, ...): a fault retrying will not fix

export function classifyStatus(status: number): StatusVerdict {
  if (status === 200) return "ok";
  if (status === 404) return "absent";
  if (status === 401) return "token-rejected";
  if (status === 429 || (status >= 500 && status <= 599)) return "retry";
  return "fail";
}

/** What a token PUT answer means. */
export type TokenVerdict =
  | { kind: "token"; value: string; ttlSeconds: number }
  | { kind: "retry"; reason: string }
  // IMDSv2 refused or unsupported: the only way on is IMDSv1, if allowed.
  | { kind: "refused"; reason: string };

/**
 * Reads a token response. The echoed TTL header wins over the requested TTL
 * when it is shorter, so the token is never used past what IMDS granted.
 */
export function readTokenResponse(
  status: number,
  ttlHeader: string | undefined,
  body: string,
  requestedTtlSeconds: number,
): TokenVerdict {
  if (status === 429 || (status >= 500 && status <= 599)) {
    return { kind: "retry", reason: `token request answered ${status}` };
  }
  if (status !== 200) {
    // 400: bad TTL (a client bug); 403: IMDS disabled or token requests forbidden;
    // 404/405: an IMDS without v2 support.
    return { kind: "refused", reason: `token request answered ${status}` };
  }
  const value = body.trim();
  // A token is opaque but printable and short; anything else is not a token.
  if (value === "" || value.length > 4096 || /[\s<>]/.test(value)) {
    return { kind: "refused", reason: "token response body is not a token" };
  }
  const echoed = Number(ttlHeader);
  const ttlSeconds =
    ttlHeader !== undefined && Number.isInteger(echoed) && echoed > 0
      ? Math.min(echoed, requestedTtlSeconds)
      : requestedTtlSeconds;
  return { kind: "token", value, ttlSeconds };
}

/**
 * When to stop using a token fetched at `fetchedAtMs`: a little before it
 * expires (a quarter of its life, at most a minute), so a request in flight
 * never carries a token that dies on the way.
 */
export function tokenRefreshAt(fetchedAtMs: number, ttlSeconds: number): number {
  const lifeMs = ttlSeconds * 1000;
  return fetchedAtMs + lifeMs - Math.min(60_000, lifeMs / 4);
}

/**
 * Exponential backoff with jitter before try number `nextTry` (2, 3, ...):
 * half fixed, half random, so many nodes that lost IMDS together do not
 * retry in lockstep.
 */
export function backoffMs(nextTry: number, baseMs: number, capMs: number, random: number): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, nextTry - 2));
  return Math.round(ceiling / 2 + (ceiling / 2) * Math.min(1, Math.max(0, random)));
}

/**
 * Capped exponential back-off with jitter, for loops that wait for a peer or
 * a resource to come back (IMDS and the API server at start-up, a listener's
 * port). Half of each delay is fixed and half random, so a fleet of nodes
 * that lost the same peer together does not retry in lockstep.
 */
export interface Backoff {
  /** The first delay's ceiling, in milliseconds. */
  readonly baseMs: number;
  /** No delay exceeds this. */
  readonly capMs: number;
}

/**
 * Retries of the API server by both modes while it does not answer. It is
 * shared by the fleet: after an outage a thousand nodes come back to it, so
 * the retries spread out to half a minute.
 */
export const API_SERVER_RETRY: Backoff = { baseMs: 1_000, capMs: 30_000 };

/** The delay before retry number `retry` (1 for the first retry); `random` in [0, 1]. */
export function backoffDelay(b: Backoff, retry: number, random: number): number {
  const ceiling = Math.min(b.capMs, b.baseMs * 2 ** Math.min(30, Math.max(0, retry - 1)));
  return Math.round(ceiling / 2 + (ceiling / 2) * Math.min(1, Math.max(0, random)));
}

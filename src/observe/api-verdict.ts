/**
 * Readiness of the "kube" check as a pure function of what nthd's own
 * requests saw (kube/contact.ts), and when to send an active probe. No I/O:
 * api-health.ts carries the decisions out.
 *
 * Why not simply probe every few seconds: IMDS mode runs on every node, so
 * a GET every 5 s from each pod is 200 requests/s at 1,000 nodes, for a
 * check that nthd's real requests already answer whenever it is busy.
 */
import type { ContactState } from "../kube/contact.ts";

export interface VerdictOptions {
  /**
   * A failure counts against readiness only when nothing has succeeded for
   * this long, so a few timeouts among many answers (a mass drain on a busy
   * API server) do not flap readiness.
   */
  readonly windowMs: number;
}

export type ApiVerdict =
  | { readonly healthy: true }
  | { readonly healthy: false; readonly reason: string };

export function apiVerdict(c: ContactState, now: number, o: VerdictOptions): ApiVerdict {
  if (c.lastSuccessAt === undefined) {
    return {
      healthy: false,
      reason:
        c.lastFailureAt === undefined
          ? "no answer from the API server yet"
          : `API server unreachable: ${c.lastError ?? "no answer"}`,
    };
  }
  if (c.lastFailureAt === undefined || c.lastFailureAt <= c.lastSuccessAt) return { healthy: true };
  if (now - c.lastSuccessAt < o.windowMs) return { healthy: true };
  return { healthy: false, reason: `API server unreachable: ${c.lastError ?? "no answer"}` };
}

export interface ProbeOptions {
  /** Probe after this long without any answer or failure from nthd's own requests. */
  readonly idleMs: number;
  /** While unhealthy: first retry after this, doubling per failed probe... */
  readonly retryBaseMs: number;
  /** ...up to this. */
  readonly retryMaxMs: number;
}

/**
 * When the next probe is due. Healthy: after `idleMs` of silence from every
 * request (any request's outcome resets the wait). Unhealthy: backing off
 * from the last probe, with jitter (`random` in [0, 1)) so a fleet that lost
 * the API server together does not come back in lockstep.
 */
export function nextProbeAt(
  c: ContactState,
  verdict: ApiVerdict,
  last: { readonly probeAt: number | undefined; readonly failedProbes: number },
  o: ProbeOptions,
  random: number,
): number {
  if (verdict.healthy) {
    const lastContact = Math.max(c.lastSuccessAt ?? -Infinity, c.lastFailureAt ?? -Infinity);
    return lastContact + o.idleMs;
  }
  if (last.probeAt === undefined) return -Infinity; // never probed: now
  const ceiling = Math.min(o.retryMaxMs, o.retryBaseMs * 2 ** Math.max(0, last.failedProbes - 1));
  return last.probeAt + ceiling / 2 + (ceiling / 2) * Math.min(1, Math.max(0, random));
}

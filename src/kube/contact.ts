/**
 * What nthd's own requests say about the API server: when one last got an
 * answer and when one last failed for want of a server (no connection, a
 * timeout, 502/503/504). Readiness is derived from this instead of from a
 * probe every few seconds, so in a busy process it costs the API server
 * nothing, and a probe is sent only after a long silence (observe/api-health.ts).
 *
 * Any HTTP answer counts as contact, a 404 or a 429 too: the server is there
 * and answering. A request the caller cancelled counts as nothing.
 */
import { classifyKubeError } from "./api-error.ts";

export interface ContactState {
  /** Milliseconds (clock) of the last request that got an answer. */
  readonly lastSuccessAt: number | undefined;
  /** Milliseconds (clock) of the last request that found no server. */
  readonly lastFailureAt: number | undefined;
  /** Why the last failure failed, for /readyz and logs. */
  readonly lastError: string | undefined;
}

/** Statuses that mean the API server itself is not serving (gateway, unavailable, timeout). */
const OUTAGE_STATUSES = new Set([502, 503, 504]);

/** Whether a failed call says the API server is out of reach (as opposed to an answer). */
export function isOutage(err: unknown): boolean {
  const info = classifyKubeError(err);
  return info.kind === "network" || (info.status !== undefined && OUTAGE_STATUSES.has(info.status));
}

export class ApiContact implements ContactState {
  lastSuccessAt: number | undefined;
  lastFailureAt: number | undefined;
  lastError: string | undefined;
  readonly #clock: () => number;

  constructor(clock: () => number = () => performance.now()) {
    this.#clock = clock;
  }

  /** The clock the times above are on. */
  now(): number {
    return this.#clock();
  }

  succeeded(): void {
    this.lastSuccessAt = this.#clock();
  }

  /**
   * Records a failed request: an outage when it found no server, an answer
   * when the server said no (4xx, 500); anything else (a bad kubeconfig, an
   * oversized body) says nothing about the server.
   */
  failed(err: unknown): void {
    if (isOutage(err)) {
      this.lastFailureAt = this.#clock();
      this.lastError = classifyKubeError(err).message;
    } else if (classifyKubeError(err).status !== undefined) {
      this.succeeded();
    }
  }
}

import { setTimeout as sleep } from "node:timers/promises";
import { errorMessage } from "../errors.ts";
import type { ApiContact } from "../kube/contact.ts";
import { type ApiVerdict, apiVerdict, nextProbeAt } from "./api-verdict.ts";
import type { Logger } from "./log.ts";
import type { Readiness } from "./readiness.ts";

export interface ApiHealthOptions {
  /** What nthd's own requests saw; the probe's outcome lands here too. */
  readonly contact: ApiContact;
  /**
   * One cheap API call that never waits in the rate limiter, bounded by its
   * own timeout (a timeout is an outage); it records its own outcome in
   * `contact`. `signal` only stops it at shutdown.
   */
  readonly probe: (signal: AbortSignal) => Promise<unknown>;
  readonly readiness: Readiness;
  /** Probe after this long without any outcome from nthd's own requests. */
  readonly idleMs: number;
  /** See api-verdict.ts. Defaults: window 10 s, retry 5 s doubling to 60 s, tick 1 s. */
  readonly windowMs?: number;
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  readonly tickMs?: number;
  readonly log?: Logger;
  readonly signal: AbortSignal;
}

/**
 * Keeps the "kube" readiness check honest: nthd that cannot reach the API
 * server cannot cordon anything, so it reports unready until the server
 * answers again. Readiness comes from nthd's own requests (api-verdict.ts);
 * a probe goes out only after `idleMs` of silence, or on a back-off while
 * unready. The probe bypasses the rate limiter, so it never waits behind
 * evictions. Runs until `signal` aborts; logs only transitions.
 */
export async function watchApiHealth(opts: ApiHealthOptions): Promise<void> {
  const windowMs = opts.windowMs ?? 10_000;
  const probeOpts = {
    idleMs: opts.idleMs,
    retryBaseMs: opts.retryBaseMs ?? 5_000,
    retryMaxMs: opts.retryMaxMs ?? 60_000,
  };
  const { contact } = opts;
  let shown: ApiVerdict | undefined;
  let last = { probeAt: undefined as number | undefined, failedProbes: 0 };
  let jitter = Math.random();
  const show = (verdict: ApiVerdict) => {
    if (shown !== undefined && shown.healthy === verdict.healthy) return;
    if (verdict.healthy) {
      if (shown !== undefined) opts.log?.info("API server reachable again");
      opts.readiness.set("kube", true);
    } else {
      // The first verdict before any request is not news; later ones are.
      if (contact.lastFailureAt !== undefined)
        opts.log?.warn({ err: verdict.reason }, "API server unreachable: not ready");
      opts.readiness.set("kube", false, verdict.reason);
    }
    shown = verdict;
  };

  while (!opts.signal.aborted) {
    let verdict = apiVerdict(contact, contact.now(), { windowMs });
    show(verdict);
    if (contact.now() >= nextProbeAt(contact, verdict, last, probeOpts, jitter)) {
      const ok = await opts.probe(opts.signal).then(
        () => true,
        (err: unknown) => {
          // The client recorded the outcome already (an answer such as a 403
          // still proves the server is there); this is for the debug log.
          if (!opts.signal.aborted) opts.log?.debug({ err: errorMessage(err) }, "API probe failed");
          return false;
        },
      );
      if (opts.signal.aborted) break;
      last = { probeAt: contact.now(), failedProbes: ok ? 0 : last.failedProbes + 1 };
      jitter = Math.random();
      verdict = apiVerdict(contact, contact.now(), { windowMs });
      show(verdict);
    }
    try {
      await sleep(opts.tickMs ?? 1_000, undefined, { signal: opts.signal });
    } catch {
      break;
    }
  }
}

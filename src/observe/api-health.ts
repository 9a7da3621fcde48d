import { setTimeout as sleep } from "node:timers/promises";
import { errorMessage } from "../errors.ts";
import type { Logger } from "./log.ts";
import type { Readiness } from "./readiness.ts";

export interface ApiHealthOptions {
  /** One cheap API call; any answer counts as reachable, a throw as not. */
  readonly probe: (signal: AbortSignal) => Promise<unknown>;
  readonly readiness: Readiness;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly log?: Logger;
  readonly signal: AbortSignal;
}

/**
 * Keeps the "kube" readiness check honest: nthd that cannot reach the API
 * server cannot cordon anything, so it reports unready (and the Deployment's
 * other replica, or an operator's alert, takes over) until the server answers
 * again. Runs until `signal` aborts; logs only transitions.
 */
export async function watchApiHealth(opts: ApiHealthOptions): Promise<void> {
  let healthy: boolean | undefined;
  while (!opts.signal.aborted) {
    try {
      await opts.probe(AbortSignal.any([opts.signal, AbortSignal.timeout(opts.timeoutMs)]));
      if (healthy !== true) {
        if (healthy === false) opts.log?.info("API server reachable again");
        opts.readiness.set("kube", true);
      }
      healthy = true;
    } catch (err) {
      if (opts.signal.aborted) break;
      if (healthy !== false) {
        opts.log?.warn({ err: errorMessage(err) }, "API server unreachable: not ready");
        opts.readiness.set("kube", false, `API server unreachable: ${errorMessage(err)}`);
      }
      healthy = false;
    }
    try {
      await sleep(opts.intervalMs, undefined, { signal: opts.signal });
    } catch {
      break;
    }
  }
}

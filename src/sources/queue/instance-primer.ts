/**
 * Keeps EC2's answers about the cluster's own instances (tags, private DNS
 * name) in memory before any notice needs them. With the managed-tag check on
 * (NTH's CHECK_TAG_BEFORE_DRAINING, on by default) every notice waits for that
 * answer before its node is cordoned, and a mass interruption is exactly when
 * EC2 is busiest: the Auto Scaling groups are launching hundreds of
 * replacements at the same time. Priming costs one DescribeInstances per 200
 * nodes per round; a notice for a node that joined since the last round is
 * looked up on demand, as before.
 */

import { sleep } from "../../async/sleep.ts";
import { errorMessage } from "../../errors.ts";
import type { Logger } from "../../observe/log.ts";
import type { InstanceDirectory } from "./instances.ts";

/** How long a primed answer is trusted: a tag change is honoured within this time. */
export const PRIMED_TTL_MS = 10 * 60_000;

export interface InstancePrimerOptions {
  readonly directory: Pick<InstanceDirectory, "prime">;
  /** Instance ids of the cluster's nodes right now (from the Node informer). */
  readonly instanceIds: () => string[];
  readonly signal: AbortSignal;
  readonly log: Logger;
  readonly ttlMs?: number;
}

/**
 * Primes at once, then every half TTL, until `signal` aborts. Failures are
 * logged and retried next round: priming only saves time, a notice still
 * gets its answer on demand.
 */
export async function runInstancePrimer(opts: InstancePrimerOptions): Promise<void> {
  const ttlMs = opts.ttlMs ?? PRIMED_TTL_MS;
  while (!opts.signal.aborted) {
    const ids = opts.instanceIds();
    const started = Date.now();
    try {
      await opts.directory.prime(ids, ttlMs);
      opts.log.debug(
        { instances: ids.length, tookMs: Date.now() - started },
        "instance facts primed",
      );
    } catch (err) {
      opts.log.warn(
        { err: errorMessage(err), instances: ids.length },
        "priming instance facts from EC2 failed; notices look their instance up on demand",
      );
    }
    if (!(await sleep(ttlMs / 2, opts.signal))) return;
  }
}

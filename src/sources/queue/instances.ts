/**
 * What EC2 says about an instance (private DNS name, tags), fetched with
 * batched DescribeInstances calls and cached briefly. One lookup serves both
 * the private-DNS fallback of node resolution and the managed-tag check.
 *
 * `prime` fills the cache ahead of need for the cluster's own instances (see
 * instance-primer.ts), so that a notice's managed-tag check needs no EC2 call.
 *
 * Instances are looked up with the `instance-id` filter rather than
 * `InstanceIds`: with the latter one unknown id (an instance of another
 * account or long gone) fails the whole batch with InvalidInstanceID.NotFound.
 */
import { DescribeInstancesCommand, type EC2Client } from "@aws-sdk/client-ec2";
import { Batcher } from "./batch.ts";

export interface InstanceFacts {
  readonly instanceId: string;
  readonly privateDnsName: string | undefined;
  readonly state: string | undefined;
  readonly tags: ReadonlyMap<string, string>;
  /** EC2's LaunchTime, in ms since the epoch. */
  readonly launchedAtMs?: number | undefined;
}

export interface InstanceDirectory {
  /** Facts about the instance, or undefined when EC2 does not know it. Rejects on API errors. */
  lookup(instanceId: string): Promise<InstanceFacts | undefined>;
  /**
   * Looks up every id whose cached answer is missing or expires within
   * `ttlMs`, and keeps the answers for `ttlMs`. Rejects on API errors.
   */
  prime(instanceIds: readonly string[], ttlMs: number): Promise<void>;
}

export interface InstanceDirectoryOptions {
  readonly ec2: Pick<EC2Client, "send">;
  /** How long an answer is reused. Tags rarely change; DNS names never do. */
  readonly ttlMs?: number;
  /** How long "EC2 does not know this instance" is reused (it may just be very new). */
  readonly unknownTtlMs?: number;
  readonly windowMs?: number;
  readonly now?: () => number;
}

// DescribeInstances accepts up to 200 values per filter.
const MAX_IDS_PER_CALL = 200;

export function createInstanceDirectory(opts: InstanceDirectoryOptions): InstanceDirectory {
  const ttlMs = opts.ttlMs ?? 60_000;
  const unknownTtlMs = opts.unknownTtlMs ?? 10_000;
  const now = opts.now ?? Date.now;
  const cache = new Map<string, { facts: InstanceFacts | undefined; until: number }>();

  const batcher = new Batcher<string, InstanceFacts>({
    maxSize: MAX_IDS_PER_CALL,
    windowMs: opts.windowMs ?? 20,
    run: (ids) => describe(opts.ec2, ids),
  });

  const remember = (instanceId: string, facts: InstanceFacts | undefined, knownTtlMs: number) => {
    // Keep the cache from growing without bound on a busy shared queue.
    if (cache.size > 50_000) cache.clear();
    cache.set(instanceId, { facts, until: now() + (facts ? knownTtlMs : unknownTtlMs) });
  };

  return {
    async lookup(instanceId) {
      const hit = cache.get(instanceId);
      if (hit !== undefined && hit.until > now()) return hit.facts;
      const facts = await batcher.get(instanceId);
      remember(instanceId, facts, ttlMs);
      return facts;
    },
    async prime(instanceIds, primeTtlMs) {
      // Refreshed a little before expiry, so a primed answer never lapses between rounds.
      const stale = instanceIds.filter(
        (id) => (cache.get(id)?.until ?? 0) < now() + primeTtlMs / 2,
      );
      await Promise.all(stale.map(async (id) => remember(id, await batcher.get(id), primeTtlMs)));
    },
  };
}

async function describe(
  ec2: Pick<EC2Client, "send">,
  ids: string[],
): Promise<Map<string, InstanceFacts>> {
  const out = new Map<string, InstanceFacts>();
  let nextToken: string | undefined;
  do {
    const page = await ec2.send(
      new DescribeInstancesCommand({
        Filters: [{ Name: "instance-id", Values: ids }],
        ...(nextToken ? { NextToken: nextToken } : {}),
      }),
    );
    for (const reservation of page.Reservations ?? []) {
      for (const inst of reservation.Instances ?? []) {
        if (inst.InstanceId === undefined) continue;
        const tags = new Map<string, string>();
        for (const tag of inst.Tags ?? []) if (tag.Key) tags.set(tag.Key, tag.Value ?? "");
        out.set(inst.InstanceId, {
          instanceId: inst.InstanceId,
          privateDnsName: inst.PrivateDnsName || undefined,
          state: inst.State?.Name,
          tags,
          launchedAtMs: inst.LaunchTime?.getTime(),
        });
      }
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return out;
}

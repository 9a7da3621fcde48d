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
import { DescribeInstancesCommand, type EC2Client, type Instance } from "@aws-sdk/client-ec2";
import { Batcher } from "./batch.ts";
import { ExpiringCache } from "./expiring-cache.ts";

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
  /**
   * The tags worth keeping (the managed tag). An instance can carry 50 tags
   * of up to 384 characters each, and the directory holds every instance of
   * the cluster: the others are dropped on arrival.
   */
  readonly tagKeys: readonly string[];
  /** How long an answer is reused. Tags rarely change; DNS names never do. */
  readonly ttlMs?: number;
  /** How long "EC2 does not know this instance" is reused (it may just be very new). */
  readonly unknownTtlMs?: number;
  readonly windowMs?: number;
  readonly now?: () => number;
}

// DescribeInstances accepts up to 200 values per filter.
const MAX_IDS_PER_CALL = 200;

// Cap on cached answers: far above any cluster, it only bounds a storm of
// notices about instances that are not the cluster's.
const MAX_CACHED = 50_000;

export function createInstanceDirectory(opts: InstanceDirectoryOptions): InstanceDirectory {
  const ttlMs = opts.ttlMs ?? 60_000;
  const unknownTtlMs = opts.unknownTtlMs ?? 10_000;
  const now = opts.now ?? Date.now;
  const cache = new ExpiringCache<string, InstanceFacts | undefined>({
    now,
    sweepEveryMs: 60_000,
    maxEntries: MAX_CACHED,
  });

  const batcher = new Batcher<string, InstanceFacts>({
    maxSize: MAX_IDS_PER_CALL,
    windowMs: opts.windowMs ?? 20,
    run: (ids) => describe(opts.ec2, ids, opts.tagKeys),
  });

  const remember = (instanceId: string, facts: InstanceFacts | undefined, knownTtlMs: number) =>
    cache.set(instanceId, facts, facts ? knownTtlMs : unknownTtlMs);

  return {
    async lookup(instanceId) {
      const hit = cache.get(instanceId);
      if (hit !== undefined) return hit.value;
      const facts = await batcher.get(instanceId);
      remember(instanceId, facts, ttlMs);
      return facts;
    },
    async prime(instanceIds, primeTtlMs) {
      // Refreshed a little before expiry, so a primed answer never lapses between rounds.
      const stale = instanceIds.filter((id) => cache.remainingMs(id) < primeTtlMs / 2);
      await Promise.all(stale.map(async (id) => remember(id, await batcher.get(id), primeTtlMs)));
    },
  };
}

/** The facts nthd uses about one instance of a DescribeInstances answer; other tags are dropped. */
export function instanceFacts(
  inst: Instance,
  tagKeys: readonly string[],
): InstanceFacts | undefined {
  if (inst.InstanceId === undefined) return undefined;
  const tags = new Map<string, string>();
  for (const tag of inst.Tags ?? []) {
    if (tag.Key !== undefined && tagKeys.includes(tag.Key)) tags.set(tag.Key, tag.Value ?? "");
  }
  return {
    instanceId: inst.InstanceId,
    privateDnsName: inst.PrivateDnsName || undefined,
    state: inst.State?.Name,
    tags,
    launchedAtMs: inst.LaunchTime?.getTime(),
  };
}

async function describe(
  ec2: Pick<EC2Client, "send">,
  ids: string[],
  tagKeys: readonly string[],
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
        const facts = instanceFacts(inst, tagKeys);
        if (facts !== undefined) out.set(facts.instanceId, facts);
      }
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return out;
}

/**
 * The engine's view of the replicas sharing a queue, from this replica's
 * Lease keeper (src/kube/replica-lease.ts) and the pure decisions of
 * ownership.ts, read against the clock at each question.
 */
import type { ReplicaLease } from "../kube/replica-lease.ts";
import type { Replicas } from "./context.ts";
import { holdingLease, leaseAlive, liveReplicas } from "./ownership.ts";

export function replicasFrom(lease: ReplicaLease, clock: () => Date = () => new Date()): Replicas {
  const byName = () => new Map(lease.sightings().map((s) => [s.name, s]));
  return {
    me: lease.name,
    alive: (owner) => owner === lease.name || leaseAlive(byName().get(owner), clock()),
    live: () => Math.max(1, liveReplicas(lease.sightings(), lease.group, clock())),
    holding: () => holdingLease(lease.renewedAt(), lease.durationSeconds, clock()),
    periodMs: Math.round(lease.renewSeconds * 1000),
    onChange: (listener) => lease.onChange(listener),
  };
}

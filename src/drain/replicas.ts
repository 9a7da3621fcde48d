/**
 * The engine's view of the replicas sharing a queue, from this replica's
 * Lease keeper (src/kube/replica-lease.ts) and the pure decisions of
 * ownership.ts, read against the clock at each question.
 */
import type { ReplicaLease } from "../kube/replica-lease.ts";
import type { Replicas } from "./context.ts";
import { leaseAlive, liveReplicas, ownerId, parseOwner, viewFresh } from "./ownership.ts";

export function replicasFrom(lease: ReplicaLease, clock: () => Date = () => new Date()): Replicas {
  const byName = () => new Map(lease.sightings().map((s) => [s.name, s]));
  const fresh = () =>
    viewFresh(lease.renewedAt(), byName().get(lease.name), lease.durationSeconds, clock());
  const me = ownerId(lease.group, lease.name);
  return {
    me,
    alive(owner) {
      if (owner === me) return true;
      const { group, lease: name } = parseOwner(owner);
      // Another queue's replica: not this one's to judge, let alone take.
      if (group !== undefined && group !== lease.group) return true;
      // A view that cannot be trusted takes every owner for alive: wait, never take.
      return !fresh() || leaseAlive(byName().get(name), clock());
    },
    live: () => Math.max(1, liveReplicas(lease.sightings(), lease.group, clock())),
    holding: fresh,
    periodMs: Math.round(lease.renewSeconds * 1000),
    onChange: (listener) => lease.onChange(listener),
  };
}

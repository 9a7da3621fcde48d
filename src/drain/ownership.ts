/**
 * Who owns a node's work when several queue-mode replicas share a queue.
 * Pure: the Lease sightings come from src/kube/replica-lease.ts, the record
 * from the node; the engine carries the answers out.
 *
 * - A Lease is alive until `leaseDurationSeconds` after it was last seen
 *   renewed. Seen renewed means: seen change, by this replica's clock (as
 *   client-go's leader election does, so clock skew between replicas does
 *   not matter), or, for a Lease met in a list, its own renewTime, with a
 *   little allowance for skew and never later than a change seen now.
 * - The owner of a record is alive while its Lease is; a record without an
 *   owner (IMDS mode, an older nthd) belongs to nobody.
 * - Work whose owner is gone is taken over with a patch guarded by the
 *   node's resourceVersion, so two replicas cannot both take it.
 */
import type { V1Node } from "@kubernetes/client-node";
import type { LeaseSighting } from "../kube/replica-lease.ts";
import { type DrainState, type NodeRecord, RECORD_ANNOTATION } from "./record.ts";

/** How far a Lease's renewTime may be ahead of this replica's clock and still be believed. */
export const CLOCK_SKEW_ALLOWANCE_MS = 2000;

/** When this replica stops believing the Lease is renewed (ms since the epoch). */
export function leaseExpiresAtMs(s: LeaseSighting): number {
  const duration = s.durationSeconds * 1000;
  if (s.holder === undefined) return 0; // released
  const seen = s.observedAt.getTime() + duration;
  if (!s.fromList || s.renewTime === undefined) return seen;
  return Math.min(seen, s.renewTime.getTime() + duration + CLOCK_SKEW_ALLOWANCE_MS);
}

export function leaseAlive(s: LeaseSighting | undefined, now: Date): boolean {
  return s !== undefined && leaseExpiresAtMs(s) > now.getTime();
}

/** Replicas of `group` alive now (the caller's own included). */
export function liveReplicas(
  sightings: readonly LeaseSighting[],
  group: string,
  now: Date,
): number {
  return sightings.filter((s) => s.group === group && leaseAlive(s, now)).length;
}

/**
 * Drains this replica may run at once so that the deployment as a whole
 * stays within `maxConcurrentDrains`: an equal share of it per live
 * replica, at least one (so the total can exceed a limit smaller than the
 * number of replicas).
 */
export function drainShare(maxConcurrentDrains: number, live: number): number {
  return Math.max(1, Math.floor(maxConcurrentDrains / Math.max(1, live)));
}

/**
 * This replica's own Lease still stands: renewed recently enough that the
 * others cannot yet think it gone. A quarter of the duration is kept back
 * for stopping its work before they may take it.
 */
export function holdingLease(renewedAt: Date | undefined, durationSeconds: number, now: Date) {
  return renewedAt !== undefined && now.getTime() - renewedAt.getTime() < durationSeconds * 750;
}

/**
 * Whether this replica's view of the Leases can be trusted: its own Lease
 * was renewed recently (holdingLease) and the watch showed it the renewal
 * (the watch is live, so an expired Lease is really expired, not merely
 * unseen). While it cannot be trusted every other owner counts as alive:
 * after an API outage the watch may come back later than the renewals, and
 * a replica that judged on its stale view would take live replicas' work.
 */
export function viewFresh(
  renewedAt: Date | undefined,
  own: LeaseSighting | undefined,
  durationSeconds: number,
  now: Date,
): boolean {
  return (
    holdingLease(renewedAt, durationSeconds, now) &&
    own !== undefined &&
    now.getTime() - own.observedAt.getTime() < durationSeconds * 750
  );
}

/**
 * How a record names its owner: the digest of the queue its replicas read
 * (their Leases' REPLICA_LABEL) and the Lease's name. Replicas see every
 * node of the cluster but only the Leases of their own namespace and queue:
 * an owner of another queue (another nthd install, another namespace) is
 * never theirs to judge, so it always counts as alive for them.
 */
export function ownerId(group: string, lease: string): string {
  return `${group}/${lease}`;
}

/** The group and Lease an owner names; an owner without a group is read as one Lease name. */
export function parseOwner(owner: string): { group: string | undefined; lease: string } {
  const slash = owner.indexOf("/");
  return slash < 0
    ? { group: undefined, lease: owner }
    : { group: owner.slice(0, slash), lease: owner.slice(slash + 1) };
}

export type Ownership =
  /** This replica owns it. */
  | { readonly kind: "mine" }
  /** Nobody alive owns it: this replica may take it (`from` names a gone owner). */
  | { readonly kind: "free"; readonly from?: string }
  /** Another replica, alive, owns it: join through the record, do not act. */
  | { readonly kind: "held"; readonly owner: string };

/**
 * Whose the work recorded on a node is. `me` undefined: ownership is off
 * (IMDS mode: one handler per node), every record is free.
 */
export function ownershipOf(
  record: Pick<NodeRecord, "owner"> | undefined,
  me: string | undefined,
  alive: (owner: string) => boolean,
): Ownership {
  const owner = record?.owner;
  if (me === undefined || owner === undefined) return { kind: "free" };
  if (owner === me) return { kind: "mine" };
  return alive(owner) ? { kind: "held", owner } : { kind: "free", from: owner };
}

/** States in which recorded work still has something to do. */
const ACTIVE: ReadonlySet<DrainState | undefined> = new Set<DrainState | undefined>([
  "scheduled",
  "cordoned",
  "draining",
  "incomplete",
]);

/** Notices in the record that must still be finished by their source. */
export function unfinished(record: NodeRecord): NodeRecord["notices"] {
  return record.notices.filter((n) => n.needsCompletion === true && n.finished === undefined);
}

/**
 * Whether a replica looking at a node it has no work on should take the
 * recorded work over now: its owner's Lease is gone (a replica stopped,
 * killed or scaled away) and something is left to do (a drain to run or
 * finish, a notice to finish). Records without an owner are left to
 * start-up's resume: they may be an IMDS-mode handler's, draining its own node.
 */
export function shouldAdopt(
  record: NodeRecord,
  state: DrainState | undefined,
  me: string,
  alive: (owner: string) => boolean,
): boolean {
  const owner = record.owner;
  if (owner === undefined || owner === me || alive(owner)) return false;
  return ACTIVE.has(state) || unfinished(record).length > 0;
}

/** The patch that makes `me` the owner, guarded by the resourceVersion it was decided on. */
export function ownerPatch(node: V1Node, record: NodeRecord, me: string): Record<string, unknown> {
  return {
    metadata: {
      resourceVersion: node.metadata?.resourceVersion,
      annotations: { [RECORD_ANNOTATION]: JSON.stringify({ ...record, owner: me }) },
    },
  };
}

/** Records that a notice was finished by its source (the annotation's new value), or null if it was already. */
export function finishedPatch(
  node: V1Node,
  record: NodeRecord,
  noticeId: string,
  how: "completed" | "gone",
  at: Date,
  by: string | undefined,
): Record<string, unknown> | null {
  const target = record.notices.find((n) => n.id === noticeId);
  if (target === undefined || target.finished !== undefined) return null;
  const finished = { at: at.toISOString(), how, ...(by !== undefined ? { by } : {}) };
  const next: NodeRecord = {
    ...record,
    notices: record.notices.map((n) => (n.id === noticeId ? { ...n, finished } : n)),
  };
  return {
    metadata: {
      resourceVersion: node.metadata?.resourceVersion,
      annotations: { [RECORD_ANNOTATION]: JSON.stringify(next) },
    },
  };
}

export type FollowVerdict =
  /** No record any more (released, or the node is gone): the work is over here. */
  | { readonly kind: "gone" }
  /** The owner's work is over, and every notice of ours that needed finishing was finished. */
  | { readonly kind: "over"; readonly state: "drained" | "incomplete" | "cordoned" }
  /** Nobody alive owns it any more: take it over. */
  | { readonly kind: "take-over" }
  | { readonly kind: "wait"; readonly owner: string };

/**
 * What a replica that joined another's work through the record should do,
 * given the record as it is now. `ids`: the notices it joined.
 */
export function followVerdict(
  record: NodeRecord | undefined,
  state: DrainState | undefined,
  ids: ReadonlySet<string>,
  me: string,
  alive: (owner: string) => boolean,
): FollowVerdict {
  if (record === undefined) return { kind: "gone" };
  const own = ownershipOf(record, me, alive);
  if (own.kind !== "held") return { kind: "take-over" };
  const ours = record.notices.filter((n) => ids.has(n.id));
  const finishedAll = ours.every((n) => n.needsCompletion !== true || n.finished !== undefined);
  const ended =
    state === "drained" ||
    state === "incomplete" ||
    (state === "cordoned" && record.action === "cordon");
  if (ended && finishedAll) return { kind: "over", state };
  return { kind: "wait", owner: own.owner };
}

/**
 * Whether a copy of an object is at least as new as a version written
 * earlier. resourceVersions are opaque in the API's contract but are etcd
 * revisions in practice; anything that does not read as a number counts as
 * new (the caller then acts as it would have without the check).
 */
export function atOrAfter(version: string | undefined, written: string | undefined): boolean {
  if (version === undefined || written === undefined) return true;
  if (!/^\d+$/.test(version) || !/^\d+$/.test(written)) return true;
  return BigInt(version) >= BigInt(written);
}

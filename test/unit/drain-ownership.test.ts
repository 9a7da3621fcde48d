import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { V1Node } from "@kubernetes/client-node";
import {
  atOrAfter,
  CLOCK_SKEW_ALLOWANCE_MS,
  drainShare,
  finishedPatch,
  followVerdict,
  holdingLease,
  leaseAlive,
  liveReplicas,
  ownerId,
  ownerPatch,
  ownershipOf,
  parseOwner,
  shouldAdopt,
  unfinished,
  viewFresh,
} from "../../src/drain/ownership.ts";
import {
  markPatch,
  type NodeRecord,
  noticeToRecord,
  RECORD_ANNOTATION,
  readRecord,
  recordToNotice,
} from "../../src/drain/record.ts";
import { replicasFrom } from "../../src/drain/replicas.ts";
import type { LeaseSighting, ReplicaLease } from "../../src/kube/replica-lease.ts";
import type { Notice } from "../../src/notice.ts";
import { applyMergePatch as mergePatch } from "../support/merge-patch.ts";

const NOW = new Date("2026-03-01T12:00:00Z");
const at = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);

function sighting(over: Partial<LeaseSighting> = {}): LeaseSighting {
  return {
    name: "nthd-a",
    holder: "nthd-a_1234",
    group: "q1",
    durationSeconds: 15,
    renewTime: NOW,
    observedAt: NOW,
    fromList: false,
    resourceVersion: "1",
    ...over,
  };
}

function notice(over: Partial<Notice> = {}): Notice {
  return {
    id: "e1_i-0123456789abcdef0",
    kind: "spot-interruption",
    instanceId: "i-0123456789abcdef0",
    action: "drain",
    deadline: at(120),
    receivedAt: NOW,
    source: "queue",
    detail: {},
    ...over,
  };
}

const lifecycle = notice({
  id: "lifecycle-0011223344556677_i-0123456789abcdef0",
  kind: "asg-terminate",
  needsCompletion: true,
  detail: { lifecycleActionToken: "secret-token" },
});

function record(over: Partial<NodeRecord> = {}): NodeRecord {
  return {
    v: 1,
    notices: [noticeToRecord(notice())],
    action: "drain",
    at: NOW.toISOString(),
    deadline: at(120).toISOString(),
    cordoned: true,
    taints: [],
    lbExcluded: false,
    ...over,
  };
}

function node(rec?: NodeRecord, state?: string): V1Node {
  return {
    metadata: {
      name: "n1",
      resourceVersion: "42",
      labels: state ? { "nthd/state": state } : {},
      annotations: rec ? { [RECORD_ANNOTATION]: JSON.stringify(rec) } : {},
    },
    spec: { unschedulable: true },
  };
}

const aliveOnly =
  (...names: string[]) =>
  (owner: string) =>
    names.includes(owner);

describe("is a replica's Lease alive?", () => {
  test("a change seen now keeps it alive for its duration, by this replica's clock", () => {
    // The holder's clock is 10 minutes behind: only what this replica saw counts.
    const s = sighting({ renewTime: at(-600) });
    assert.equal(leaseAlive(s, at(14)), true);
    assert.equal(leaseAlive(s, at(15)), false);
  });

  test("met in a list, an old renewTime is believed: a Lease left behind an hour ago is dead", () => {
    assert.equal(leaseAlive(sighting({ fromList: true, renewTime: at(-3600) }), NOW), false);
  });

  test("met in a list, a fresh renewTime counts from then, with a little room for skew", () => {
    const s = sighting({ fromList: true, renewTime: at(-10) });
    assert.equal(leaseAlive(s, at(4)), true);
    assert.equal(leaseAlive(s, at(5 + CLOCK_SKEW_ALLOWANCE_MS / 1000)), false);
  });

  test("a renewTime from the future is capped at one duration from the sighting", () => {
    const s = sighting({ fromList: true, renewTime: at(3600) });
    assert.equal(leaseAlive(s, at(14)), true);
    assert.equal(leaseAlive(s, at(16)), false);
  });

  test("released (no holder) or never seen: gone", () => {
    assert.equal(leaseAlive(sighting({ holder: undefined }), NOW), false);
    assert.equal(leaseAlive(undefined, NOW), false);
  });

  test("the Lease's own duration rules, not this replica's setting", () => {
    assert.equal(leaseAlive(sighting({ durationSeconds: 60 }), at(59)), true);
  });
});

describe("replicas and the drain budget", () => {
  test("live replicas of the same queue only", () => {
    const seen = [
      sighting({ name: "a" }),
      sighting({ name: "b", observedAt: at(-20) }), // expired
      sighting({ name: "c", group: "other-queue" }),
      sighting({ name: "d" }),
    ];
    assert.equal(liveReplicas(seen, "q1", NOW), 2);
  });

  test("each replica drains an equal share, at least one", () => {
    assert.equal(drainShare(100, 1), 100);
    assert.equal(drainShare(100, 3), 33);
    assert.equal(drainShare(1, 2), 1);
    assert.equal(drainShare(100, 0), 100);
  });

  test("a view of the Leases is trusted only while the watch shows this replica's own renewals", () => {
    const own = sighting({ name: "nthd-me", observedAt: NOW });
    assert.equal(viewFresh(NOW, own, 15, at(5)), true);
    // Renewals go through, but the watch has not shown one for 12 s (it is reconnecting).
    assert.equal(viewFresh(at(10), own, 15, at(12)), false);
    // The watch is fine but renewals fail (the API server is away).
    assert.equal(viewFresh(NOW, sighting({ observedAt: at(11) }), 15, at(12)), false);
    assert.equal(viewFresh(NOW, undefined, 15, NOW), false);
  });

  test("this replica stops acting as owner before the others may think its Lease expired", () => {
    assert.equal(holdingLease(NOW, 15, at(11)), true);
    assert.equal(holdingLease(NOW, 15, at(11.25)), false);
    assert.equal(holdingLease(undefined, 15, NOW), false);
  });
});

describe("whose is the work recorded on a node?", () => {
  test("ownership off (IMDS mode) or no owner recorded: free", () => {
    assert.deepEqual(ownershipOf(record({ owner: "b" }), undefined, aliveOnly("b")), {
      kind: "free",
    });
    assert.deepEqual(ownershipOf(record(), "a", aliveOnly()), { kind: "free" });
    assert.deepEqual(ownershipOf(undefined, "a", aliveOnly()), { kind: "free" });
  });

  test("mine, held by a live replica, or free because its owner is gone", () => {
    assert.deepEqual(ownershipOf(record({ owner: "a" }), "a", aliveOnly()), { kind: "mine" });
    assert.deepEqual(ownershipOf(record({ owner: "b" }), "a", aliveOnly("b")), {
      kind: "held",
      owner: "b",
    });
    assert.deepEqual(ownershipOf(record({ owner: "b" }), "a", aliveOnly()), {
      kind: "free",
      from: "b",
    });
  });

  test("adopt only work whose owner is gone and that has something left to do", () => {
    const gone = record({ owner: "b" });
    assert.equal(shouldAdopt(gone, "draining", "a", aliveOnly()), true);
    assert.equal(shouldAdopt(gone, "scheduled", "a", aliveOnly()), true);
    assert.equal(shouldAdopt(gone, "drained", "a", aliveOnly()), false);
    assert.equal(shouldAdopt(gone, "draining", "a", aliveOnly("b")), false, "owner alive");
    assert.equal(shouldAdopt(record({ owner: "a" }), "draining", "a", aliveOnly()), false);
    // No owner: maybe an IMDS-mode handler draining its own node; start-up's resume decides.
    assert.equal(shouldAdopt(record(), "draining", "a", aliveOnly()), false);
    // Drained, but a lifecycle action still waits to be completed.
    const waiting = record({ owner: "b", notices: [noticeToRecord(lifecycle)] });
    assert.equal(shouldAdopt(waiting, "drained", "a", aliveOnly()), true);
  });
});

describe("following another replica's work through the record", () => {
  const ids = new Set([notice().id]);

  test("wait while the owner is alive and its drain goes on", () => {
    assert.deepEqual(followVerdict(record({ owner: "b" }), "draining", ids, "a", aliveOnly("b")), {
      kind: "wait",
      owner: "b",
    });
  });

  test("over once the record says drained (or incomplete)", () => {
    const r = record({ owner: "b" });
    assert.deepEqual(followVerdict(r, "drained", ids, "a", aliveOnly("b")), {
      kind: "over",
      state: "drained",
    });
    assert.equal(followVerdict(r, "incomplete", ids, "a", aliveOnly("b")).kind, "over");
  });

  test("a joined lifecycle action keeps it going until the record says it was finished", () => {
    const r = record({ owner: "b", notices: [noticeToRecord(lifecycle)] });
    const mine = new Set([lifecycle.id]);
    assert.equal(followVerdict(r, "drained", mine, "a", aliveOnly("b")).kind, "wait");
    const n = r.notices[0] as NodeRecord["notices"][number];
    const done = {
      ...r,
      notices: [{ ...n, finished: { at: NOW.toISOString(), how: "completed" as const } }],
    };
    assert.equal(followVerdict(done, "drained", mine, "a", aliveOnly("b")).kind, "over");
  });

  test("take over when the owner is gone; over when the record left the node", () => {
    assert.equal(
      followVerdict(record({ owner: "b" }), "draining", ids, "a", aliveOnly()).kind,
      "take-over",
    );
    assert.equal(followVerdict(undefined, undefined, ids, "a", aliveOnly("b")).kind, "gone");
  });
});

describe("record patches for ownership", () => {
  test("the owner patch keeps the record and names the new owner, under the version read", () => {
    const r = record({ owner: "b" });
    const n = node(r, "draining");
    const patch = ownerPatch(n, r, "a") as { metadata: { resourceVersion: string } };
    assert.equal(patch.metadata.resourceVersion, "42");
    const after = readRecord(mergePatch(n, patch));
    assert.ok(after.ok && after.record);
    assert.deepEqual(after.record, { ...r, owner: "a" });
  });

  test("markPatch writes the owner; a record without one still reads (IMDS mode, older nthd)", () => {
    const n: V1Node = { metadata: { name: "n1", resourceVersion: "7" }, spec: {} };
    const settings = {
      taintNode: false,
      taintEffect: "NoSchedule" as const,
      excludeFromLoadBalancers: false,
    };
    const owned = markPatch(n, notice(), "drain", at(120), settings, NOW, undefined, "a");
    assert.equal(owned.record.owner, "a");
    const plain = markPatch(n, notice(), "drain", at(120), settings, NOW);
    assert.equal(plain.record.owner, undefined);
    const read = readRecord(mergePatch(n, plain.patch));
    assert.ok(read.ok && read.record);
  });

  test("a finished notice is recorded once, with who finished it and how", () => {
    const r = record({
      owner: "a",
      notices: [noticeToRecord(notice()), noticeToRecord(lifecycle)],
    });
    assert.deepEqual(
      unfinished(r).map((n) => n.id),
      [lifecycle.id],
    );
    const n = node(r, "drained");
    const patch = finishedPatch(n, r, lifecycle.id, "completed", NOW, "a");
    assert.ok(patch);
    const after = readRecord(mergePatch(n, patch));
    assert.ok(after.ok && after.record);
    const finished = after.record.notices.find((x) => x.id === lifecycle.id)?.finished;
    assert.deepEqual(finished, { at: NOW.toISOString(), how: "completed", by: "a" });
    assert.deepEqual(unfinished(after.record), []);
    assert.equal(finishedPatch(n, after.record, lifecycle.id, "gone", NOW, "b"), null);
    assert.equal(finishedPatch(n, r, "no-such-notice", "completed", NOW, "a"), null);
  });

  test("the notice in the record keeps what completing it needs", () => {
    const back = recordToNotice(noticeToRecord(lifecycle));
    assert.equal(back.needsCompletion, true);
    assert.equal(back.detail.lifecycleActionToken, "secret-token");
  });

  test("older copies of a node are told apart by resourceVersion", () => {
    assert.equal(atOrAfter("100", "99"), true);
    assert.equal(atOrAfter("99", "99"), true);
    assert.equal(atOrAfter("98", "99"), false);
    assert.equal(atOrAfter("12345678901234567890", "9"), true);
    assert.equal(atOrAfter(undefined, "9"), true);
    assert.equal(atOrAfter("opaque", "9"), true);
  });
});

describe("owners of other queues", () => {
  /** A Lease keeper that has seen `seen` and renewed its own Lease at NOW. */
  function keeper(seen: LeaseSighting[]): ReplicaLease {
    return {
      name: "nthd-me",
      group: "q1",
      durationSeconds: 15,
      renewSeconds: 5,
      start: async () => {},
      sightings: () => [sighting({ name: "nthd-me", group: "q1" }), ...seen],
      renewedAt: () => NOW,
      onChange: () => {},
      release: async () => {},
    };
  }

  test("an owner names its queue's digest and its Lease; one without a digest is a bare Lease name", () => {
    assert.equal(ownerId("q1", "nthd-a"), "q1/nthd-a");
    assert.deepEqual(parseOwner("q1/nthd-a"), { group: "q1", lease: "nthd-a" });
    assert.deepEqual(parseOwner("nthd-a"), { group: undefined, lease: "nthd-a" });
  });

  test("a replica judges only owners of its own queue; another queue's owner is never its to take", () => {
    const r = replicasFrom(keeper([sighting({ name: "nthd-b", group: "q1" })]), () => at(1));
    assert.equal(r.me, "q1/nthd-me");
    assert.equal(r.alive("q1/nthd-b"), true, "seen renewing");
    assert.equal(r.alive("q1/nthd-gone"), false, "no such Lease: gone");
    // Never seen here (its Lease lives in another namespace, for another queue): alive all the same.
    assert.equal(r.alive("q2/nthd-gone"), true);
    assert.deepEqual(ownershipOf(record({ owner: "q2/nthd-gone" }), r.me, r.alive), {
      kind: "held",
      owner: "q2/nthd-gone",
    });
    assert.equal(shouldAdopt(record({ owner: "q2/nthd-gone" }), "draining", r.me, r.alive), false);
    assert.equal(shouldAdopt(record({ owner: "q1/nthd-gone" }), "draining", r.me, r.alive), true);
  });

  test("with a view gone stale, every owner counts as alive", () => {
    const r = replicasFrom(keeper([]), () => at(30));
    assert.equal(r.holding(), false);
    assert.equal(r.alive("q1/nthd-gone"), true);
  });
});

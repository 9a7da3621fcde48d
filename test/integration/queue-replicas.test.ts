// Several real nthd replicas on one queue and API server (test/env/replica-*.ts):
// every node drained once, every pod evicted once, every lifecycle action
// completed once, nothing left in the queue or its dead-letter queue, when
// replicas are stopped, killed, replaced and scaled away mid-work. Small
// sizes here; `npm run scenario:replicas` runs the full-size versions.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  heartbeatContinuity,
  massInterruption,
  type Outcome,
  rollingUpdate,
  scaleDown,
} from "../env/replica-scenarios.ts";

const suffix = Math.random().toString(36).slice(2, 7);
const LEASE_SECONDS = 5;

/** What every scenario must show, whatever else it measures. */
function assertOnce(o: Outcome): void {
  process.stderr.write(`${o.line}\n`);
  const f = o.figures;
  assert.equal(f.drained, f.nodes, "every node drained");
  assert.equal(f.nodesNotOneEvent, 0, "exactly one CordonAndDrain Event per node");
  assert.deepEqual(f.oddPods, [], "pods evicted twice or never (with their answers)");
  assert.equal(f.maxEvictionsPerPod, 1, "no pod evicted twice");
  assert.equal(f.evictions + f.lostAnswers, f.pods, "every pod evicted once");
  assert.equal(f.actionsNotOnce, 0, "every lifecycle action completed exactly once");
  assert.equal(f.duplicates, 0);
  assert.equal(f.queueLeft, 0, "nothing left in the queue");
  assert.equal(f.dlqLeft, 0, "nothing in the dead-letter queue");
}

describe("several queue replicas", () => {
  test("1. mass interruption; one replica SIGTERMed, one SIGKILLed midway, both replaced", async () => {
    const o = await massInterruption({
      name: `rep1-${suffix}`,
      nodes: 20,
      podsPerNode: 2,
      actions: 4,
      leaseSeconds: LEASE_SECONDS,
      graceSeconds: 10,
      timeoutMs: 180_000,
    });
    assertOnce(o);
    assert.equal(o.figures.completions, 4);
  });

  test("2. rolling update while PodDisruptionBudgets hold every drain", async () => {
    const o = await rollingUpdate({
      name: `rep2-${suffix}`,
      nodes: 10,
      leaseSeconds: LEASE_SECONDS,
      timeoutMs: 120_000,
    });
    assertOnce(o);
    assert.equal(o.extra.takenEarly, 0, "the new replica left the old one's work alone");
  });

  test("3. the lifecycle action never times out when its owner is SIGKILLed mid-drain", async () => {
    const o = await heartbeatContinuity({
      name: `rep3-${suffix}`,
      hookTimeoutSeconds: 30,
      blockSeconds: 45,
      killAfterHeartbeatSeconds: 10,
      leaseSeconds: LEASE_SECONDS,
      timeoutMs: 120_000,
    });
    assertOnce(o);
    assert.equal(o.figures.completions, 1);
    assert.equal(o.extra.continue, 1, "completed with CONTINUE");
    assert.ok(
      (o.extra.maxGapSeconds ?? Infinity) < 30,
      `longest time without a heartbeat ${o.extra.maxGapSeconds} s, hook timeout 30 s`,
    );
    assert.ok((o.extra.completedAfterLiftMs ?? -1) >= 0, "completed only after the drain");
  });

  test("4. scale from two replicas to one: the removed one's work adopted at once", async () => {
    const o = await scaleDown({
      name: `rep4-${suffix}`,
      nodes: 10,
      leaseSeconds: LEASE_SECONDS,
      timeoutMs: 120_000,
    });
    assertOnce(o);
    assert.ok((o.extra.ownedByRemoved ?? 0) > 0, "the removed replica owned work");
    assert.equal(o.extra.staleSwept, 1, "a Lease left by a replica killed long ago is deleted");
    assert.equal(o.extra.foreignLeftAlone, 1, "work owned by another queue's replica is not taken");
    assert.ok(
      (o.extra.adoptMs ?? Infinity) <= LEASE_SECONDS * 1000,
      `adopted after ${o.extra.adoptMs} ms`,
    );
  });
});

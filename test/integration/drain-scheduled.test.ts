// Scheduled maintenance against the real test ground: the notice is recorded
// on the node at once without a cordon, and the node is cordoned and drained
// `scheduled-drain-lead` seconds before the maintenance starts. A short lead
// (20 s before a start 40 s away) keeps the tests short; the wait is real.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { V1Node } from "@kubernetes/client-node";
import { RECORD_ANNOTATION, readRecord, STATE_LABEL } from "../../src/drain/record.ts";
import type { DrainReport } from "../../src/drain/report.ts";
import type { Notice } from "../../src/notice.ts";
import { loadMetrics } from "../../src/observe/metrics.ts";
import {
  core,
  drainGround,
  groundNotices,
  kc,
  nodeEventReasons,
  nodeOf,
} from "../env/drain-ground.ts";
import { createNode, deployPinned, randomInstanceId, waitNodeReady } from "../env/ground.ts";
import { eventually } from "../support/eventually.ts";

const { interruptions } = await loadMetrics();

const LEAD_SECONDS = 20;
const START_IN_MS = 40_000;

const g = drainGround("sched", {
  deadlineSafetyMarginSeconds: 2,
  scheduledDrainLeadSeconds: LEAD_SECONDS,
  taintNode: true,
  emitKubernetesEvents: true,
});
const { unique } = g;

/** Scheduled maintenance as IMDS reports it, starting START_IN_MS from now. */
const maintenance = groundNotices(g, () => {
  const id = unique("instance-event");
  return {
    id,
    kind: "scheduled-maintenance",
    deadline: new Date(Date.now() + START_IN_MS),
    source: "imds",
    detail: { eventId: id, code: "system-reboot", state: "active" },
  };
});

/** The cancel IMDS sends once the event is cancelled: its own id, `cancels` naming the event. */
function cancelOf(eventId: string): Notice {
  const { deadline: _none, ...cancel } = maintenance({
    id: `${eventId}-canceled`,
    action: "uncordon",
    detail: { eventId, state: "canceled", cancels: eventId },
  });
  return cancel;
}

/** A namespace, one kwok node of its own instance type (to find its metric), one pod on it. */
async function setup(): Promise<{ ns: string; node: string; instanceType: string }> {
  const ns = unique("ns");
  await core.createNamespace({ body: { metadata: { name: ns } } });
  g.cleanup(() => core.deleteNamespace({ name: ns }));
  const node = unique("node");
  const instanceType = unique("type");
  await createNode(
    {
      name: node,
      instanceId: randomInstanceId(),
      instanceType,
      zone: "us-east-1c",
      capacityType: "on-demand",
    },
    kc,
  );
  g.cleanup(() => core.deleteNode({ name: node }));
  await waitNodeReady(node, kc);
  await deployPinned(
    ns,
    "web",
    { replicas: 1, nodeSelector: { "kubernetes.io/hostname": node } },
    kc,
  );
  return { ns, node, instanceType };
}

/**
 * Awaits work whose only pending timer is the engine's unref'd one (it must
 * not hold a daemon open), keeping this test process alive meanwhile.
 */
async function awaitAlive<T>(p: Promise<T>): Promise<T> {
  const tick = setInterval(() => {}, 1000);
  try {
    return await p;
  } finally {
    clearInterval(tick);
  }
}

function scheduledRecordOf(node: V1Node) {
  const read = readRecord(node);
  assert.ok(read.ok && read.record, "nthd's record on the node");
  return read.record;
}

async function interruptionCount(instanceType: string): Promise<number> {
  const { values } = await interruptions.get();
  return values
    .filter((v) => v.labels.instance_type === instanceType)
    .reduce((sum, v) => sum + v.value, 0);
}

describe("scheduled maintenance drains close to its start", {
  concurrency: true,
  timeout: 180_000,
}, () => {
  test("recorded at once without a cordon; cordoned and drained `lead` seconds before the start", async () => {
    const { ns, node, instanceType } = await setup();
    const e = g.engine();
    const n = maintenance();
    const { recorded, done } = e.handle(n, node);
    await recorded;

    const scheduled = await nodeOf(node);
    assert.notEqual(scheduled.spec?.unschedulable, true, "not cordoned yet");
    assert.equal(
      scheduled.spec?.taints?.some((t) => t.key.startsWith("aws-node-termination-handler/")) ??
        false,
      false,
    );
    assert.equal(scheduled.metadata?.labels?.[STATE_LABEL], "scheduled");
    const record = scheduledRecordOf(scheduled);
    assert.deepEqual(
      record.notices.map((x) => x.id),
      [n.id],
    );
    const deadline = n.deadline as Date;
    assert.equal(record.deadline, deadline.toISOString());
    assert.equal(record.drainAt, new Date(deadline.getTime() - LEAD_SECONDS * 1000).toISOString());
    assert.equal(
      (await core.listNamespacedPod({ namespace: ns })).items.length,
      1,
      "the pod is left running",
    );

    const report = await awaitAlive(done);
    assert.equal(report.result, "drained", report.message);
    assert.equal(report.pods.filter((p) => p.outcome === "evicted").length, 1);
    const drained = await nodeOf(node);
    assert.equal(drained.spec?.unschedulable, true);
    assert.equal(drained.metadata?.labels?.[STATE_LABEL], "drained");
    const final = scheduledRecordOf(drained);
    assert.equal(final.cordoned, true, "nthd's own cordon, undone by a later cancel");
    assert.equal(final.drainAt, undefined);
    assert.ok(
      new Date(final.at).getTime() >= new Date(record.drainAt as string).getTime(),
      `cordoned at ${final.at}, not before the scheduled start ${record.drainAt}`,
    );
    assert.equal(await interruptionCount(instanceType), 1, "counted once, not again at the cordon");

    const reasons = await eventually(
      "ScheduledEvent, Cordon and CordonAndDrain Events",
      async () => {
        const found = await nodeEventReasons(node);
        return ["ScheduledEvent", "Cordon", "CordonAndDrain"].every((r) => found.has(r))
          ? found
          : undefined;
      },
    );
    assert.ok(reasons.has("ScheduledEvent"));
  });

  test("a cancel before the start removes the record and nothing else; another event's cancel is ignored", async () => {
    const { ns, node, instanceType } = await setup();
    const e = g.engine();
    const n = maintenance();
    const drain = e.handle(n, node);
    await drain.recorded;

    // IMDS still lists an older, completed event: its cancel names that event.
    const stale = e.handle(cancelOf(unique("old-event")), node);
    assert.equal((await stale.done).result, "ignored");
    assert.equal((await nodeOf(node)).metadata?.labels?.[STATE_LABEL], "scheduled");

    const cancel = e.handle(cancelOf(n.id), node);
    const cancelled = await cancel.done;
    assert.equal(cancelled.result, "uncordoned", cancelled.message);
    assert.equal((await drain.done).result, "cancelled");
    const released = await nodeOf(node);
    assert.notEqual(released.spec?.unschedulable, true, "still schedulable");
    assert.equal(released.metadata?.annotations?.[RECORD_ANNOTATION], undefined);
    assert.equal(released.metadata?.labels?.[STATE_LABEL], undefined);
    assert.equal(
      released.spec?.taints?.some((t) => t.key.startsWith("aws-node-termination-handler/")) ??
        false,
      false,
    );
    const pods = await core.listNamespacedPod({ namespace: ns });
    assert.equal(pods.items.filter((p) => !p.metadata?.deletionTimestamp).length, 1);
    assert.equal(await interruptionCount(instanceType), 1);
  });

  test("a restarted engine re-arms the drain from the node's record", async () => {
    const { node, instanceType } = await setup();
    const first = g.engine();
    const n = maintenance();
    const running = first.handle(n, node);
    await running.recorded;
    await first.close(); // nthd goes away while the drain is still ahead
    assert.equal((await running.done).result, "cancelled");
    const left = await nodeOf(node);
    assert.equal(left.metadata?.labels?.[STATE_LABEL], "scheduled", "the record stays");
    assert.notEqual(left.spec?.unschedulable, true);
    const record = scheduledRecordOf(left);

    const second = g.engine();
    const resumed = (await second.resume({ nodeName: node })).filter((r) => r.nodeName === node);
    assert.equal(resumed.length, 1);
    assert.equal(resumed[0]?.notice.id, n.id);
    assert.deepEqual(resumed[0]?.notice.detail, n.detail);
    assert.deepEqual(second.active(), [node]);
    const report = await awaitAlive(resumed[0]?.done as Promise<DrainReport>);
    assert.equal(report.result, "drained", report.message);
    assert.equal(report.resumed, true);
    const final = scheduledRecordOf(await nodeOf(node));
    assert.ok(
      new Date(final.at).getTime() >= new Date(record.drainAt as string).getTime(),
      `cordoned at ${final.at}, not before the scheduled start ${record.drainAt}`,
    );
    assert.equal(await interruptionCount(instanceType), 1, "not counted again on resume");
  });
});

// How many drains the engine runs at once, on the test ground: cordons are
// never held back by a full set of drain slots, and a mass interruption of 200
// nodes is cordoned at once while its drains stay within the limit.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { loadMetrics } from "../../src/observe/metrics.ts";
import {
  core,
  drainGround,
  groundNotices,
  kc,
  nodeOf,
  pdb,
  readyCount,
} from "../env/drain-ground.ts";
import { createNode, deployPinned, randomInstanceId } from "../env/ground.ts";

const { drainsInProgress } = await loadMetrics();

const g = drainGround("drain", { deadlineSafetyMarginSeconds: 2 });
const notice = groundNotices(g);

describe("drain engine on the test ground: drain slots", { timeout: 240_000 }, () => {
  test("cordons are not held back when every drain slot is busy", async () => {
    const { ns, nodes } = await g.setup(2);
    // Two drains that cannot finish (a PDB allowing nothing) fill both slots.
    for (const [i, node] of nodes.entries()) {
      await deployPinned(ns, `db${i}`, {
        replicas: 1,
        nodeSelector: { "kubernetes.io/hostname": node },
      });
      await readyCount(ns, `db${i}`, 1);
      await pdb(ns, `db${i}`, 1, 0);
    }
    const more: string[] = [];
    for (let i = 0; i < 8; i++) more.push(await g.addNode({ "nthd-drain-test": `${ns}-more` }));
    const e = g.engine({ maxConcurrentDrains: 2 });
    const busy = nodes.map((node) =>
      e.handle(notice({ deadline: new Date(Date.now() + 600_000) }), node),
    );
    await Promise.all(busy.map((b) => b.recorded));
    const finished: string[] = [];
    const queued = more.map((node) => {
      const h = e.handle(notice({ deadline: new Date(Date.now() + 600_000) }), node);
      void h.done.then(() => finished.push(node));
      return h;
    });
    await Promise.all(queued.map((q) => q.recorded));
    for (const node of more) assert.equal((await nodeOf(node)).spec?.unschedulable, true);
    assert.deepEqual(finished, [], "their drains wait for a slot");
    assert.deepEqual(e.active().sort(), [...nodes, ...more].sort());
    await e.close();
    assert.equal((await queued[0]?.done)?.result, "cancelled");
  });
});

// Alone in its suite: the in-progress gauge then counts only this engine's drains.
describe("drain engine under a mass interruption", { timeout: 240_000 }, () => {
  test("200 nodes noticed at once: all cordoned, drains bounded by the configured concurrency", async () => {
    const label = { "nthd-drain-test": g.unique("mass") };
    const names = Array.from({ length: 200 }, () => g.unique("mass-node"));
    // Created in parallel batches; kwok marks them Ready on its own.
    for (let i = 0; i < names.length; i += 25) {
      await Promise.all(
        names.slice(i, i + 25).map(async (name) => {
          await createNode({ name, instanceId: randomInstanceId(), labels: label }, kc);
          g.cleanup(() => core.deleteNode({ name }));
        }),
      );
    }
    const limit = 20;
    const e = g.engine({ maxConcurrentDrains: limit });
    // Drains left running by earlier tests of this file can only end during
    // this one, so they add at most this baseline to the gauge.
    const baseline = (await drainsInProgress.get()).values[0]?.value ?? 0;
    let peak = 0;
    const sampler = setInterval(() => {
      void drainsInProgress.get().then((m) => {
        peak = Math.max(peak, m.values[0]?.value ?? 0);
      });
    }, 5);
    try {
      const handled = names.map((node) => e.handle(notice(), node));
      await Promise.all(handled.map((h) => h.recorded));
      const cordoned = await core.listNode({
        labelSelector: `nthd-drain-test=${label["nthd-drain-test"]}`,
      });
      assert.equal(cordoned.items.length, 200);
      assert.equal(cordoned.items.filter((n) => n.spec?.unschedulable === true).length, 200);
      const reports = await Promise.all(handled.map((h) => h.done));
      assert.ok(
        reports.every((r) => r.result === "drained"),
        reports.map((r) => r.message).join("; "),
      );
    } finally {
      clearInterval(sampler);
    }
    assert.ok(peak >= 1, "drains ran");
    assert.ok(
      peak <= limit + baseline,
      `at most ${limit} drains at once (+${baseline} from earlier tests), saw ${peak}`,
    );
  });
});

// One drain per node, recorded on the node, on the test ground: notices for a
// node being drained join its drain, and a restarted engine finds the drain
// in the node's record and finishes it.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { readRecord, STATE_LABEL } from "../../src/drain/record.ts";
import type { DrainReport } from "../../src/drain/report.ts";
import {
  drainGround,
  groundNotices,
  nodeOf,
  pdb,
  policy,
  runningPods,
} from "../env/drain-ground.ts";

const g = drainGround("drain", { deadlineSafetyMarginSeconds: 2 });
const notice = groundNotices(g);

describe("drain engine on the test ground: joined and resumed drains", {
  concurrency: true,
  timeout: 240_000,
}, () => {
  test("notices for a node being drained join that drain", async () => {
    const { node } = await g.nodeRunning("web", 1);
    const e = g.engine();
    const a = notice({ id: g.unique("spot") });
    const b = notice({
      id: g.unique("asg"),
      kind: "asg-terminate",
      detail: { lifecycleActionToken: "t" },
    });
    const first = e.handle(a, node);
    const second = e.handle(b, node);
    const again = e.handle(a, node);
    await Promise.all([first.recorded, second.recorded, again.recorded]);
    const [r1, r2, r3] = await Promise.all([first.done, second.done, again.done]);
    assert.equal(r1, r2, "one drain");
    assert.equal(r1, r3);
    assert.equal(r1.result, "drained");
    assert.deepEqual(r1.joined, [b.id]);
    const record = readRecord(await nodeOf(node));
    assert.ok(record.ok && record.record);
    assert.deepEqual(
      record.record.notices.map((x) => x.id),
      [a.id, b.id],
    );
  });

  test("a restarted engine resumes the drain recorded on the node and finishes it", async () => {
    const { ns, node } = await g.nodeRunning("db", 1);
    await pdb(ns, "db", 1, 0);
    const first = g.engine();
    const n = notice({
      kind: "asg-terminate",
      deadline: new Date(Date.now() + 120_000),
      detail: {
        lifecycleHookName: "hook",
        lifecycleActionToken: "token-1",
        autoScalingGroupName: "asg",
      },
    });
    const running = first.handle(n, node);
    await running.recorded;
    await first.close(); // the process goes away mid-drain
    assert.equal((await running.done).result, "cancelled");
    assert.equal((await nodeOf(node)).metadata?.labels?.[STATE_LABEL], "draining");

    await policy.deleteNamespacedPodDisruptionBudget({ name: "db", namespace: ns });
    const second = g.engine();
    const resumed = (await second.resume()).filter((r) => r.nodeName === node);
    assert.equal(resumed.length, 1);
    assert.equal(resumed[0]?.notice.id, n.id);
    assert.deepEqual(resumed[0]?.notice.detail, n.detail);
    assert.equal(resumed[0]?.notice.kind, "asg-terminate");
    const report = await (resumed[0]?.done as Promise<DrainReport>);
    assert.equal(report.result, "drained", report.message);
    assert.equal(report.resumed, true);
    assert.equal((await runningPods(ns, "db")).filter((p) => p.spec?.nodeName === node).length, 0);
  });
});

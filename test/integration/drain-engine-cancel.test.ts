// A cancel notice on the test ground: it stops the running drain and undoes
// what nthd changed on the node, and only that: an operator's own cordon stays.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RECORD_ANNOTATION, STATE_LABEL } from "../../src/drain/record.ts";
import type { NoticeKind } from "../../src/notice.ts";
import { core, drainGround, groundNotices, nodeOf, pdb, readyCount } from "../env/drain-ground.ts";
import { deployPinned } from "../env/ground.ts";
import { MERGE_PATCH } from "../support/merge-patch.ts";

const g = drainGround("drain", { deadlineSafetyMarginSeconds: 2 });
const notice = groundNotices(g);

describe("drain engine on the test ground: cancel", { timeout: 240_000 }, () => {
  test("a cancel notice stops the drain and undoes nthd's marks; an operator's cordon stays", async () => {
    const { ns, nodes } = await g.setup(2);
    const [node, opNode] = nodes as [string, string];
    await deployPinned(ns, "db", { replicas: 1, nodeSelector: { "kubernetes.io/hostname": node } });
    await readyCount(ns, "db", 1);
    await pdb(ns, "db", 1, 0);
    const e = g.engine({ taintNode: true });
    const kind: NoticeKind = "scheduled-maintenance";
    const drain = e.handle(
      notice({ kind, id: "maint-1", deadline: new Date(Date.now() + 600_000) }),
      node,
    );
    await drain.recorded;
    const cancel = e.handle(notice({ kind, id: "maint-1-cancel", action: "uncordon" }), node);
    assert.equal((await drain.done).result, "cancelled");
    assert.equal((await cancel.done).result, "uncordoned");
    const released = await nodeOf(node);
    assert.notEqual(released.spec?.unschedulable, true);
    assert.equal(
      released.spec?.taints?.some((t) => t.key.startsWith("aws-node-termination-handler/")) ??
        false,
      false,
    );
    assert.equal(released.metadata?.annotations?.[RECORD_ANNOTATION], undefined);
    assert.equal(released.metadata?.labels?.[STATE_LABEL], undefined);

    // Operator cordoned first: nthd records, then on cancel leaves the cordon.
    await core.patchNode({ name: opNode, body: { spec: { unschedulable: true } } }, MERGE_PATCH);
    const cordonOnly = g.engine({ cordonOnly: true, taintNode: true });
    await cordonOnly.handle(notice({ kind, id: "maint-2" }), opNode).done;
    assert.equal(
      (
        await cordonOnly.handle(notice({ kind, id: "maint-2-cancel", action: "uncordon" }), opNode)
          .done
      ).result,
      "uncordoned",
    );
    const op = await nodeOf(opNode);
    assert.equal(op.spec?.unschedulable, true, "operator's cordon kept");
    assert.equal(op.metadata?.annotations?.[RECORD_ANNOTATION], undefined);
    // A cancel for a node nthd never marked changes nothing.
    assert.equal(
      (await cordonOnly.handle(notice({ kind, action: "uncordon" }), opNode).done).result,
      "ignored",
    );
  });
});

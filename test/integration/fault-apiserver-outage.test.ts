// Scenario 1: the API server goes away while Spot warnings and Auto Scaling
// terminate hooks arrive. Killed (its port refuses connections, as in a
// control-plane restart), and separately frozen with SIGSTOP (requests hang).
// nthd talks to a kube-apiserver of this test's own (on the ground's etcd),
// so the rest of the ground keeps running. The outage lasts long enough
// that a consumer which leaves failed messages for redelivery walks every
// one of them into the dead-letter queue (about 31 s per delivery, so
// maxReceiveCount 2 is passed after about 65 s; the last notices arrive
// 13 s into the 80 s outage, and the API server takes a while to start). After the API server
// returns, every notice must be handled, once, with nothing in the DLQ.
//
// Short by default; NTHD_SCENARIO_FULL=1 (npm run scenario:outage) runs the
// measured case: 240 s, 20 notices, maxReceiveCount 5 as `nthd setup` makes it.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type PrivateApiServer, startPrivateApiServer } from "../env/apiserver.ts";
import { QueueScenario, tallyLine } from "../env/queue-scenario.ts";

const FULL = process.env.NTHD_SCENARIO_FULL === "1";
const KILL_MS = FULL ? 240_000 : 80_000;
const FREEZE_MS = FULL ? 240_000 : 30_000;
const MAX_RECEIVE = FULL ? 5 : 2;
const SPOT = FULL ? 16 : 4;
const TERMINATE = FULL ? 4 : 2;

let api: PrivateApiServer;

before(async () => {
  api = await startPrivateApiServer();
});

after(async () => {
  api?.thaw();
  await api?.close();
});

/**
 * Sends the notices in two waves: at the start of the outage and a sixth of
 * the way in, so even the second wave has time to reach the dead-letter
 * queue if messages are left for redelivery.
 */
async function sendDuringOutage(s: QueueScenario, outageMs: number, label: string) {
  const spot = await s.spotNodes(SPOT, label);
  const asg: { instanceId: string; nodeName?: string }[] = [];
  for (let i = 0; i < TERMINATE; i++) asg.push(await s.asgInstance(true, `${label}-asg`));
  const half = Math.ceil(SPOT / 2);
  const startedAt = Date.now();
  return {
    startedAt,
    async waves() {
      for (const n of spot.slice(0, half)) await s.sendSpot(n.instanceId, n.nodeName);
      for (const n of asg.slice(0, 1)) await s.sendTerminate(n.instanceId, n.nodeName);
      await sleep(outageMs / 6);
      for (const n of spot.slice(half)) await s.sendSpot(n.instanceId, n.nodeName);
      for (const n of asg.slice(1)) await s.sendTerminate(n.instanceId, n.nodeName);
    },
  };
}

async function report(s: QueueScenario, what: string) {
  const t = await s.tally();
  process.stdout.write(`${tallyLine(t)}  (1: ${what})\n`);
  return t;
}

function assertClean(t: Awaited<ReturnType<QueueScenario["tally"]>>, s: QueueScenario) {
  try {
    assert.equal(t.dlq, 0, "nothing in the dead-letter queue");
    assert.equal(t.lost, 0, "every notice handled");
    assert.equal(t.doubled, 0, "nothing handled twice");
    assert.equal(t.restarts, 0, "nthd never exited");
    assert.equal(s.logged("notice recorded on the node"), t.notices, "each notice recorded once");
  } catch (err) {
    process.stderr.write(s.output().split("\n").slice(-80).join("\n"));
    throw err;
  }
}

describe("scenario 1: the API server goes away while notices arrive", () => {
  test(`killed for ${KILL_MS / 1000} s: every notice handled after it returns, none in the DLQ`, async () => {
    const s = await QueueScenario.create({
      name: "outage-kill",
      maxReceiveCount: MAX_RECEIVE,
      asgInstances: TERMINATE,
    });
    try {
      const notices = await sendDuringOutage(s, KILL_MS, "k");
      s.startNthd({ kubeconfig: api.kubeconfig, NTHD_KUBE_API_TIMEOUT_SECONDS: "5" });
      await s.nthdStarted();
      await api.kill();
      const killedAt = Date.now();
      await notices.waves();
      await sleep(Math.max(0, KILL_MS - (Date.now() - killedAt)));
      await api.start();
      await s.allHandled(120_000);
      await s.stopNthd();
      assertClean(
        await report(
          s,
          `kube-apiserver killed ${KILL_MS / 1000} s, maxReceiveCount ${MAX_RECEIVE}`,
        ),
        s,
      );
    } finally {
      await s.close();
    }
  });

  test(`frozen (SIGSTOP) for ${FREEZE_MS / 1000} s: every notice handled after it resumes`, async () => {
    const s = await QueueScenario.create({
      name: "outage-stop",
      maxReceiveCount: MAX_RECEIVE,
      asgInstances: TERMINATE,
    });
    try {
      const notices = await sendDuringOutage(s, FREEZE_MS, "f");
      s.startNthd({ kubeconfig: api.kubeconfig, NTHD_KUBE_API_TIMEOUT_SECONDS: "5" });
      await s.nthdStarted();
      await api.freeze();
      const frozenAt = Date.now();
      try {
        await notices.waves();
        await sleep(Math.max(0, FREEZE_MS - (Date.now() - frozenAt)));
      } finally {
        api.thaw();
      }
      await s.allHandled(120_000);
      await s.stopNthd();
      assertClean(
        await report(
          s,
          `kube-apiserver frozen ${FREEZE_MS / 1000} s, maxReceiveCount ${MAX_RECEIVE}`,
        ),
        s,
      );
    } finally {
      await s.close();
    }
  });
});

// Scenario 3: the AWS side fails in the ways AWS does, while notices arrive.
// nthd reaches moto through the HTTP fault proxy, which reaches it through
// Toxiproxy: ReceiveMessage answers 500; DeleteMessageBatch fails some of
// its entries; ChangeMessageVisibilityBatch hangs; DescribeInstances is
// throttled; then every connection to SQS is reset for a while. Nothing may
// be lost (dead-letter queue empty) or handled twice.
// Short by default; NTHD_SCENARIO_FULL=1 gives ReceiveMessage a minute of 500s.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { ground } from "../env/ground.ts";
import {
  awsJsonError,
  awsQueryError,
  type HttpFaultProxy,
  startHttpFaultProxy,
} from "../env/http-faults.ts";
import { QueueScenario, tallyLine } from "../env/queue-scenario.ts";
import { startToxiproxy, type TcpFaults, type Toxiproxy } from "../env/toxiproxy.ts";

const RECEIVE_FAIL_MS = process.env.NTHD_SCENARIO_FULL === "1" ? 60_000 : 20_000;
let toxiproxy: Toxiproxy;
let tcp: TcpFaults;
let proxy: HttpFaultProxy;

before(async () => {
  toxiproxy = await startToxiproxy();
  tcp = await toxiproxy.proxy("moto", Number(new URL(ground().motoUrl).port));
  proxy = await startHttpFaultProxy(tcp.url("http"));
});

after(async () => {
  await proxy?.close();
  await toxiproxy?.stop();
});

test("scenario 3: AWS 500s, partial batch failures, a hung visibility call, throttling, resets: nothing lost or doubled", async () => {
  const s = await QueueScenario.create({ name: "aws-faults", maxReceiveCount: 2, asgInstances: 3 });
  try {
    const early = await s.spotNodes(2, "a");
    const asg = [
      await s.asgInstance(true, "a-asg"),
      await s.asgInstance(true, "a-asg"),
      await s.asgInstance(true, "a-asg"),
    ];
    // The default visibility timeout: a hung extension is cut off in time to try again.
    s.startNthd({
      kubeconfig: ground().kubeconfig,
      awsEndpoint: proxy.url,
      SQS_MSG_VISIBILITY_TIMEOUT_SEC: "20",
      NTHD_AWS_REQUEST_TIMEOUT_SECONDS: "5",
    });
    await s.nthdStarted();

    // ReceiveMessage 500s: nothing comes in, nothing is lost.
    const healReceive = proxy.add({
      match: { operation: "ReceiveMessage" },
      fault: awsJsonError("InternalError", 500),
    });
    for (const n of early) await s.sendSpot(n.instanceId, n.nodeName);
    await s.sendTerminate(asg[0]?.instanceId as string, asg[0]?.nodeName);
    await sleep(RECEIVE_FAIL_MS);
    healReceive();
    assert.ok(proxy.faulted("ReceiveMessage") > 0, "ReceiveMessage met its 500s");

    // Partial deletes, hung extensions, throttled lookups (for new nodes, not primed yet).
    proxy.add({
      match: { operation: "DeleteMessageBatch" },
      fault: { kind: "partial-batch" },
      times: 3,
    });
    proxy.add({
      match: { operation: "ChangeMessageVisibilityBatch" },
      fault: { kind: "hang" },
      times: 2,
    });
    const healThrottle = proxy.add({
      match: { operation: "DescribeInstances" },
      fault: awsQueryError("RequestLimitExceeded", 503),
    });
    const late = await s.spotNodes(3, "b");
    for (const n of late) await s.sendSpot(n.instanceId, n.nodeName);
    await s.sendTerminate(asg[1]?.instanceId as string, asg[1]?.nodeName);
    await sleep(15_000);
    healThrottle();
    assert.ok(proxy.faulted("DescribeInstances") > 0, "DescribeInstances was throttled");

    // Every connection to SQS reset for 10 s.
    await tcp.reset();
    await s.sendTerminate(asg[2]?.instanceId as string, asg[2]?.nodeName);
    await sleep(10_000);
    await tcp.heal();

    const handled = await s.allHandled(120_000);
    await s.stopNthd();
    const t = await s.tally();
    process.stdout.write(
      `${tallyLine(t)}  (3: ReceiveMessage 500 ${RECEIVE_FAIL_MS / 1000} s, DeleteMessageBatch partial x3, ChangeMessageVisibilityBatch hung x2, DescribeInstances throttled 15 s, SQS connections reset 10 s)\n`,
    );
    try {
      assert.ok(handled, "every notice handled");
      assert.ok(proxy.faulted("DeleteMessageBatch") > 0, "a delete met partial failure");
      assert.equal(t.dlq, 0);
      assert.equal(t.lost, 0);
      assert.equal(t.doubled, 0);
      assert.equal(t.restarts, 0);
      assert.equal(s.logged("notice recorded on the node"), t.notices, "each notice recorded once");
    } catch (err) {
      process.stderr.write(s.output().split("\n").slice(-80).join("\n"));
      process.stderr.write(`\nproxy upstream errors:\n${proxy.upstreamErrors.join("\n")}\n`);
      process.stderr.write(`\ntoxiproxy:\n${toxiproxy.log()}\n`);
      throw err;
    }
  } finally {
    proxy.clear();
    await tcp.heal().catch(() => {});
    await s.close();
  }
});

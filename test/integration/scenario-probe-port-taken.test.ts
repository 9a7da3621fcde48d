// Fault scenario: on the host network another agent already holds nthd's
// probes port when nthd starts (IMDS mode). nthd logs and counts the
// failed listener, keeps polling, handles a Spot notice, and opens the
// listener once the port is free.
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { after, describe, test } from "node:test";
import { CoreV1Api } from "@kubernetes/client-node";
import { freePort, ground, kubeConfig, nodeWithPods, startMetadataMock } from "../env/ground.ts";
import { eventually, metricSum, scrapeMetrics, startNthd } from "../env/nthd-process.ts";
import { imdsNodeOutcome, printScenario } from "../env/scenario.ts";
import { runSuffix } from "../support/ids.ts";

const core = kubeConfig().makeApiClient(CoreV1Api);
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const clean of cleanups.reverse()) await clean().catch(() => {});
});

describe("scenario: the probes port is taken (IMDS mode)", () => {
  test("nthd keeps polling and handles a Spot notice; the listener opens once the port is free", async () => {
    const node = `port-taken-${runSuffix()}`;
    await nodeWithPods({ namespace: node, node, replicas: 2 });
    cleanups.push(
      () => core.deleteNamespace({ name: node }),
      () => core.deleteNode({ name: node }),
    );
    // Another agent holds the probes port before nthd starts.
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(0, "127.0.0.1", r));
    const probesPort = (holder.address() as { port: number }).port;
    cleanups.push(() => new Promise((r) => holder.close(r)));
    // The notice comes a few seconds after start, so polling, not start-up, finds it.
    const mock = await startMetadataMock(["spot", "-a", "terminate", "-I", "-d", "4"]);
    cleanups.push(() => mock.stop());
    const metricsPort = await freePort();
    const nthd = startNthd({
      NODE_NAME: node,
      KUBECONFIG: ground().kubeconfig,
      INSTANCE_METADATA_URL: mock.url,
      ENABLE_PROMETHEUS_SERVER: "true",
      PROMETHEUS_SERVER_PORT: String(metricsPort),
      ENABLE_PROBES_SERVER: "true",
      PROBES_SERVER_PORT: String(probesPort),
      NTHD_BIND_ADDRESS: "127.0.0.1",
    });
    cleanups.push(() => nthd.stop());

    const failures = await eventually("the failed listener counted", async () => {
      const n = metricSum(
        await scrapeMetrics(metricsPort).catch(() => ""),
        "nthd_listener_bind_failures_total",
        {
          listener: "probes",
        },
      );
      return n >= 1 ? n : undefined;
    });
    assert.ok(failures >= 1);
    assert.match(nthd.output(), /cannot listen; nthd goes on protecting the node/);
    await eventually(`${node} drained`, async () =>
      (await core.readNode({ name: node })).metadata?.labels?.["nthd/state"] === "drained"
        ? true
        : undefined,
    );
    assert.equal(nthd.child.exitCode, null, nthd.output());
    const outcome = await imdsNodeOutcome(node, nthd, metricsPort);
    printScenario("probes port taken at start", outcome);
    assert.deepEqual(outcome, { notices: 1, handled: 1, doubled: 0, dlq: 0, restarts: 0 });

    // The other agent goes away: nthd's retry (1 s, doubling) opens the listener.
    await new Promise((r) => holder.close(r));
    const status = await eventually(
      "probes listener open",
      async () =>
        (await fetch(`http://127.0.0.1:${probesPort}/healthz`).catch(() => undefined))?.status,
      30_000,
    );
    assert.equal(status, 200);
  });
});

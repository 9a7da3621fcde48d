// Observability of the real nthd: the metrics a handled notice moves, a
// webhook receiver that hangs without delaying the drain, and /readyz
// following the API server's reachability.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { CoreV1Api } from "@kubernetes/client-node";
import {
  freePort,
  ground,
  kubeConfig,
  type MetadataMock,
  nodeWithPods,
  startMetadataMock,
} from "../env/ground.ts";
import { metricSum, type NthdProcess, startNthd } from "../env/nthd-process.ts";
import { type Forwarder, startForwarder } from "../env/tcp-forwarder.ts";
import { eventually } from "../support/eventually.ts";

const suffix = Math.random().toString(36).slice(2, 8);

describe("nthd observability end to end", () => {
  const kc = kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const namespace = `observe-${suffix}`;
  const nodeName = `observe-${suffix}`;
  let mock: MetadataMock;
  let api: Forwarder;
  let hangingWebhook: Server;
  let webhookHits = 0;
  let nthd: NthdProcess;
  let metricsPort: number;
  let probesPort: number;

  before(async () => {
    await nodeWithPods({ namespace, node: nodeName, replicas: 2 }, kc);
    // The API server behind a forwarder the test can cut; the serving
    // certificate is for 127.0.0.1, so the port does not matter to TLS.
    api = await startForwarder(Number(new URL(ground().apiserverUrl).port));
    const kubeconfig = join(tmpdir(), `nthd-observe-${suffix}.kubeconfig`);
    writeFileSync(
      kubeconfig,
      readFileSync(ground().kubeconfig, "utf8").replace(
        ground().apiserverUrl,
        `https://127.0.0.1:${api.port}`,
      ),
    );
    hangingWebhook = createServer(() => {
      webhookHits++; // never answers
    });
    await new Promise<void>((resolve) => hangingWebhook.listen(0, "127.0.0.1", resolve));
    const webhookAddress = hangingWebhook.address();
    const webhookPort =
      typeof webhookAddress === "object" && webhookAddress ? webhookAddress.port : 0;
    mock = await startMetadataMock(["spot", "-a", "terminate"]);
    [metricsPort, probesPort] = [await freePort(), await freePort()];
    nthd = startNthd({
      NODE_NAME: nodeName,
      KUBECONFIG: kubeconfig,
      INSTANCE_METADATA_URL: mock.url,
      ENABLE_PROMETHEUS_SERVER: "true",
      PROMETHEUS_SERVER_PORT: String(metricsPort),
      ENABLE_PROBES_SERVER: "true",
      PROBES_SERVER_PORT: String(probesPort),
      NTHD_BIND_ADDRESS: "127.0.0.1",
      WEBHOOK_URL: `http://127.0.0.1:${webhookPort}/hook`,
      // Readiness follows nthd's own requests; an idle nthd checks after this long.
      NTHD_API_PROBE_IDLE_SECONDS: "5",
    });
  });

  after(async () => {
    const code = await nthd?.stop();
    await mock?.stop();
    await api?.close();
    hangingWebhook?.closeAllConnections();
    await new Promise<void>((resolve) => hangingWebhook?.close(() => resolve()));
    await core.deleteNamespace({ name: namespace }).catch(() => {});
    await core.deleteNode({ name: nodeName }).catch(() => {});
    assert.equal(code, 0, nthd?.output());
  });

  test("a handled Spot notice moves the counters and histograms; a hanging webhook delays nothing", async () => {
    await eventually("node drained", async () => {
      const pods = await core.listNamespacedPod({
        namespace,
        fieldSelector: `spec.nodeName=${nodeName}`,
      });
      return pods.items.length === 0 ? true : undefined;
    });
    const metrics = await eventually("drain outcome counted", async () => {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      return metricSum(text, "nthd_drains_total", { outcome: "completed" }) >= 1 ? text : undefined;
    });
    assert.equal(
      metricSum(metrics, "nthd_notices_received_total", {
        kind: "spot-interruption",
        source: "imds",
      }),
      1,
    );
    assert.ok(
      metricSum(metrics, "actions_total", {
        node_action: "cordon-and-drain",
        node_status: "success",
      }) >= 1,
    );
    assert.equal(
      metricSum(metrics, "nthd_notice_to_cordon_seconds_count", { kind: "spot-interruption" }),
      1,
    );
    assert.equal(
      metricSum(metrics, "nthd_notice_to_drained_seconds_count", { kind: "spot-interruption" }),
      1,
    );
    assert.equal(metricSum(metrics, "nthd_pods_evicted_total", { kind: "spot-interruption" }), 2);
    assert.equal(metricSum(metrics, "nthd_interruptions_total", { kind: "spot-interruption" }), 1);
    // NTH's unbounded per-node series is not exported.
    assert.doesNotMatch(metrics, /^actions_node_total/m);
    // The drain finished while the webhook receiver still holds the request.
    await eventually("webhook attempted", async () => (webhookHits > 0 ? true : undefined), 10_000);
  });

  test("/readyz turns unready while the API server is unreachable, and ready again", async () => {
    const readyz = async () => (await fetch(`http://127.0.0.1:${probesPort}/readyz`)).status;
    await eventually("ready", async () => ((await readyz()) === 200 ? true : undefined));
    await api.cut();
    const body = await eventually(
      "unready",
      async () => {
        const response = await fetch(`http://127.0.0.1:${probesPort}/readyz`);
        return response.status === 503 ? await response.text() : undefined;
      },
      // Idle: a probe within 5 s (NTHD_API_PROBE_IDLE_SECONDS), unready once
      // nothing has been answered for 10 s; slack for a loaded machine.
      40_000,
    );
    assert.match(body, /kube/);
    // Liveness is about the process, not its peers.
    assert.equal((await fetch(`http://127.0.0.1:${probesPort}/healthz`)).status, 200);
    await api.restore();
    await eventually(
      "ready again",
      async () => ((await readyz()) === 200 ? true : undefined),
      40_000,
    );
  });
});

// Readiness and the API server, on the real ground: the probe never waits in
// the rate limiter behind queued evictions, and readiness follows what nthd's
// own requests see when the API server becomes unreachable and comes back.
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { CoreV1Api } from "@kubernetes/client-node";
import { createKubeClient } from "../../src/kube/client.ts";
import { watchApiHealth } from "../../src/observe/api-health.ts";
import { Readiness } from "../../src/observe/readiness.ts";
import { createNode, ground, kubeConfig, randomInstanceId } from "../env/ground.ts";
import { eventually } from "../env/nthd-process.ts";
import { type Forwarder, startForwarder } from "../env/tcp-forwarder.ts";

const run = Math.random().toString(36).slice(2, 7);
const nodeName = `api-health-${run}`;
const core = kubeConfig().makeApiClient(CoreV1Api);

before(async () => {
  await createNode({ name: nodeName, instanceId: randomInstanceId() });
});
after(async () => {
  await core.deleteNode({ name: nodeName }).catch(() => {});
});

describe("API health", () => {
  test("the probe answers at once while 30 requests wait in the rate limiter", async () => {
    // 1 request/s: 30 queued reads stand for evictions waiting their turn.
    const kube = createKubeClient({ kubeconfigPath: ground().kubeconfig, qps: 1, burst: 1 });
    const stop = new AbortController();
    try {
      const queued = Array.from({ length: 30 }, () =>
        kube.getNode(nodeName, { signal: stop.signal }).catch(() => undefined),
      );
      await eventually("requests queued", async () =>
        kube.limiter.waiting >= 25 ? true : undefined,
      );
      const started = performance.now();
      await kube.probe(nodeName, { timeoutMs: 4_000 });
      const ms = performance.now() - started;
      assert.ok(kube.limiter.waiting >= 20, `still queued: ${kube.limiter.waiting}`);
      assert.ok(ms < 2_000, `probe took ${Math.round(ms)} ms behind the queue`);
      stop.abort();
      await Promise.all(queued);
    } finally {
      stop.abort();
      await kube.close();
    }
  });

  describe("readiness follows the requests, a probe after silence", () => {
    let api: Forwarder;
    let kubeconfig: string;
    before(async () => {
      api = await startForwarder(Number(new URL(ground().apiserverUrl).port));
      kubeconfig = join(tmpdir(), `nthd-api-health-${run}.kubeconfig`);
      writeFileSync(
        kubeconfig,
        readFileSync(ground().kubeconfig, "utf8").replace(
          ground().apiserverUrl,
          `https://127.0.0.1:${api.port}`,
        ),
      );
    });
    after(async () => {
      await api.close();
      rmSync(kubeconfig, { force: true });
    });

    test("unready while the API server is unreachable, ready again after; idle probes only", async () => {
      const kube = createKubeClient({ kubeconfigPath: kubeconfig, qps: 50, burst: 50 });
      const readiness = new Readiness();
      readiness.expect("kube");
      const stop = new AbortController();
      let probes = 0;
      const health = watchApiHealth({
        contact: kube.contact,
        probe: (signal) => {
          probes++;
          return kube.probe(nodeName, { signal, timeoutMs: 1_000 });
        },
        readiness,
        idleMs: 1_000,
        windowMs: 2_000,
        retryBaseMs: 500,
        retryMaxMs: 2_000,
        tickMs: 100,
        signal: stop.signal,
      });
      try {
        await eventually("ready", async () => (readiness.ready ? true : undefined));
        // Busy: nthd's own requests keep it ready without probes.
        const before = probes;
        for (let i = 0; i < 10; i++) {
          await kube.getNode(nodeName);
          await new Promise((r) => setTimeout(r, 200));
        }
        assert.ok(probes - before <= 1, `probes while busy: ${probes - before}`);
        await api.cut();
        const report = await eventually("unready", async () =>
          readiness.ready ? undefined : readiness.report(),
        );
        assert.match(report.checks.kube?.detail ?? "", /unreachable/);
        await api.restore();
        await eventually("ready again", async () => (readiness.ready ? true : undefined));
      } finally {
        stop.abort();
        await health;
        await kube.close();
      }
    });
  });
});

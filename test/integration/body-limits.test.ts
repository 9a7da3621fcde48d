// Every body nthd reads has a size limit: a webhook receiver answering an
// endless body, a metadata endpoint (a misbehaving proxy in front of IMDS)
// answering a megabyte, a kubeconfig setting pointing at a huge file, and
// lists of a large cluster, which are legitimate and so read page by page
// from the real API server. Each is a clear error naming what was too large
// (or, for the webhook, a cut-off read), counted, never a crash.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { CoreV1Api } from "@kubernetes/client-node";
import { isNthdError } from "../../src/errors.ts";
import { createKubeClient } from "../../src/kube/client.ts";
import { loadMetrics } from "../../src/observe/metrics.ts";
import { Webhook } from "../../src/observe/webhook.ts";
import { compileTemplate } from "../../src/observe/webhook-template.ts";
import { ImdsClient } from "../../src/sources/imds/client.ts";
import { createNode, ground, kubeConfig, randomInstanceId } from "../env/ground.ts";
import { metricSum } from "../env/nthd-process.ts";

const { registry } = await loadMetrics();
const overLimit = async (source: string) =>
  metricSum(await registry.metrics(), "nthd_body_over_limit_total", { source });

/** A loopback server that answers every request with `size` bytes of "x", chunk by chunk. */
async function bigAnswer(
  size: number,
): Promise<{ url: string; sent: () => number; server: Server }> {
  let sent = 0;
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/plain" });
    const chunk = Buffer.alloc(64 * 1024, "x");
    let left = size;
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        left -= n;
        sent += n;
        if (!res.write(chunk.subarray(0, n))) return void res.once("drain", pump);
      }
      res.end();
    };
    res.on("close", () => {
      left = 0;
    });
    pump();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, sent: () => sent, server };
}

const closeServer = (s: Server) =>
  new Promise<void>((r) => {
    s.closeAllConnections();
    s.close(() => r());
  });

describe("size limits on what nthd reads", () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test("a webhook receiver answering 1 GiB is cut off after 64 KiB; delivery still counts", async () => {
    const big = await bigAnswer(1024 * 1024 * 1024);
    const before = await overLimit("webhook");
    try {
      const hook = new Webhook({
        url: `${big.url}/hook`,
        headers: { "content-type": "application/json" },
        template: compileTemplate('{"text":"{{ .Kind }}"}', "test"),
        attempts: 1,
      });
      assert.equal(await hook.send({ Kind: "SpotInterruption" } as never), true);
      await hook.close();
      assert.equal((await overLimit("webhook")) - before, 1);
      assert.ok(
        big.sent() < 64 * 1024 * 1024,
        `the receiver was stopped early (${big.sent()} bytes)`,
      );
    } finally {
      await closeServer(big.server);
    }
  });

  test("a metadata body of 1 MiB is IMDS_BAD_RESPONSE naming the path, not retried", async () => {
    const big = await bigAnswer(1024 * 1024);
    const before = await overLimit("imds");
    try {
      const client = new ImdsClient({
        baseUrl: big.url,
        tries: 3,
        tokenTtlSeconds: 60,
        allowV1Fallback: true,
      });
      const err = await client
        .get("/latest/meta-data/spot/instance-action")
        .catch((e: unknown) => e);
      await client.close();
      assert.ok(isNthdError(err, "IMDS_BAD_RESPONSE"), String(err));
      assert.match(err.message, /spot\/instance-action: body is over 64 KiB, the limit/);
      assert.equal(client.stats.retries, 0, "an oversized answer is not retried");
      assert.ok((await overLimit("imds")) - before >= 1);
    } finally {
      await closeServer(big.server);
    }
  });

  test("a kubeconfig over 16 MiB stops with CONFIG_INVALID naming the file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nthd-body-limits-"));
    dirs.push(dir);
    const path = join(dir, "kubeconfig");
    writeFileSync(path, `# ${"x".repeat(17 * 1024 * 1024)}\n`);
    const kube = createKubeClient({ kubeconfigPath: path, qps: 5, burst: 5 });
    const err = await kube.getNode("n").catch((e: unknown) => e);
    await kube.close();
    assert.ok(isNthdError(err, "CONFIG_INVALID"), String(err));
    assert.match(err.message, new RegExp(`kubeconfig ${path}: cannot read: .*over 16 MiB`));
  });

  describe("cluster-wide lists are read page by page", () => {
    const run = Math.random().toString(36).slice(2, 7);
    const names = [1, 2, 3, 4, 5].map((i) => `paged-${run}-${i}`);
    const core = kubeConfig().makeApiClient(CoreV1Api);
    before(async () => {
      for (const name of names) {
        await createNode({ name, instanceId: randomInstanceId(), labels: { "nthd-paged": run } });
      }
    });
    after(async () => {
      for (const name of names) await core.deleteNode({ name }).catch(() => {});
    });

    test("pages of 2 give the same nodes as one answer, with the list's resourceVersion", async () => {
      const paged = createKubeClient({
        kubeconfigPath: ground().kubeconfig,
        qps: 50,
        burst: 50,
        listPageSize: 2,
      });
      try {
        const list = await paged.listNodes({ labelSelector: `nthd-paged=${run}` });
        assert.deepEqual(list.nodes.map((n) => n.metadata?.name).sort(), names);
        assert.match(list.resourceVersion, /^\d+$/);
      } finally {
        await paged.close();
      }
    });
  });
});

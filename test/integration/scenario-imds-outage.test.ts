// Fault scenario: IMDS mode when the metadata service or the API server is
// away at start, or the metadata service fails.
// nthd never exits for it; it reports not ready, keeps trying, and handles
// the Spot notice as soon as IMDS answers. The full version keeps
// IMDS away for 60 s with the notice appearing at 30 s; the suite uses 8 s
// and a notice already pending when IMDS comes back, which is the case that
// measures how soon nthd notices IMDS is back.
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { CoreV1Api } from "@kubernetes/client-node";
import {
  freePort,
  ground,
  kubeConfig,
  type MetadataMock,
  nodeWithPods,
  startMetadataMock,
} from "../env/ground.ts";
import { startHttpFaultProxy } from "../env/http-faults.ts";
import { eventually, type NthdProcess, startImdsRelay, startNthd } from "../env/nthd-process.ts";
import { imdsNodeOutcome, printScenario } from "../env/scenario.ts";
import { startForwarder } from "../env/tcp-forwarder.ts";
import { runSuffix } from "../support/ids.ts";

/** `npm run scenario:imds-full` sets the 60 s (the notice then has been pending for 30 s and more). */
const IMDS_AWAY_MS = Number(process.env.NTHD_SCENARIO_IMDS_AWAY_MS ?? 8_000);
const core = kubeConfig().makeApiClient(CoreV1Api);
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const clean of cleanups.reverse()) await clean().catch(() => {});
});

/** A namespace, a node with two pods, and nthd in IMDS mode pointed at `metadataUrl`. */
async function setUp(name: string, metadataUrl: string, env: Record<string, string> = {}) {
  const namespace = `${name}-${runSuffix()}`;
  await nodeWithPods({ namespace, node: namespace, replicas: 2 });
  cleanups.push(
    () => core.deleteNamespace({ name: namespace }),
    () => core.deleteNode({ name: namespace }),
  );
  const [metricsPort, probesPort] = [await freePort(), await freePort()];
  const nthd = startNthd({
    NODE_NAME: namespace,
    KUBECONFIG: ground().kubeconfig,
    INSTANCE_METADATA_URL: metadataUrl,
    ENABLE_PROMETHEUS_SERVER: "true",
    PROMETHEUS_SERVER_PORT: String(metricsPort),
    ENABLE_PROBES_SERVER: "true",
    PROBES_SERVER_PORT: String(probesPort),
    NTHD_BIND_ADDRESS: "127.0.0.1",
    ...env,
  });
  cleanups.push(() => nthd.stop());
  return { node: namespace, nthd, metricsPort, probesPort };
}

async function cordonedAt(node: string): Promise<number> {
  return eventually(
    `${node} cordoned`,
    async () =>
      (await core.readNode({ name: node })).spec?.unschedulable ? performance.now() : undefined,
    60_000,
  );
}

async function drained(node: string): Promise<void> {
  await eventually(`${node} drained`, async () =>
    (await core.readNode({ name: node })).metadata?.labels?.["nthd/state"] === "drained"
      ? true
      : undefined,
  );
}

function assertAlive(nthd: NthdProcess): void {
  assert.equal(nthd.child.exitCode, null, `nthd exited:\n${nthd.output()}`);
}

describe("scenario: IMDS or the API server away, IMDS failing (IMDS mode)", () => {
  test("IMDS unreachable at start: not ready, still running; cordoned within 2 s of IMDS answering", async () => {
    const port = await freePort(); // IMDS's address, chosen before anything listens there
    const s = await setUp("imds-late", `http://127.0.0.1:${port}`);
    const until = performance.now() + IMDS_AWAY_MS;
    let readyz = "";
    while (performance.now() < until) {
      assertAlive(s.nthd);
      const res = await fetch(`http://127.0.0.1:${s.probesPort}/readyz`).catch(() => undefined);
      if (res !== undefined) readyz = `${res.status} ${await res.text()}`;
      await sleep(500);
    }
    assert.match(readyz, /^503 .*instance metadata/, "not ready while IMDS is away");

    let mock: MetadataMock | undefined = await startMetadataMock(
      ["spot", "-a", "terminate", "-I"],
      {
        port,
      },
    );
    const answering = performance.now();
    cleanups.push(() => mock?.stop() ?? Promise.resolve());
    const cordonMs = (await cordonedAt(s.node)) - answering;
    process.stdout.write(`IMDS back to node cordoned: ${Math.round(cordonMs)} ms\n`);
    assert.ok(cordonMs <= 2_000, `cordoned ${Math.round(cordonMs)} ms after IMDS answered`);
    await drained(s.node);
    assertAlive(s.nthd);
    const outcome = await imdsNodeOutcome(s.node, s.nthd, s.metricsPort);
    printScenario(`IMDS unreachable for ${IMDS_AWAY_MS / 1000} s at start`, outcome);
    assert.deepEqual(outcome, { notices: 1, handled: 1, doubled: 0, dlq: 0, restarts: 0 });
    await mock.stop();
    mock = undefined;
  });

  test("API server unreachable at start: nthd polls IMDS anyway and cordons once the API answers", async () => {
    const mock = await startMetadataMock(["spot", "-a", "terminate", "-I"]);
    cleanups.push(() => mock.stop());
    // The API server behind a forwarder that refuses connections until restored.
    const api = await startForwarder(Number(new URL(ground().apiserverUrl).port));
    cleanups.push(() => api.close());
    await api.cut();
    const kubeconfig = join(tmpdir(), `nthd-api-late-${runSuffix()}.kubeconfig`);
    writeFileSync(
      kubeconfig,
      readFileSync(ground().kubeconfig, "utf8").replace(
        ground().apiserverUrl,
        `https://127.0.0.1:${api.port}`,
      ),
    );
    cleanups.push(async () => rmSync(kubeconfig, { force: true }));
    const s = await setUp("api-late", mock.url, { KUBECONFIG: kubeconfig });
    const until = performance.now() + IMDS_AWAY_MS;
    let readyz = "";
    while (performance.now() < until) {
      assertAlive(s.nthd);
      const res = await fetch(`http://127.0.0.1:${s.probesPort}/readyz`).catch(() => undefined);
      if (res !== undefined) readyz = `${res.status} ${await res.text()}`;
      await sleep(500);
    }
    assert.match(readyz, /^503 .*"kube"/, "not ready while the API server is away");
    assert.equal((await core.readNode({ name: s.node })).spec?.unschedulable, undefined);
    await api.restore();
    const back = performance.now();
    const cordonMs = (await cordonedAt(s.node)) - back;
    process.stdout.write(`API back to node cordoned: ${Math.round(cordonMs)} ms\n`);
    assert.ok(cordonMs <= 5_000, `cordoned ${Math.round(cordonMs)} ms after the API answered`);
    await drained(s.node);
    assertAlive(s.nthd);
    const outcome = await imdsNodeOutcome(s.node, s.nthd, s.metricsPort);
    printScenario(`API server unreachable for ${IMDS_AWAY_MS / 1000} s at start`, outcome);
    assert.deepEqual(outcome, { notices: 1, handled: 1, doubled: 0, dlq: 0, restarts: 0 });
  });

  test("the token endpoint answers 500 seven times: nthd retries, then handles the notice", async () => {
    const mock = await startMetadataMock(["spot", "-a", "terminate", "-I"]);
    cleanups.push(() => mock.stop());
    const relay = await startHttpFaultProxy(mock.url);
    cleanups.push(() => relay.close());
    relay.add({
      match: { method: "PUT", path: /^\/latest\/api\/token$/ },
      fault: { kind: "status", status: 500 },
      times: 7,
    });
    const s = await setUp("imds-token-500", relay.url);
    await cordonedAt(s.node);
    await drained(s.node);
    assertAlive(s.nthd);
    // Seven token requests answered 500, and the notice was only read after
    // one more went through: every one of the seven was retried.
    assert.equal(relay.faulted("PUT /latest/api/token"), 7);
    assert.ok(relay.seen("PUT /latest/api/token") >= 8, "a token was issued after the 500s");
    const outcome = await imdsNodeOutcome(s.node, s.nthd, s.metricsPort);
    printScenario("IMDS token endpoint 500 x7", outcome);
    assert.deepEqual(outcome, { notices: 1, handled: 1, doubled: 0, dlq: 0, restarts: 0 });
  });

  test("a stale token answered 401: nthd fetches a new one and handles the notice", async () => {
    // Two metadata services behind one address: the first with nothing
    // pending, the second (which never issued nthd's token) with a notice.
    const quiet = await startMetadataMock(["spot", "-a", "terminate", "-I", "-d", "3600"]);
    const spot = await startMetadataMock(["spot", "-a", "terminate", "-I"]);
    cleanups.push(
      () => quiet.stop(),
      () => spot.stop(),
    );
    const relay = await startImdsRelay(quiet.url);
    cleanups.push(() => relay.close());
    const s = await setUp("imds-stale-token", relay.url);
    await eventually("nthd polling", async () =>
      relay.count("/latest/meta-data/spot/instance-action") >= 3 ? true : undefined,
    );
    const before = relay.statuses.length;
    relay.point(spot.url);
    await cordonedAt(s.node);
    await drained(s.node);
    assertAlive(s.nthd);
    assert.ok(relay.statuses.slice(before).includes(401), "the old token was refused");
    const outcome = await imdsNodeOutcome(s.node, s.nthd, s.metricsPort);
    printScenario("IMDS 401 on a stale token", outcome);
    assert.deepEqual(outcome, { notices: 1, handled: 1, doubled: 0, dlq: 0, restarts: 0 });
  });
});

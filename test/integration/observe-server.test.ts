import assert from "node:assert/strict";
import { createServer } from "node:net";
import { after, before, describe, it } from "node:test";
import { countNoticeReceived, loadMetrics } from "../../src/observe/metrics.ts";
import { Readiness } from "../../src/observe/readiness.ts";
import { type ObserveServer, startObserveServer } from "../../src/observe/server.ts";
import { referencedMetricNames, seriesNamesInScrape } from "../unit/observe-dashboard-names.ts";

const { enableProcessMetrics, registry } = await loadMetrics();

const HOST = "127.0.0.1";

async function get(port: number, path: string, method = "GET") {
  const res = await fetch(`http://${HOST}:${port}${path}`, { method });
  return {
    status: res.status,
    type: res.headers.get("content-type") ?? "",
    body: await res.text(),
  };
}

/** Reserves a port number by binding and releasing it (a short race is acceptable in a test). */
async function unusedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, HOST, r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe("observability server, one listener", () => {
  const readiness = new Readiness();
  let server: ObserveServer;
  let port: number;

  before(async () => {
    enableProcessMetrics();
    server = await startObserveServer({
      bindAddress: HOST,
      listeners: [{ port: 0, metrics: true, probes: true }],
      livenessPath: "/live",
      registry,
      readiness,
    });
    port = server.addresses[0]?.port ?? 0;
  });
  after(() => server.close());

  it("serves /metrics in Prometheus text format, and counters move", async () => {
    const line = /^nthd_notices_received_total\{kind="spot-interruption",source="imds"\} (\d+)$/m;
    countNoticeReceived("spot-interruption", "imds");
    const first = await get(port, "/metrics");
    assert.equal(first.status, 200);
    assert.match(first.type, /^text\/plain/);
    const before = Number(line.exec(first.body)?.[1]);
    countNoticeReceived("spot-interruption", "imds");
    countNoticeReceived("spot-interruption", "imds");
    const second = await get(port, "/metrics");
    assert.equal(Number(line.exec(second.body)?.[1]), before + 2);
  });

  it("exports every metric the dashboard and alert rules use (compared against a real scrape)", async () => {
    const scraped = seriesNamesInScrape((await get(port, "/metrics")).body);
    const missing = [...referencedMetricNames()].filter((n) => !scraped.has(n));
    assert.deepEqual(missing, []);
  });

  it("answers liveness on /healthz and on the configured probes path", async () => {
    assert.equal((await get(port, "/healthz")).status, 200);
    assert.equal((await get(port, "/live")).status, 200);
    assert.equal((await get(port, "/healthz", "HEAD")).body, "");
  });

  it("/readyz is unready until every expected check passes, and turns unready again", async () => {
    assert.equal((await get(port, "/readyz")).status, 503, "no checks yet");
    readiness.expect("config", "kube", "source");
    readiness.set("config", true);
    readiness.set("kube", true);
    const waiting = await get(port, "/readyz");
    assert.equal(waiting.status, 503);
    assert.deepEqual(JSON.parse(waiting.body).checks.source, { ok: false, detail: "not started" });
    readiness.set("source", true);
    assert.equal((await get(port, "/readyz")).status, 200);
    assert.match((await get(port, "/metrics")).body, /^nthd_ready 1$/m);
    readiness.set("kube", false, "API server unreachable");
    const lost = await get(port, "/readyz");
    assert.equal(lost.status, 503);
    assert.equal(JSON.parse(lost.body).checks.kube.detail, "API server unreachable");
    assert.match((await get(port, "/metrics")).body, /^nthd_readiness_check\{check="kube"\} 0$/m);
  });

  it("rejects other methods and unknown paths", async () => {
    assert.equal((await get(port, "/metrics", "POST")).status, 405);
    assert.equal((await get(port, "/nope")).status, 404);
  });
});

describe("observability server, separate metrics and probes ports (NTH layout)", () => {
  it("serves metrics and probes each on their own port only, and closes", async () => {
    const metricsPort = await unusedPort();
    const server = await startObserveServer({
      bindAddress: HOST,
      listeners: [
        { port: metricsPort, metrics: true, probes: false },
        { port: 0, metrics: false, probes: true },
      ],
      livenessPath: "/healthz",
      registry,
      readiness: new Readiness(),
    });
    const probesPort = server.addresses[1]?.port ?? 0;
    assert.equal(server.addresses[0]?.port, metricsPort);
    assert.equal((await get(metricsPort, "/metrics")).status, 200);
    assert.equal((await get(metricsPort, "/healthz")).status, 404);
    assert.equal((await get(probesPort, "/healthz")).status, 200);
    assert.equal((await get(probesPort, "/metrics")).status, 404);
    await server.close();
    await assert.rejects(get(metricsPort, "/metrics"));
  });

  it("a taken port is logged and counted, the other listener serves, and it binds once freed", async () => {
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(0, HOST, r));
    const taken = (holder.address() as { port: number }).port;
    const failures = () =>
      registry
        .getSingleMetric("nthd_listener_bind_failures_total")
        ?.get()
        .then((m) => m.values.find((v) => v.labels.listener === "probes")?.value ?? 0);
    const before = (await failures()) ?? 0;
    const logged: string[] = [];
    const log = {
      error: (_fields: object, msg: string) => logged.push(msg),
      info: (_fields: object, msg: string) => logged.push(msg),
      debug: () => {},
    };
    const server = await startObserveServer({
      bindAddress: HOST,
      listeners: [
        { port: 0, metrics: true, probes: false },
        { port: taken, metrics: false, probes: true },
      ],
      livenessPath: "/healthz",
      registry,
      readiness: new Readiness(),
      log: log as never,
    });
    try {
      const probes = () => server.addresses[1];
      assert.equal(probes(), undefined, "the probes listener could not bind");
      const metricsPort = server.addresses[0]?.port ?? 0;
      assert.equal((await get(metricsPort, "/metrics")).status, 200);
      assert.equal(((await failures()) ?? 0) - before, 1);
      assert.match(logged.join("\n"), /cannot listen; nthd goes on/);
      await new Promise((r) => holder.close(r));
      // Retried with back-off (1 s, then 2 s...): it binds once the port is free.
      for (let i = 0; i < 100 && probes() === undefined; i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(probes()?.port, taken);
      assert.equal((await get(taken, "/healthz")).status, 200);
      assert.match(logged.join("\n"), /listening now/);
    } finally {
      await server.close();
      holder.close();
    }
  });
});

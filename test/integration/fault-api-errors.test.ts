// Scenario 2: the API server answers 503 to every request (an overloaded or
// half-upgraded control plane), then 429 with Retry-After (API priority and
// fairness shedding load), while notices arrive. nthd reaches the ground's
// API server through an HTTP fault proxy that terminates TLS with the
// ground's certificates and presents the admin client certificate upstream.
// Short by default; NTHD_SCENARIO_FULL=1 gives each phase the full 2 minutes.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { kubeconfigYaml } from "../env/apiserver.ts";
import { ground } from "../env/ground.ts";
import { type HttpFaultProxy, kubeStatus, startHttpFaultProxy } from "../env/http-faults.ts";
import { QueueScenario, tallyLine } from "../env/queue-scenario.ts";

const PHASE_MS = process.env.NTHD_SCENARIO_FULL === "1" ? 120_000 : 25_000;
let proxy: HttpFaultProxy;
let kubeconfig: string;

before(async () => {
  const g = ground();
  const pki = join(g.runDir, "pki");
  const read = (f: string) => readFileSync(join(pki, f), "utf8");
  proxy = await startHttpFaultProxy(g.apiserverUrl, {
    tls: {
      cert: read("apiserver.crt"),
      key: read("apiserver.key"),
      ca: read("ca.crt"),
      clientCert: read("admin.crt"),
      clientKey: read("admin.key"),
    },
  });
  kubeconfig = join(g.runDir, `kubeconfig-fault-proxy-${process.pid}`);
  writeFileSync(kubeconfig, kubeconfigYaml(proxy.url, pki), { mode: 0o600 });
});

after(async () => {
  await proxy?.close();
});

test(`scenario 2: API 503 for ${PHASE_MS / 1000} s, then 429 for ${PHASE_MS / 1000} s: nothing lost`, async () => {
  const s = await QueueScenario.create({ name: "api-errors", maxReceiveCount: 2, asgInstances: 2 });
  try {
    const spot = await s.spotNodes(4, "e");
    const asg = [await s.asgInstance(true, "e-asg"), await s.asgInstance(true, "e-asg")];
    s.startNthd({ kubeconfig, NTHD_KUBE_API_TIMEOUT_SECONDS: "5" });
    await s.nthdStarted();

    let heal = proxy.add({ match: {}, fault: kubeStatus(503, "ServiceUnavailable") });
    const started = Date.now();
    for (const n of spot.slice(0, 2)) await s.sendSpot(n.instanceId, n.nodeName);
    await s.sendTerminate(asg[0]?.instanceId as string, asg[0]?.nodeName);
    await sleep(PHASE_MS - (Date.now() - started));
    heal();
    heal = proxy.add({ match: {}, fault: kubeStatus(429, "TooManyRequests", 1) });
    for (const n of spot.slice(2)) await s.sendSpot(n.instanceId, n.nodeName);
    await s.sendTerminate(asg[1]?.instanceId as string, asg[1]?.nodeName);
    await sleep(PHASE_MS);
    heal();
    assert.ok(proxy.faulted() > 0, "nthd's requests met the faults");

    await s.allHandled(90_000);
    await s.stopNthd();
    const t = await s.tally();
    process.stdout.write(
      `${tallyLine(t)}  (2: API 503 ${PHASE_MS / 1000} s, then 429 ${PHASE_MS / 1000} s, maxReceiveCount 2)\n`,
    );
    try {
      assert.equal(t.dlq, 0);
      assert.equal(t.lost, 0);
      assert.equal(t.doubled, 0);
      assert.equal(t.restarts, 0);
    } catch (err) {
      process.stderr.write(s.output().split("\n").slice(-60).join("\n"));
      throw err;
    }
  } finally {
    proxy.clear();
    await s.close();
  }
});

// End to end in IMDS mode, one scenario per monitor and per failure: the real
// nthd program polls the real metadata emulator (through a loopback relay that
// can be pointed at another emulator, hung or cut) and acts on a kwok node of
// the real API server. Waits count polls seen by the relay, never sleep.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { CoreV1Api, PolicyV1Api, type V1Node, type V1Pod } from "@kubernetes/client-node";
import {
  createPdb,
  freePort,
  ground,
  kubeConfig,
  type MetadataMock,
  nodeWithPods,
  podsOnNode as podsOf,
  startMetadataMock,
} from "../env/ground.ts";
import {
  eventually,
  type ImdsRelay,
  metricSum,
  type NthdProcess,
  scrapeMetrics,
  startImdsRelay,
  startNthd,
} from "../env/nthd-process.ts";

const run = Math.random().toString(36).slice(2, 7);
const kc = kubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const policy = kc.makeApiClient(PolicyV1Api);

const SPOT = "/latest/meta-data/spot/instance-action";
const REBALANCE = "/latest/meta-data/events/recommendations/rebalance";
const SCHEDULED = "/latest/meta-data/events/maintenance/scheduled";
const ASG = "/latest/meta-data/autoscaling/target-lifecycle-state";
const TOKEN = "/latest/api/token";
const STATE = "nthd/state";
const RECORD = "nthd/record";
const TAINT_PREFIX = "aws-node-termination-handler/";
/** Emulator arguments under which every polled item answers 404. */
const QUIET = ["-I", "spot", "-d", "3600", "--rebalance-delay-sec", "3600"];

/** A node of its own with two pods pinned to it (nodeSelector on a label only it has). */
interface Site {
  readonly node: string;
  readonly namespace: string;
}

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  await Promise.allSettled(cleanups.map((c) => c()));
});

async function site(tag: string): Promise<Site> {
  const name = `imdsm-${tag}-${run}`;
  cleanups.push(() => core.deleteNamespace({ name }));
  cleanups.push(() => core.deleteNode({ name }));
  await nodeWithPods({ namespace: name, node: name, replicas: 2 }, kc);
  const s = { node: name, namespace: name };
  await eventually(`2 running pods on ${name}`, async () =>
    (await runningOnNode(s)).length === 2 ? true : undefined,
  );
  return s;
}

async function podsOnNode(s: Site): Promise<V1Pod[]> {
  return podsOf(s.namespace, s.node, { all: true }, kc);
}

async function runningOnNode(s: Site): Promise<V1Pod[]> {
  return podsOf(s.namespace, s.node, {}, kc);
}

async function nodeEventReasons(s: Site): Promise<string[]> {
  const events = await core.listNamespacedEvent({
    namespace: "default",
    fieldSelector: `involvedObject.name=${s.node}`,
  });
  return events.items.map((e) => e.reason ?? "");
}

function nthdTaints(node: V1Node): string[] {
  return (node.spec?.taints ?? []).map((t) => t.key).filter((k) => k.startsWith(TAINT_PREFIX));
}

/** Metadata emulators that stop when the file ends, whatever happened. */
async function emulator(args: string[]): Promise<MetadataMock> {
  const mock = await startMetadataMock(args);
  cleanups.push(() => mock.stop());
  return mock;
}

async function relayTo(mock: MetadataMock): Promise<ImdsRelay> {
  const relay = await startImdsRelay(mock.url);
  cleanups.push(() => relay.close());
  return relay;
}

interface Daemon {
  readonly proc: NthdProcess;
  readonly port: number;
  metrics(): Promise<string>;
  /** SIGTERM; asserts a clean exit and prints its logs when not. */
  stop(): Promise<void>;
}

/** The real nthd in IMDS mode for `s`, reading IMDS through `relay`; resolves once ready. */
async function startDaemon(
  s: Site,
  relay: ImdsRelay,
  extra: Record<string, string> = {},
): Promise<Daemon> {
  // A free port can be taken by a parallel test before nthd binds it: then try another.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const proc = startNthd({
      NODE_NAME: s.node,
      KUBECONFIG: ground().kubeconfig,
      INSTANCE_METADATA_URL: relay.url,
      TAINT_NODE: "true",
      EMIT_KUBERNETES_EVENTS: "true",
      ENABLE_PROBES_SERVER: "true",
      PROBES_SERVER_PORT: String(port),
      ENABLE_PROMETHEUS_SERVER: "true",
      PROMETHEUS_SERVER_PORT: String(port),
      NTHD_BIND_ADDRESS: "127.0.0.1",
      NTHD_IMDS_POLL_INTERVAL_MS: "250",
      ...extra,
    });
    cleanups.push(() => proc.stop());
    const ready = await eventually(`nthd ready for ${s.node}`, async () => {
      if (proc.child.exitCode !== null) return "exited";
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      return res.status === 200 ? "ready" : undefined;
    });
    if (ready === "exited") {
      if (attempt < 3 && proc.output().includes("EADDRINUSE")) continue;
      throw new Error(`nthd exited ${proc.child.exitCode}:\n${proc.output()}`);
    }
    return {
      proc,
      port,
      metrics: () => scrapeMetrics(port),
      async stop() {
        const code = await proc.stop();
        assert.equal(code, 0, `nthd exited with ${code}:\n${proc.output()}`);
      },
    };
  }
}

/** Waits until nthd has polled `path` `n` more times (as seen by the relay). */
async function morePolls(relay: ImdsRelay, path: string, n: number): Promise<void> {
  const target = relay.count(path, "GET") + n;
  await eventually(`${n} more polls of ${path}`, async () =>
    relay.count(path, "GET") >= target ? true : undefined,
  );
}

async function drained(s: Site, taint: string, timeoutMs?: number): Promise<V1Node> {
  return eventually(
    `${s.node} cordoned, tainted and drained`,
    async () => {
      const node = await core.readNode({ name: s.node });
      const state = node.metadata?.labels?.[STATE];
      const left = (await podsOnNode(s)).length;
      // Thrown, so a timeout names where it got stuck.
      if (state !== "drained" || left > 0) throw new Error(`state ${state}, ${left} pod(s) left`);
      assert.equal(node.spec?.unschedulable, true);
      assert.deepEqual(nthdTaints(node), [taint]);
      return node;
    },
    timeoutMs,
  );
}

/** Asserts nthd has left the node as it was: schedulable, no marks, both pods running. */
async function untouched(s: Site): Promise<void> {
  const node = await core.readNode({ name: s.node });
  assert.notEqual(node.spec?.unschedulable, true, "node cordoned");
  assert.deepEqual(nthdTaints(node), []);
  assert.equal(node.metadata?.labels?.[STATE], undefined);
  assert.equal(node.metadata?.annotations?.[RECORD], undefined);
  assert.equal((await runningOnNode(s)).length, 2);
}

/** RFC 3339 in whole seconds, as the emulator's flags take it. */
function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

describe("nthd in IMDS mode: every monitor and failure, end to end", { concurrency: 4 }, () => {
  test("rebalance recommendation with ENABLE_REBALANCE_MONITORING cordons and taints, pods stay", async () => {
    const s = await site("rbc");
    const relay = await relayTo(await emulator(["-I", "spot", "-d", "3600"]));
    const d = await startDaemon(s, relay, { ENABLE_REBALANCE_MONITORING: "true" });
    try {
      await eventually("the node cordoned for the recommendation", async () => {
        const node = await core.readNode({ name: s.node });
        return node.metadata?.labels?.[STATE] === "cordoned" ? node : undefined;
      });
      // Several more polls of the same recommendation: still a cordon, nothing evicted.
      await morePolls(relay, REBALANCE, 8);
      const node = await core.readNode({ name: s.node });
      assert.equal(node.spec?.unschedulable, true);
      assert.deepEqual(nthdTaints(node), [`${TAINT_PREFIX}rebalance-recommendation`]);
      assert.equal(node.metadata?.labels?.[STATE], "cordoned");
      assert.equal((await runningOnNode(s)).length, 2);
      const reasons = await nodeEventReasons(s);
      assert.ok(reasons.includes("RebalanceRecommendation"), reasons.join(", "));
      assert.ok(!reasons.includes("CordonAndDrain"), reasons.join(", "));
    } finally {
      await d.stop();
    }
  });

  test("rebalance recommendation with ENABLE_REBALANCE_DRAINING drains the node", async () => {
    const s = await site("rbd");
    const relay = await relayTo(await emulator(["-I", "spot", "-d", "3600"]));
    const d = await startDaemon(s, relay, { ENABLE_REBALANCE_DRAINING: "true" });
    try {
      // Two pods with a 2 s grace period: far less than 20 s when it works.
      await drained(s, `${TAINT_PREFIX}rebalance-recommendation`, 20_000);
      const reasons = await eventually("the CordonAndDrain Event", async () => {
        const r = await nodeEventReasons(s);
        return r.includes("CordonAndDrain") ? r : undefined;
      });
      assert.ok(reasons.includes("RebalanceRecommendation"), reasons.join(", "));
    } finally {
      await d.stop();
    }
  });

  for (const [code, end] of [
    ["system-reboot", "canceled"],
    ["instance-stop", "completed"],
  ] as const) {
    test(`active ${code} event starting within the lead drains at once; ${end} uncordons`, async () => {
      const s = await site(end.slice(0, 4));
      // Five minutes ahead: inside the default 600 s lead, so the drain starts at detection.
      const notBefore = rfc3339(Date.now() + 300_000);
      const active = await emulator(["-I", "events", "-o", code, "-t", "active", "-b", notBefore]);
      const over = await emulator(["-I", "events", "-o", code, "-t", end, "-b", notBefore]);
      const relay = await relayTo(active);
      const d = await startDaemon(s, relay);
      try {
        const node = await drained(s, `${TAINT_PREFIX}scheduled-maintenance`);
        const record = JSON.parse(node.metadata?.annotations?.[RECORD] ?? "{}");
        assert.equal(record.deadline, new Date(notBefore).toISOString());

        // The second emulator knows nothing of the first one's session token:
        // nthd's requests are refused (401) until it fetches a new one.
        const statusesBefore = relay.statuses.length;
        relay.point(over.url);
        await eventually(`the node given back after the ${end} event`, async () => {
          const n = await core.readNode({ name: s.node });
          const done =
            n.spec?.unschedulable !== true &&
            nthdTaints(n).length === 0 &&
            n.metadata?.labels?.[STATE] === undefined &&
            n.metadata?.annotations?.[RECORD] === undefined;
          return done ? true : undefined;
        });
        const reasons = await eventually("the Uncordon Event", async () => {
          const r = await nodeEventReasons(s);
          return r.includes("Uncordon") ? r : undefined;
        });
        assert.ok(reasons.includes("ScheduledEvent"), reasons.join(", "));
        assert.equal(reasons.filter((r) => r === "CordonAndDrain").length, 1);
        // Token rejected mid-run, renewed transparently: no failed poll counted.
        assert.ok(
          relay.statuses.slice(statusesBefore).includes(401),
          "expected a 401 after the switch",
        );
        const metrics = await d.metrics();
        assert.equal(metricSum(metrics, "nthd_imds_request_errors_total"), 0, metrics);
      } finally {
        await d.stop();
      }
    });
  }

  test("scheduled event far ahead is only recorded (nthd/state=scheduled); its cancel removes the record", async () => {
    const s = await site("far");
    const notBefore = rfc3339(Date.now() + 2 * 3600_000);
    const args = ["-I", "events", "-o", "instance-stop", "-b", notBefore];
    const active = await emulator([...args, "-t", "active"]);
    const canceled = await emulator([...args, "-t", "canceled"]);
    const relay = await relayTo(active);
    const d = await startDaemon(s, relay);
    try {
      const node = await eventually("the scheduled record", async () => {
        const n = await core.readNode({ name: s.node });
        return n.metadata?.labels?.[STATE] === "scheduled" ? n : undefined;
      });
      const record = JSON.parse(node.metadata?.annotations?.[RECORD] ?? "{}");
      // Default lead: cordon and drain 600 s before NotBefore.
      assert.equal(Date.parse(record.drainAt), Date.parse(notBefore) - 600_000);
      assert.equal(record.notices?.length, 1);
      await morePolls(relay, SCHEDULED, 8);
      const later = await core.readNode({ name: s.node });
      assert.notEqual(later.spec?.unschedulable, true);
      assert.deepEqual(nthdTaints(later), []);
      assert.equal(later.metadata?.labels?.[STATE], "scheduled");
      assert.equal((await runningOnNode(s)).length, 2);
      const reasons = await eventually("the ScheduledEvent Event", async () => {
        const r = await nodeEventReasons(s);
        return r.includes("ScheduledEvent") ? r : undefined;
      });
      assert.ok(!reasons.includes("Cordon"), reasons.join(", "));

      relay.point(canceled.url);
      await eventually("the record removed", async () => {
        const n = await core.readNode({ name: s.node });
        return n.metadata?.labels?.[STATE] === undefined &&
          n.metadata?.annotations?.[RECORD] === undefined
          ? true
          : undefined;
      });
      await untouched(s);
    } finally {
      await d.stop();
    }
  });

  test("ASG target lifecycle state: InService does nothing, Terminated drains", async () => {
    const s = await site("asg");
    const inService = await emulator(["-I", "asglifecycle", "--asg-termination-delay-sec", "3600"]);
    const terminated = await emulator(["-I", "asglifecycle"]);
    const relay = await relayTo(inService);
    const d = await startDaemon(s, relay, { ENABLE_ASG_LIFECYCLE_DRAINING: "true" });
    try {
      await morePolls(relay, ASG, 6);
      await untouched(s);
      relay.point(terminated.url);
      await drained(s, `${TAINT_PREFIX}asg-lifecycle-termination`);
      const reasons = await eventually("the CordonAndDrain Event", async () => {
        const r = await nodeEventReasons(s);
        return r.includes("CordonAndDrain") ? r : undefined;
      });
      assert.ok(reasons.includes("ASGLifecycle"), reasons.join(", "));
    } finally {
      await d.stop();
    }
  });

  // Token renewal ahead of expiry is covered by imds-client.test.ts with an
  // injected clock; waiting out a real 60 s token here would double this file's time.
  test("404 steady state: nothing happens, nthd stays ready", async () => {
    const s = await site("quiet");
    const relay = await relayTo(await emulator(QUIET));
    const d = await startDaemon(s, relay, {
      ENABLE_REBALANCE_MONITORING: "true",
      ENABLE_ASG_LIFECYCLE_DRAINING: "true",
    });
    try {
      for (const path of [SPOT, REBALANCE, SCHEDULED, ASG]) await morePolls(relay, path, 5);
      // One session token serves every poll: IMDS never had to refuse a request.
      assert.equal(relay.count(TOKEN, "PUT"), 1);
      assert.ok(!relay.statuses.includes(401), `statuses: ${[...new Set(relay.statuses)]}`);
      assert.deepEqual([...new Set(relay.statuses)].sort(), [200, 404]);
      await untouched(s);
      const metrics = await d.metrics();
      assert.equal(metricSum(metrics, "nthd_imds_request_errors_total"), 0, metrics);
      assert.equal(metricSum(metrics, "events_error_total"), 0, metrics);
      assert.equal(metricSum(metrics, "nthd_notices_received_total"), 0, metrics);
      assert.ok(
        metricSum(metrics, "nthd_source_last_poll_timestamp_seconds", { source: "imds" }) > 0,
      );
      const ready = await fetch(`http://127.0.0.1:${d.port}/readyz`);
      assert.equal(ready.status, 200);
    } finally {
      await d.stop();
    }
  });

  test("IMDS hanging, then dropping connections: retried, logged, counted, no crash, no drain", async () => {
    const s = await site("hang");
    const quiet = await emulator(QUIET);
    const spot = await emulator(["-I", "spot", "-a", "terminate"]);
    const relay = await relayTo(quiet);
    const d = await startDaemon(s, relay);
    try {
      const sentBefore = relay.count(SPOT, "GET");
      relay.hang();
      const metrics = await eventually("a timeout counted", async () => {
        const m = await d.metrics();
        return metricSum(m, "nthd_imds_request_errors_total", {
          monitor: "spot-itn",
          reason: "timeout",
        }) > 0
          ? m
          : undefined;
      });
      // METADATA_TRIES (3) attempts were made before the poll was given up...
      assert.match(d.proc.output(), /\(GET \/latest\/meta-data\/spot\/instance-action, 3 tries\)/);
      // ...and they reached the wire. Waited for, not read at once: the relay
      // lives in this process and may read a hung connection's request after
      // the metrics answer has come back.
      await eventually("three hung spot polls seen by the relay", async () =>
        relay.count(SPOT, "GET") - sentBefore >= 3 ? true : undefined,
      );
      assert.ok(
        metricSum(metrics, "events_error_total", { event_error_where: "SPOT_ITN_MONITOR" }) > 0,
        metrics,
      );
      assert.match(d.proc.output(), /IMDS poll failed/);
      assert.match(d.proc.output(), /no answer from the instance metadata service at http:\/\/127/);

      relay.cut();
      await eventually("a dropped connection counted", async () => {
        const m = await d.metrics();
        return metricSum(m, "nthd_imds_request_errors_total", { reason: "connection" }) > 0
          ? true
          : undefined;
      });
      assert.equal(d.proc.child.exitCode, null, d.proc.output());
      await untouched(s);

      // Polling went on all along: an interruption served now is acted on.
      relay.point(spot.url);
      await drained(s, `${TAINT_PREFIX}spot-itn`);
      assert.match(d.proc.output(), /IMDS poll succeeds again/);
    } finally {
      await d.stop();
    }
  });

  test("killed (SIGKILL) mid-drain and restarted: resumes, drains once", async () => {
    const s = await site("kill");
    // A PodDisruptionBudget that refuses every eviction holds the drain open.
    await createPdb(s.namespace, "web", 2, {}, kc);
    // A fixed interruption time, as real IMDS serves it (the emulator restates it otherwise).
    const time = rfc3339(Date.now() + 180_000);
    const relay = await relayTo(await emulator(["-I", "spot", "-a", "terminate", "-t", time]));
    const first = await startDaemon(s, relay);
    await eventually("the drain running", async () => {
      const n = await core.readNode({ name: s.node });
      return n.metadata?.labels?.[STATE] === "draining" ? true : undefined;
    });
    await eventually("an eviction refused by the budget", async () =>
      metricSum(await first.metrics(), "nthd_eviction_pdb_blocked_total") > 0 ? true : undefined,
    );
    first.proc.child.kill("SIGKILL");
    await first.proc.exited();
    assert.equal((await runningOnNode(s)).length, 2);
    await policy.deleteNamespacedPodDisruptionBudget({ name: "web", namespace: s.namespace });

    const tokensBefore = relay.count(TOKEN, "PUT");
    const second = await startDaemon(s, relay);
    try {
      const node = await drained(s, `${TAINT_PREFIX}spot-itn`);
      // The restarted nthd sees the same interruption again; let it hand it over.
      await eventually("the restarted nthd polling", async () =>
        relay.count(TOKEN, "PUT") > tokensBefore ? true : undefined,
      );
      await morePolls(relay, SPOT, 8);
      assert.match(second.proc.output(), /resumed recorded work/);
      const record = JSON.parse(node.metadata?.annotations?.[RECORD] ?? "{}");
      assert.equal(record.notices?.length, 1, JSON.stringify(record));
      const metrics = await second.metrics();
      // Resumed work and a redelivered notice are not new interruptions.
      assert.equal(metricSum(metrics, "nthd_interruptions_total"), 0, metrics);
      const reasons = await nodeEventReasons(s);
      assert.equal(reasons.filter((r) => r === "CordonAndDrain").length, 1, reasons.join(", "));
      assert.equal(reasons.filter((r) => r === "Cordon").length, 1, reasons.join(", "));
      assert.equal(reasons.filter((r) => r === "SpotInterruption").length, 1, reasons.join(", "));
      const after = await core.readNode({ name: s.node });
      assert.equal(after.metadata?.labels?.[STATE], "drained");
    } finally {
      await second.stop();
    }
  });
});

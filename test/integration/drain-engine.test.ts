// The drain engine against the real test ground: kube-apiserver, the
// disruption controller computing PDB status, the scheduler and kwok nodes
// whose pods become Ready and are deleted after their grace period. Every
// test uses its own namespace and nodes, so tests share the ground safely.

import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import {
  AppsV1Api,
  CoreV1Api,
  PatchStrategy,
  PolicyV1Api,
  setHeaderOptions,
  type V1Pod,
  Watch,
} from "@kubernetes/client-node";
import { type Config, SETTINGS } from "../../src/config/index.ts";
import { createDrainEngine, type DrainEngine } from "../../src/drain/engine.ts";
import {
  LB_EXCLUDE_LABEL,
  RECORD_ANNOTATION,
  readRecord,
  STATE_LABEL,
} from "../../src/drain/record.ts";
import { createKubeClient } from "../../src/kube/client.ts";
import type { Notice, NoticeKind } from "../../src/notice.ts";
import { loadMetrics } from "../../src/observe/metrics.ts";
import { eventually } from "../env/eventually.ts";
import { createNode, ground, kubeConfig, randomInstanceId, waitNodeReady } from "../env/ground.ts";

const { drainsInProgress, registry } = await loadMetrics();

const kc = kubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const apps = kc.makeApiClient(AppsV1Api);
const policy = kc.makeApiClient(PolicyV1Api);
const run = Math.random().toString(36).slice(2, 7);
let seq = 0;
const unique = (what: string) => `drain-${what}-${run}-${++seq}`;

const cleanup: Array<() => Promise<unknown>> = [];
const engines: DrainEngine[] = [];
after(async () => {
  for (const engine of engines) await engine.close();
  for (const undo of cleanup.reverse()) await undo().catch(() => {});
});

function config(over: Partial<Config> = {}): Config {
  const defaults = Object.fromEntries(Object.entries(SETTINGS).map(([k, s]) => [k, s.default]));
  return { ...(defaults as Config), deadlineSafetyMarginSeconds: 2, ...over };
}

function engine(over: Partial<Config> = {}): DrainEngine {
  const cfg = config(over);
  const kube = createKubeClient({ kubeconfigPath: ground().kubeconfig, qps: 100, burst: 200 });
  const e = createDrainEngine({ kube, config: cfg });
  engines.push(e);
  return e;
}

function notice(over: Partial<Notice> & { kind?: NoticeKind } = {}): Notice {
  return {
    id: unique("notice"),
    kind: "spot-interruption",
    instanceId: randomInstanceId(),
    action: "drain",
    deadline: new Date(Date.now() + 60_000),
    receivedAt: new Date(),
    source: "queue",
    detail: {},
    ...over,
  };
}

/** A namespace and kwok nodes labelled for it; pods pin themselves with the label. */
async function setup(
  nodes: number,
): Promise<{ ns: string; nodes: string[]; label: Record<string, string> }> {
  const ns = unique("ns");
  await core.createNamespace({ body: { metadata: { name: ns } } });
  cleanup.push(() => core.deleteNamespace({ name: ns }));
  const label = { "nthd-drain-test": ns };
  const names: string[] = [];
  for (let i = 0; i < nodes; i++) names.push(await addNode(label));
  return { ns, nodes: names, label };
}

async function addNode(label: Record<string, string>): Promise<string> {
  const name = unique("node");
  await createNode({ name, instanceId: randomInstanceId(), labels: label }, kc);
  cleanup.push(() => core.deleteNode({ name }));
  await waitNodeReady(name, kc);
  return name;
}

async function deployment(
  ns: string,
  name: string,
  o: { replicas: number; nodeSelector: Record<string, string>; grace?: number; priority?: string },
): Promise<void> {
  const labels = { app: name };
  await apps.createNamespacedDeployment({
    namespace: ns,
    body: {
      metadata: { name },
      spec: {
        replicas: o.replicas,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            nodeSelector: o.nodeSelector,
            terminationGracePeriodSeconds: o.grace ?? 2,
            containers: [{ name: "app", image: "registry.invalid/app:1" }],
          },
        },
      },
    },
  });
}

async function pdb(
  ns: string,
  name: string,
  minAvailable: number,
  expectAllowed: number,
): Promise<void> {
  await policy.createNamespacedPodDisruptionBudget({
    namespace: ns,
    body: { metadata: { name }, spec: { minAvailable, selector: { matchLabels: { app: name } } } },
  });
  await eventually(`PDB ${name} allowing ${expectAllowed}`, async () => {
    const p = await policy.readNamespacedPodDisruptionBudget({ name, namespace: ns });
    return p.status?.observedGeneration === 1 && p.status.disruptionsAllowed === expectAllowed
      ? p
      : undefined;
  });
}

/** nthd's own count of evictions refused by a PodDisruptionBudget (this process's registry). */
async function pdbBlockedCount(kind: NoticeKind): Promise<number> {
  const metric = await registry.getSingleMetric("nthd_eviction_pdb_blocked_total")?.get();
  return (metric?.values ?? [])
    .filter((v) => v.labels.kind === kind)
    .reduce((sum, v) => sum + v.value, 0);
}

async function runningPods(ns: string, app?: string): Promise<V1Pod[]> {
  const list = await core.listNamespacedPod({
    namespace: ns,
    ...(app ? { labelSelector: `app=${app}` } : {}),
  });
  return list.items.filter((p) => p.status?.phase === "Running" && !p.metadata?.deletionTimestamp);
}

async function readyCount(ns: string, app: string, want: number): Promise<void> {
  await eventually(`${want} running pods of ${app}`, async () => {
    const pods = await runningPods(ns, app);
    return pods.length === want &&
      pods.every((p) =>
        p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
      )
      ? pods
      : undefined;
  });
}

/**
 * Watches a namespace's pods and keeps, over time, the lowest number of
 * healthy pods of an app (Ready and not being deleted: what the disruption
 * controller counts) and the grace period each deletion carried.
 */
async function observePods(ns: string) {
  const healthy = new Map<string, boolean>();
  const apps = new Map<string, string>();
  const grace = new Map<string, number>();
  const minHealthy = new Map<string, number>();
  const controller = await new Watch(kc).watch(
    `/api/v1/namespaces/${ns}/pods`,
    {},
    (type: string, pod: V1Pod) => {
      const name = pod.metadata?.name ?? "";
      const app = pod.metadata?.labels?.app ?? "";
      apps.set(name, app);
      if (pod.metadata?.deletionGracePeriodSeconds !== undefined) {
        grace.set(name, pod.metadata.deletionGracePeriodSeconds);
      }
      const ok =
        type !== "DELETED" &&
        !pod.metadata?.deletionTimestamp &&
        (pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false);
      healthy.set(name, ok);
      const count = [...healthy].filter(([n, h]) => h && apps.get(n) === app).length;
      if (armed) minHealthy.set(app, Math.min(minHealthy.get(app) ?? count, count));
    },
    () => {},
  );
  let armed = false;
  const healthyOf = (app: string) =>
    [...healthy].filter(([n, h]) => h && apps.get(n) === app).length;
  return {
    /** Starts recording minimums once the watch has seen `count` healthy pods of `app`. */
    async arm(app: string, count: number) {
      await eventually(`watch sees ${count} healthy ${app} pods`, async () =>
        healthyOf(app) === count ? true : undefined,
      );
      armed = true;
    },
    grace,
    minHealthy,
    stop: () => controller.abort(),
  };
}

async function nodeOf(name: string) {
  return core.readNode({ name });
}

describe("drain engine on the test ground", { concurrency: true, timeout: 240_000 }, () => {
  test("cordons, taints, labels and records in one step, drains, and tells Events", async () => {
    const { ns, nodes } = await setup(1);
    const node = nodes[0] as string;
    await deployment(ns, "web", { replicas: 2, nodeSelector: { "kubernetes.io/hostname": node } });
    await readyCount(ns, "web", 2);
    const e = engine({
      taintNode: true,
      excludeFromLoadBalancers: true,
      emitKubernetesEvents: true,
    });
    const n = notice({ detail: { lifecycleHookName: "hook-1", autoScalingGroupName: "asg-1" } });
    const { recorded, done } = e.handle(n, node);
    await recorded;
    const marked = await nodeOf(node);
    assert.equal(marked.spec?.unschedulable, true);
    const taint = marked.spec?.taints?.find(
      (t) => t.key === "aws-node-termination-handler/spot-itn",
    );
    assert.equal(taint?.effect, "NoSchedule");
    assert.equal(marked.metadata?.labels?.[LB_EXCLUDE_LABEL], "nthd");
    const record = readRecord(marked);
    assert.ok(record.ok && record.record, "record annotation present and valid");
    assert.equal(record.record.notices[0]?.id, n.id);
    assert.deepEqual(record.record.notices[0]?.detail, n.detail);
    assert.equal(record.record.cordoned, true);

    const report = await done;
    assert.equal(report.result, "drained", report.message);
    assert.equal(report.pods.filter((p) => p.outcome === "evicted").length, 2);
    assert.equal((await nodeOf(node)).metadata?.labels?.[STATE_LABEL], "drained");

    const reasons = await eventually("node Events", async () => {
      const list = await core.listNamespacedEvent({
        namespace: "default",
        fieldSelector: `involvedObject.kind=Node,involvedObject.name=${node}`,
      });
      const found = new Set(list.items.map((ev) => ev.reason));
      return ["SpotInterruption", "Cordon", "CordonAndDrain"].every((r) => found.has(r))
        ? found
        : undefined;
    });
    assert.ok(reasons.has("CordonAndDrain"));
    const podEvents = await core.listNamespacedEvent({
      namespace: ns,
      fieldSelector: "reason=PodEviction",
    });
    assert.ok(podEvents.items.every((ev) => ev.source?.component === "nthd"));
  });

  test("a cordon built on a stale cached copy of the node keeps a taint added since", async () => {
    const { nodes } = await setup(1);
    const node = nodes[0] as string;
    // The informer's copy, then a change it has not seen yet.
    const stale = await nodeOf(node);
    await core.patchNode(
      {
        name: node,
        body: { spec: { taints: [{ key: "example.com/other", effect: "NoSchedule" }] } },
      },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    const e = engine({ taintNode: true });
    let cacheReads = 0;
    e.useNodeCache({
      byName: (name) => {
        cacheReads++;
        return name === node ? stale : undefined;
      },
    });
    const { recorded } = e.handle(
      notice({ action: "cordon", kind: "rebalance-recommendation" }),
      node,
    );
    await recorded;
    assert.equal(cacheReads, 1, "the cordon looked at the cached copy");
    const marked = await nodeOf(node);
    assert.equal(marked.spec?.unschedulable, true);
    // The node controller may add node.kubernetes.io/unschedulable of its own.
    const keys = (marked.spec?.taints ?? []).map((t) => t.key);
    assert.ok(keys.includes("example.com/other"), `taint added since kept: ${keys}`);
    assert.ok(keys.includes("aws-node-termination-handler/rebalance-recommendation"), `${keys}`);
  });

  test("a PDB allowing one disruption: every pod evicted, never more than one at a time, 429s retried", async () => {
    const { ns, nodes, label } = await setup(1);
    const node = nodes[0] as string;
    await deployment(ns, "web", { replicas: 3, nodeSelector: label, grace: 2 });
    await readyCount(ns, "web", 3);
    // A budget that allows nothing yet: every eviction is refused (429)
    // until the test relaxes it, so the retry path runs every time.
    await pdb(ns, "web", 3, 0);
    // A DaemonSet pod on the node stays (ignore-daemon-sets=true).
    await apps.createNamespacedDaemonSet({
      namespace: ns,
      body: {
        metadata: { name: "agent" },
        spec: {
          selector: { matchLabels: { app: "agent" } },
          template: {
            metadata: { labels: { app: "agent" } },
            spec: {
              nodeSelector: { "kubernetes.io/hostname": node },
              containers: [{ name: "a", image: "registry.invalid/agent:1" }],
            },
          },
        },
      },
    });
    await readyCount(ns, "agent", 1);
    // Replacements need somewhere to go once the node is cordoned.
    await addNode(label);
    const watch = await observePods(ns);
    try {
      await watch.arm("web", 3);
      const e = engine();
      // A kind no other test here uses, so the refusal counter is this test's alone.
      const kind = "capacity-reservation-interruption";
      const blockedBefore = await pdbBlockedCount(kind);
      const running = e.handle(
        notice({ kind, deadline: new Date(Date.now() + 120_000) }),
        node,
      ).done;
      await eventually("nthd refused by the PDB", async () =>
        (await pdbBlockedCount(kind)) > blockedBefore ? true : undefined,
      );
      await policy.patchNamespacedPodDisruptionBudget(
        { name: "web", namespace: ns, body: { spec: { minAvailable: 2 } } },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      );
      const report = await running;
      assert.equal(report.result, "drained", report.message);
      const web = report.pods.filter((p) => p.pod.name.startsWith("web-"));
      const seen = JSON.stringify(report.pods);
      assert.equal(web.length, 3, seen);
      assert.ok(
        web.every((p) => p.outcome === "evicted" && p.pdb === `${ns}/web`),
        seen,
      );
      const refusals = web.reduce((sum, p) => sum + (p.refusals ?? 0), 0);
      assert.ok(refusals > 0, `later evictions were refused by the PDB and retried: ${seen}`);
      const agent = report.pods.find((p) => p.pod.name.startsWith("agent-"));
      assert.equal(agent?.outcome, "skipped");
      assert.match(agent?.reason ?? "", /ignore-daemon-sets/);
      // How many pods stayed healthy is the API server's guarantee (the
      // Eviction API and the disruption controller), not nthd's, and its
      // timing varies with load: the test checks nthd's part, above: it only
      // evicted through the Eviction API and retried the PDB's refusals.
      const left = await core.listNamespacedPod({
        namespace: ns,
        fieldSelector: `spec.nodeName=${node}`,
      });
      assert.deepEqual(
        left.items.map((p) => p.metadata?.labels?.app),
        ["agent"],
        seen,
      );
    } finally {
      watch.stop();
    }
  });

  test("grace periods are capped to the time left before the deadline", async () => {
    const { ns, nodes } = await setup(1);
    const node = nodes[0] as string;
    await deployment(ns, "slow", {
      replicas: 1,
      nodeSelector: { "kubernetes.io/hostname": node },
      grace: 600,
    });
    await readyCount(ns, "slow", 1);
    const watch = await observePods(ns);
    try {
      const e = engine({ deadlineSafetyMarginSeconds: 5 });
      const report = await e.handle(notice({ deadline: new Date(Date.now() + 25_000) }), node).done;
      const slow = report.pods.find((p) => p.pod.name.startsWith("slow-"));
      assert.ok(
        slow?.gracePeriodSeconds !== undefined && slow.gracePeriodSeconds <= 20,
        `grace ${slow?.gracePeriodSeconds}`,
      );
      // What the API server recorded from the eviction request itself.
      const carried = watch.grace.get(slow.pod.name);
      assert.ok(carried !== undefined && carried <= 20, `deletionGracePeriodSeconds ${carried}`);
    } finally {
      watch.stop();
    }
  });

  test("a PDB that never allows eviction blocks only its pods; the report names them", async () => {
    const { ns, nodes } = await setup(1);
    const node = nodes[0] as string;
    const here = { "kubernetes.io/hostname": node };
    await deployment(ns, "db", { replicas: 2, nodeSelector: here });
    await deployment(ns, "web", { replicas: 1, nodeSelector: here });
    await readyCount(ns, "db", 2);
    await readyCount(ns, "web", 1);
    await pdb(ns, "db", 2, 0);
    const e = engine();
    const report = await e.handle(notice({ deadline: new Date(Date.now() + 12_000) }), node).done;
    assert.equal(report.result, "deadline-exceeded");
    const blocked = report.pods.filter((p) => p.outcome === "blocked");
    assert.deepEqual(
      blocked.map((p) => p.pod.name.split("-")[0]),
      ["db", "db"],
    );
    for (const p of blocked) {
      assert.ok(report.message.includes(`${ns}/${p.pod.name}`), "each blocked pod named");
      assert.ok(report.message.includes(`${ns}/db`), "with its PDB");
    }
    assert.equal(report.pods.find((p) => p.pod.name.startsWith("web-"))?.outcome, "evicted");
    const after = await nodeOf(node);
    assert.equal(after.spec?.unschedulable, true, "node stays cordoned");
    assert.equal(after.metadata?.labels?.[STATE_LABEL], "incomplete");
  });

  test("a cancel notice stops the drain and undoes nthd's marks; an operator's cordon stays", async () => {
    const { ns, nodes } = await setup(2);
    const [node, opNode] = nodes as [string, string];
    await deployment(ns, "db", { replicas: 1, nodeSelector: { "kubernetes.io/hostname": node } });
    await readyCount(ns, "db", 1);
    await pdb(ns, "db", 1, 0);
    const e = engine({ taintNode: true });
    const kind: NoticeKind = "scheduled-maintenance";
    const drain = e.handle(
      notice({ kind, id: "maint-1", deadline: new Date(Date.now() + 600_000) }),
      node,
    );
    await drain.recorded;
    const cancel = e.handle(notice({ kind, id: "maint-1-cancel", action: "uncordon" }), node);
    assert.equal((await drain.done).result, "cancelled");
    assert.equal((await cancel.done).result, "uncordoned");
    const released = await nodeOf(node);
    assert.notEqual(released.spec?.unschedulable, true);
    assert.equal(
      released.spec?.taints?.some((t) => t.key.startsWith("aws-node-termination-handler/")) ??
        false,
      false,
    );
    assert.equal(released.metadata?.annotations?.[RECORD_ANNOTATION], undefined);
    assert.equal(released.metadata?.labels?.[STATE_LABEL], undefined);

    // Operator cordoned first: nthd records, then on cancel leaves the cordon.
    await core.patchNode(
      { name: opNode, body: { spec: { unschedulable: true } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    const cordonOnly = engine({ cordonOnly: true, taintNode: true });
    await cordonOnly.handle(notice({ kind, id: "maint-2" }), opNode).done;
    assert.equal(
      (
        await cordonOnly.handle(notice({ kind, id: "maint-2-cancel", action: "uncordon" }), opNode)
          .done
      ).result,
      "uncordoned",
    );
    const op = await nodeOf(opNode);
    assert.equal(op.spec?.unschedulable, true, "operator's cordon kept");
    assert.equal(op.metadata?.annotations?.[RECORD_ANNOTATION], undefined);
    // A cancel for a node nthd never marked changes nothing.
    assert.equal(
      (await cordonOnly.handle(notice({ kind, action: "uncordon" }), opNode).done).result,
      "ignored",
    );
  });

  test("dry run reads and plans but writes nothing", async () => {
    const { ns, nodes } = await setup(1);
    const node = nodes[0] as string;
    await deployment(ns, "web", { replicas: 2, nodeSelector: { "kubernetes.io/hostname": node } });
    await readyCount(ns, "web", 2);
    const before = await nodeOf(node);
    const e = engine({
      dryRun: true,
      taintNode: true,
      emitKubernetesEvents: true,
      excludeFromLoadBalancers: true,
    });
    const report = await e.handle(notice(), node).done;
    assert.equal(report.result, "dry-run");
    assert.equal(report.pods.filter((p) => p.outcome === "planned").length, 2);
    const afterNode = await nodeOf(node);
    assert.equal(afterNode.spec?.unschedulable, before.spec?.unschedulable);
    assert.deepEqual(afterNode.spec?.taints ?? [], before.spec?.taints ?? []);
    assert.deepEqual(afterNode.metadata?.labels, before.metadata?.labels);
    assert.deepEqual(afterNode.metadata?.annotations, before.metadata?.annotations);
    assert.equal((await runningPods(ns, "web")).length, 2);
    const evs = await core.listNamespacedEvent({
      namespace: "default",
      fieldSelector: `involvedObject.name=${node},source=nthd`,
    });
    assert.equal(evs.items.length, 0);
  });

  test("a restarted engine resumes the drain recorded on the node and finishes it", async () => {
    const { ns, nodes } = await setup(1);
    const node = nodes[0] as string;
    await deployment(ns, "db", { replicas: 1, nodeSelector: { "kubernetes.io/hostname": node } });
    await readyCount(ns, "db", 1);
    await pdb(ns, "db", 1, 0);
    const first = engine();
    const n = notice({
      kind: "asg-terminate",
      deadline: new Date(Date.now() + 120_000),
      detail: {
        lifecycleHookName: "hook",
        lifecycleActionToken: "token-1",
        autoScalingGroupName: "asg",
      },
    });
    const running = first.handle(n, node);
    await running.recorded;
    await first.close(); // the process goes away mid-drain
    assert.equal((await running.done).result, "cancelled");
    assert.equal((await nodeOf(node)).metadata?.labels?.[STATE_LABEL], "draining");

    await policy.deleteNamespacedPodDisruptionBudget({ name: "db", namespace: ns });
    const second = engine();
    const resumed = (await second.resume()).filter((r) => r.nodeName === node);
    assert.equal(resumed.length, 1);
    assert.equal(resumed[0]?.notice.id, n.id);
    assert.deepEqual(resumed[0]?.notice.detail, n.detail);
    assert.equal(resumed[0]?.notice.kind, "asg-terminate");
    const report = await (resumed[0]?.done as Promise<
      import("../../src/drain/report.ts").DrainReport
    >);
    assert.equal(report.result, "drained", report.message);
    assert.equal(report.resumed, true);
    assert.equal((await runningPods(ns, "db")).filter((p) => p.spec?.nodeName === node).length, 0);
  });

  test("notices for a node being drained join that drain", async () => {
    const { ns, nodes } = await setup(1);
    const node = nodes[0] as string;
    await deployment(ns, "web", { replicas: 1, nodeSelector: { "kubernetes.io/hostname": node } });
    await readyCount(ns, "web", 1);
    const e = engine();
    const a = notice({ id: unique("spot") });
    const b = notice({
      id: unique("asg"),
      kind: "asg-terminate",
      detail: { lifecycleActionToken: "t" },
    });
    const first = e.handle(a, node);
    const second = e.handle(b, node);
    const again = e.handle(a, node);
    await Promise.all([first.recorded, second.recorded, again.recorded]);
    const [r1, r2, r3] = await Promise.all([first.done, second.done, again.done]);
    assert.equal(r1, r2, "one drain");
    assert.equal(r1, r3);
    assert.equal(r1.result, "drained");
    assert.deepEqual(r1.joined, [b.id]);
    const record = readRecord(await nodeOf(node));
    assert.ok(record.ok && record.record);
    assert.deepEqual(
      record.record.notices.map((x) => x.id),
      [a.id, b.id],
    );
  });

  test("cordons are not held back when every drain slot is busy", async () => {
    const { ns, nodes } = await setup(2);
    // Two drains that cannot finish (a PDB allowing nothing) fill both slots.
    for (const [i, node] of nodes.entries()) {
      await deployment(ns, `db${i}`, {
        replicas: 1,
        nodeSelector: { "kubernetes.io/hostname": node },
      });
      await readyCount(ns, `db${i}`, 1);
      await pdb(ns, `db${i}`, 1, 0);
    }
    const more: string[] = [];
    for (let i = 0; i < 8; i++) more.push(await addNode({ "nthd-drain-test": `${ns}-more` }));
    const e = engine({ maxConcurrentDrains: 2 });
    const busy = nodes.map((node) =>
      e.handle(notice({ deadline: new Date(Date.now() + 600_000) }), node),
    );
    await Promise.all(busy.map((b) => b.recorded));
    const finished: string[] = [];
    const queued = more.map((node) => {
      const h = e.handle(notice({ deadline: new Date(Date.now() + 600_000) }), node);
      void h.done.then(() => finished.push(node));
      return h;
    });
    await Promise.all(queued.map((q) => q.recorded));
    for (const node of more) assert.equal((await nodeOf(node)).spec?.unschedulable, true);
    assert.deepEqual(finished, [], "their drains wait for a slot");
    assert.deepEqual(e.active().sort(), [...nodes, ...more].sort());
    await e.close();
    assert.equal((await queued[0]?.done)?.result, "cancelled");
  });
});

// Alone in its suite: the in-progress gauge then counts only this engine's drains.
describe("drain engine under a mass interruption", { timeout: 240_000 }, () => {
  test("200 nodes noticed at once: all cordoned, drains bounded by the configured concurrency", async () => {
    const label = { "nthd-drain-test": unique("mass") };
    const names = Array.from({ length: 200 }, () => unique("mass-node"));
    // Created in parallel batches; kwok marks them Ready on its own.
    for (let i = 0; i < names.length; i += 25) {
      await Promise.all(
        names.slice(i, i + 25).map(async (name) => {
          await createNode({ name, instanceId: randomInstanceId(), labels: label }, kc);
          cleanup.push(() => core.deleteNode({ name }));
        }),
      );
    }
    const limit = 20;
    const e = engine({ maxConcurrentDrains: limit });
    // Drains left running by earlier tests of this file can only end during
    // this one, so they add at most this baseline to the gauge.
    const baseline = (await drainsInProgress.get()).values[0]?.value ?? 0;
    let peak = 0;
    const sampler = setInterval(() => {
      void drainsInProgress.get().then((m) => {
        peak = Math.max(peak, m.values[0]?.value ?? 0);
      });
    }, 5);
    try {
      const handled = names.map((node) => e.handle(notice(), node));
      await Promise.all(handled.map((h) => h.recorded));
      const cordoned = await core.listNode({
        labelSelector: `nthd-drain-test=${label["nthd-drain-test"]}`,
      });
      assert.equal(cordoned.items.length, 200);
      assert.equal(cordoned.items.filter((n) => n.spec?.unschedulable === true).length, 200);
      const reports = await Promise.all(handled.map((h) => h.done));
      assert.ok(
        reports.every((r) => r.result === "drained"),
        reports.map((r) => r.message).join("; "),
      );
    } finally {
      clearInterval(sampler);
    }
    assert.ok(peak >= 1, "drains ran");
    assert.ok(
      peak <= limit + baseline,
      `at most ${limit} drains at once (+${baseline} from earlier tests), saw ${peak}`,
    );
  });
});

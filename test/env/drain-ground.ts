/**
 * The drain engine (src/drain/) running in the test process against the test
 * ground: kube-apiserver, the disruption controller computing PDB status, the
 * scheduler and kwok nodes whose pods become Ready and are deleted after their
 * grace period. What drain-engine-*.test.ts and drain-scheduled.test.ts share.
 * Every test uses its own namespace and nodes, so tests share the ground safely.
 */
import { after } from "node:test";
import {
  AppsV1Api,
  CoreV1Api,
  PolicyV1Api,
  type V1Node,
  type V1Pod,
  Watch,
} from "@kubernetes/client-node";
import type { Config } from "../../src/config/index.ts";
import { createDrainEngine, type DrainEngine } from "../../src/drain/engine.ts";
import { createKubeClient } from "../../src/kube/client.ts";
import type { NoticeKind } from "../../src/notice.ts";
import { loadMetrics } from "../../src/observe/metrics.ts";
import { testConfig } from "../support/config.ts";
import { eventually } from "../support/eventually.ts";
import { randomInstanceId, uniqueNames } from "../support/ids.ts";
import { type NoticeDefaults, noticeBuilder } from "../support/notices.ts";
import {
  createNode,
  createPdb,
  deployPinned,
  ground,
  kubeConfig,
  waitNodeReady,
} from "./ground.ts";

const { registry } = await loadMetrics();

export const kc = kubeConfig();
export const core = kc.makeApiClient(CoreV1Api);
export const apps = kc.makeApiClient(AppsV1Api);
export const policy = kc.makeApiClient(PolicyV1Api);

export interface DrainGround {
  /** A new name each call, `<prefix>-<what>-<run>-<n>`. */
  unique(what: string): string;
  /** Undone after the file's tests, last first. */
  cleanup(undo: () => Promise<unknown>): void;
  /** A drain engine on the ground with `base`, then `over`; closed after the file's tests. */
  engine(over?: Partial<Config>): DrainEngine;
  /** A namespace and `nodes` kwok nodes labelled for it; pods pin themselves with the label. */
  setup(nodes: number): Promise<{ ns: string; nodes: string[]; label: Record<string, string> }>;
  /** One more Ready kwok node carrying `label`. */
  addNode(label: Record<string, string>): Promise<string>;
  /**
   * A namespace and one node running `replicas` Ready pods of a Deployment
   * `app` pinned to it (evicted pods take `graceSeconds`, default 2, to go).
   */
  nodeRunning(
    app: string,
    replicas: number,
    opts?: { graceSeconds?: number },
  ): Promise<{ ns: string; node: string }>;
}

/**
 * The ground for one test file: names start with `prefix`, engines get the
 * settings' defaults, then `base` (this file's), then each engine's own.
 * Registers the file's clean-up.
 */
export function drainGround(prefix: string, base: Partial<Config> = {}): DrainGround {
  const unique = uniqueNames(prefix);
  const undos: Array<() => Promise<unknown>> = [];
  const engines: DrainEngine[] = [];
  after(async () => {
    for (const engine of engines) await engine.close();
    for (const undo of undos.reverse()) await undo().catch(() => {});
  });
  const addNode = async (label: Record<string, string>): Promise<string> => {
    const name = unique("node");
    await createNode({ name, instanceId: randomInstanceId(), labels: label }, kc);
    undos.push(() => core.deleteNode({ name }));
    await waitNodeReady(name, kc);
    return name;
  };
  const setup: DrainGround["setup"] = async (nodes) => {
    const ns = unique("ns");
    await core.createNamespace({ body: { metadata: { name: ns } } });
    undos.push(() => core.deleteNamespace({ name: ns }));
    const label = { "nthd-drain-test": ns };
    const names: string[] = [];
    for (let i = 0; i < nodes; i++) names.push(await addNode(label));
    return { ns, nodes: names, label };
  };
  return {
    unique,
    cleanup: (undo) => undos.push(undo),
    engine(over = {}) {
      const config = testConfig({ ...base, ...over });
      const kube = createKubeClient({ kubeconfigPath: ground().kubeconfig, qps: 100, burst: 200 });
      const e = createDrainEngine({ kube, config });
      engines.push(e);
      return e;
    },
    setup,
    addNode,
    async nodeRunning(app, replicas, opts = {}) {
      const { ns, nodes } = await setup(1);
      const node = nodes[0] as string;
      const nodeSelector = { "kubernetes.io/hostname": node };
      await deployPinned(ns, app, { replicas, nodeSelector, ...opts }, kc);
      await readyCount(ns, app, replicas);
      return { ns, node };
    },
  };
}

/**
 * Notices for the ground: a Spot interruption with a new id and instance id
 * each, received now with a minute to go, then `defaults`.
 */
export function groundNotices(g: Pick<DrainGround, "unique">, defaults: NoticeDefaults = {}) {
  return noticeBuilder(() => ({
    id: g.unique("notice"),
    instanceId: randomInstanceId(),
    deadline: new Date(Date.now() + 60_000),
    receivedAt: new Date(),
    ...(typeof defaults === "function" ? defaults() : defaults),
  }));
}

/** A PodDisruptionBudget over app=`name`, once the disruption controller allows `expectAllowed`. */
export async function pdb(
  ns: string,
  name: string,
  minAvailable: number,
  expectAllowed: number,
): Promise<void> {
  await createPdb(ns, name, minAvailable, { expectAllowed }, kc);
}

/** nthd's own count of evictions refused by a PodDisruptionBudget (this process's registry). */
export async function pdbBlockedCount(kind: NoticeKind): Promise<number> {
  const metric = await registry.getSingleMetric("nthd_eviction_pdb_blocked_total")?.get();
  return (metric?.values ?? [])
    .filter((v) => v.labels.kind === kind)
    .reduce((sum, v) => sum + v.value, 0);
}

export async function runningPods(ns: string, app?: string): Promise<V1Pod[]> {
  const list = await core.listNamespacedPod({
    namespace: ns,
    ...(app ? { labelSelector: `app=${app}` } : {}),
  });
  return list.items.filter((p) => p.status?.phase === "Running" && !p.metadata?.deletionTimestamp);
}

/** Waits until exactly `want` pods of `app` run and are Ready. */
export async function readyCount(ns: string, app: string, want: number): Promise<void> {
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

export function nodeOf(name: string): Promise<V1Node> {
  return core.readNode({ name });
}

/** The Kubernetes Event reasons on a node. */
export async function nodeEventReasons(node: string): Promise<Set<string>> {
  const list = await core.listNamespacedEvent({
    namespace: "default",
    fieldSelector: `involvedObject.kind=Node,involvedObject.name=${node}`,
  });
  return new Set(list.items.map((ev) => ev.reason ?? ""));
}

/**
 * Watches a namespace's pods and keeps, over time, the lowest number of
 * healthy pods of an app (Ready and not being deleted: what the disruption
 * controller counts) and the grace period each deletion carried.
 */
export async function observePods(ns: string) {
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

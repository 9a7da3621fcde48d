// The Kubernetes side of a scenario: kwok nodes that stand for EC2 instances,
// and workloads pinned to them with a nodeSelector on a label only the bench's
// nodes carry.
import {
  AppsV1Api,
  CoreV1Api,
  PolicyV1Api,
  type V1Deployment,
  type V1PodList,
  type V1PodTemplateSpec,
  type V1StatefulSet,
} from "@kubernetes/client-node";
import { adminGet } from "./apiserver-metrics.ts";
import type { BenchGround } from "./ground.ts";
import { mapLimit, pollUntil } from "./ground.ts";

/** Label on every node and pod a scenario creates; its value names the scenario run. */
export const POOL_LABEL = "nthd-bench/pool";
/** kwok deletes a terminating pod after this annotation's delay, capped at its grace period. */
const KWOK_DELETE_DELAY = "pod-delete.stage.kwok.x-k8s.io/delay";

export interface NodeToCreate {
  readonly name: string;
  readonly instanceId: string;
  readonly zone?: string;
  readonly maxPods?: number;
}

export async function createNodes(
  g: BenchGround,
  pool: string,
  nodes: readonly NodeToCreate[],
): Promise<void> {
  await mapLimit(nodes, 10, async (n) => {
    await g.helpers.createNode(
      {
        name: n.name,
        instanceId: n.instanceId,
        zone: n.zone ?? "us-east-1a",
        labels: { [POOL_LABEL]: pool },
        ...(n.maxPods !== undefined ? { maxPods: n.maxPods } : {}),
      },
      g.kc,
    );
  });
  const core = g.kc.makeApiClient(CoreV1Api);
  await pollUntil(
    `${nodes.length} nodes Ready`,
    async () => {
      const list = await core.listNode({ labelSelector: `${POOL_LABEL}=${pool}` });
      const ready = list.items.filter((n) =>
        n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
      );
      return ready.length >= nodes.length ? true : undefined;
    },
    120_000,
    500,
  );
}

export async function createNamespace(g: BenchGround, name: string): Promise<void> {
  await g.kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
}

/**
 * Deletes a namespace and waits (up to `timeoutMs`) until it is gone, so the
 * next handler's run does not share the machine with the garbage collection
 * of this one's 10,000 pods. Returns how long the wait took.
 */
export async function deleteNamespaceAndWait(
  g: BenchGround,
  name: string,
  timeoutMs = 300_000,
): Promise<number> {
  const started = Date.now();
  await g.kc
    .makeApiClient(CoreV1Api)
    .deleteNamespace({ name })
    .catch(() => undefined);
  await pollUntil(
    `namespace ${name} gone`,
    () =>
      adminGet(g, `/api/v1/namespaces/${name}`).then(
        () => undefined,
        (err: unknown) => ((err as Error).message.includes(": 404 ") ? true : undefined),
      ),
    timeoutMs,
    2000,
  );
  return Date.now() - started;
}

export async function deleteNodes(g: BenchGround, names: readonly string[]): Promise<void> {
  const core = g.kc.makeApiClient(CoreV1Api);
  await mapLimit(names, 10, (name) => core.deleteNode({ name }).catch(() => undefined));
}

export interface PodShape {
  readonly app: string;
  readonly pool: string;
  /** Pin to one node by name (kubernetes.io/hostname) instead of the whole pool. */
  readonly hostname?: string;
  readonly graceSeconds: number;
  /** Pods take their whole grace period to terminate (a slow shutdown). */
  readonly useFullGrace: boolean;
}

function podTemplate(s: PodShape): V1PodTemplateSpec {
  return {
    metadata: {
      labels: { app: s.app, [POOL_LABEL]: s.pool },
      annotations: s.useFullGrace ? { [KWOK_DELETE_DELAY]: "240h" } : {},
    },
    spec: {
      nodeSelector: s.hostname
        ? { "kubernetes.io/hostname": s.hostname }
        : { [POOL_LABEL]: s.pool },
      terminationGracePeriodSeconds: s.graceSeconds,
      containers: [{ name: "app", image: "registry.k8s.io/pause:3.10" }],
    },
  };
}

export async function createDeployment(
  g: BenchGround,
  namespace: string,
  shape: PodShape,
  replicas: number,
): Promise<void> {
  const body: V1Deployment = {
    metadata: { name: shape.app, labels: { app: shape.app } },
    spec: { replicas, selector: { matchLabels: { app: shape.app } }, template: podTemplate(shape) },
  };
  await g.kc.makeApiClient(AppsV1Api).createNamespacedDeployment({ namespace, body });
}

/** A StatefulSet recreates a pod only after the old one is gone, which serializes a PDB of 1. */
export async function createStatefulSet(
  g: BenchGround,
  namespace: string,
  shape: PodShape,
  replicas: number,
): Promise<void> {
  const body: V1StatefulSet = {
    metadata: { name: shape.app, labels: { app: shape.app } },
    spec: {
      replicas,
      serviceName: shape.app,
      podManagementPolicy: "Parallel",
      selector: { matchLabels: { app: shape.app } },
      template: podTemplate(shape),
    },
  };
  await g.kc.makeApiClient(AppsV1Api).createNamespacedStatefulSet({ namespace, body });
}

export async function createPdb(
  g: BenchGround,
  namespace: string,
  app: string,
  maxUnavailable: number | string,
): Promise<void> {
  await g.kc.makeApiClient(PolicyV1Api).createNamespacedPodDisruptionBudget({
    namespace,
    body: {
      metadata: { name: app },
      spec: { maxUnavailable, selector: { matchLabels: { app } } },
    },
  });
}

/** Waits until `count` pods of the namespace run Ready on a node; bounded by `timeoutMs`. */
export async function waitPodsReady(
  g: BenchGround,
  namespace: string,
  count: number,
  timeoutMs = 300_000,
): Promise<void> {
  let last = 0;
  await pollUntil(
    `${count} pods Ready in ${namespace}`,
    async () => {
      // From the watch cache: a quorum read of 10,000 pods every poll slowed the set-up itself.
      const list = JSON.parse(
        await adminGet(g, `/api/v1/namespaces/${namespace}/pods?resourceVersion=0`),
      ) as V1PodList;
      last = list.items.filter(
        (p) =>
          p.spec?.nodeName &&
          !p.metadata?.deletionTimestamp &&
          p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
      ).length;
      return last >= count ? true : undefined;
    },
    timeoutMs,
    5000,
  ).catch((err: unknown) => {
    throw new Error(`${(err as Error).message} (${last} Ready)`);
  });
}

/** Waits until every PDB of the namespace has observed its pods (disruptionsAllowed computed). */
export async function waitPdbsSettled(
  g: BenchGround,
  namespace: string,
  timeoutMs = 120_000,
): Promise<void> {
  const policy = g.kc.makeApiClient(PolicyV1Api);
  await pollUntil(
    `PDBs of ${namespace} settled`,
    async () => {
      const list = await policy.listNamespacedPodDisruptionBudget({ namespace });
      const settled = list.items.every(
        (p) =>
          p.status?.observedGeneration === p.metadata?.generation &&
          (p.status?.expectedPods ?? 0) > 0 &&
          p.status?.currentHealthy === p.status?.expectedPods,
      );
      return settled ? true : undefined;
    },
    timeoutMs,
    1000,
  );
}

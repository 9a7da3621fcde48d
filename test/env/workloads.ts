// Workloads on the ground's kwok nodes, shaped for drain audits: a
// Deployment, a StatefulSet or a bare pod pinned by a node label, optionally
// with a long grace period, an emptyDir or a hard spread over nodes; a PDB
// with maxUnavailable or minAvailable; and waits for the pods to run and the
// disruption controller to settle.
import {
  AppsV1Api,
  CoreV1Api,
  type KubeConfig,
  PolicyV1Api,
  type V1PodSpec,
  type V1PodTemplateSpec,
} from "@kubernetes/client-node";
import { eventually } from "../support/eventually.ts";

export interface Shape {
  readonly nodeSelector: Record<string, string>;
  readonly graceSeconds?: number;
  readonly emptyDir?: boolean;
  /** At most one pod more on any node than on another (hard kubernetes.io/hostname spread). */
  readonly spreadOverNodes?: boolean;
}

function podSpec(app: string, s: Shape): V1PodSpec {
  return {
    nodeSelector: s.nodeSelector,
    terminationGracePeriodSeconds: s.graceSeconds ?? 2,
    containers: [{ name: "app", image: `registry.invalid/${app}:1` }],
    ...(s.emptyDir ? { volumes: [{ name: "scratch", emptyDir: {} }] } : {}),
    ...(s.spreadOverNodes
      ? {
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: "kubernetes.io/hostname",
              whenUnsatisfiable: "DoNotSchedule",
              labelSelector: { matchLabels: { app } },
            },
          ],
        }
      : {}),
  };
}

const template = (app: string, s: Shape): V1PodTemplateSpec => ({
  metadata: { labels: { app } },
  spec: podSpec(app, s),
});

export async function createDeployment(
  kc: KubeConfig,
  namespace: string,
  app: string,
  replicas: number,
  s: Shape,
): Promise<void> {
  await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: app },
      spec: { replicas, selector: { matchLabels: { app } }, template: template(app, s) },
    },
  });
}

export async function createStatefulSet(
  kc: KubeConfig,
  namespace: string,
  app: string,
  replicas: number,
  s: Shape,
): Promise<void> {
  await kc.makeApiClient(AppsV1Api).createNamespacedStatefulSet({
    namespace,
    body: {
      metadata: { name: app },
      spec: {
        replicas,
        serviceName: app,
        podManagementPolicy: "Parallel",
        selector: { matchLabels: { app } },
        template: template(app, s),
      },
    },
  });
}

/** A pod no controller owns. */
export async function createBarePod(
  kc: KubeConfig,
  namespace: string,
  name: string,
  s: Shape,
): Promise<void> {
  await kc.makeApiClient(CoreV1Api).createNamespacedPod({
    namespace,
    body: { metadata: { name, labels: { app: name } }, spec: podSpec(name, s) },
  });
}

/** A PDB over `app` with either rule (ground.ts's createPdb takes minAvailable only). */
export async function createBudget(
  kc: KubeConfig,
  namespace: string,
  app: string,
  spec: { maxUnavailable: number | string } | { minAvailable: number | string },
): Promise<void> {
  await kc.makeApiClient(PolicyV1Api).createNamespacedPodDisruptionBudget({
    namespace,
    body: { metadata: { name: app }, spec: { ...spec, selector: { matchLabels: { app } } } },
  });
}

/** Waits until `count` pods of the namespace run Ready on a node. */
export async function waitPodsReady(
  kc: KubeConfig,
  namespace: string,
  count: number,
  timeoutMs = 90_000,
): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  await eventually(
    `${count} pods Ready in ${namespace}`,
    async () => {
      const pods = await core.listNamespacedPod({ namespace });
      const ready = pods.items.filter(
        (p) =>
          p.spec?.nodeName &&
          p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
      );
      return ready.length >= count ? true : undefined;
    },
    timeoutMs,
  );
}

/** Waits until every PDB of the namespace has counted its pods (status matches the spec's generation). */
export async function waitPdbsSettled(
  kc: KubeConfig,
  namespace: string,
  timeoutMs = 60_000,
): Promise<void> {
  const policy = kc.makeApiClient(PolicyV1Api);
  await eventually(
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
  );
}

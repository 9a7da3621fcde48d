/**
 * Builders for the drain audit's unit tests and its cost bench: pods, PDBs and
 * nodes shaped as the API server returns them (owner references, template
 * hash, Ready condition, timestamps as strings), and a synthetic cluster of
 * any size with realistic pod objects.
 */
import type { V1Node, V1Pod, V1PodDisruptionBudget } from "@kubernetes/client-node";

export interface PodSpec {
  readonly ns?: string;
  readonly node?: string;
  readonly app?: string;
  /** "Deployment" (through a ReplicaSet), "StatefulSet", "DaemonSet", "Job" or null for a bare pod. */
  readonly owner?: "Deployment" | "StatefulSet" | "DaemonSet" | "Job" | null;
  readonly grace?: number;
  readonly priority?: number;
  readonly emptyDir?: boolean;
  readonly startupSeconds?: number;
  readonly phase?: string;
  /** Pad the object to about this many bytes of JSON, as real pods are (env, probes, status). */
  readonly padBytes?: number;
}

const CREATED = "2026-01-01T00:00:00Z";

export function pod(name: string, s: PodSpec = {}): V1Pod {
  const app = s.app ?? "app";
  const owner = s.owner === undefined ? "Deployment" : s.owner;
  const hash = "5d8f7c9b6";
  const ownerRef =
    owner === null
      ? undefined
      : owner === "Deployment"
        ? { kind: "ReplicaSet", name: `${app}-${hash}` }
        : { kind: owner, name: app };
  const readyAt = new Date(Date.parse(CREATED) + (s.startupSeconds ?? 2) * 1000).toISOString();
  return {
    metadata: {
      name,
      namespace: s.ns ?? "shop",
      uid: `uid-${name}`,
      creationTimestamp: CREATED as unknown as Date,
      labels: { app, ...(owner === "Deployment" ? { "pod-template-hash": hash } : {}) },
      ...(ownerRef
        ? {
            ownerReferences: [
              { apiVersion: "apps/v1", ...ownerRef, uid: `uid-${ownerRef.name}`, controller: true },
            ],
          }
        : {}),
      ...(s.padBytes ? { annotations: { padding: "x".repeat(s.padBytes) } } : {}),
    },
    spec: {
      nodeName: s.node ?? "n1",
      containers: [{ name: "main", image: "registry.invalid/app:1" }],
      ...(s.grace !== undefined ? { terminationGracePeriodSeconds: s.grace } : {}),
      ...(s.priority !== undefined ? { priority: s.priority } : {}),
      ...(s.emptyDir ? { volumes: [{ name: "scratch", emptyDir: {} }] } : {}),
    },
    status: {
      phase: s.phase ?? "Running",
      conditions: [
        { type: "Ready", status: "True", lastTransitionTime: readyAt as unknown as Date },
      ],
    },
  };
}

export function pdb(
  name: string,
  app: string,
  o: {
    allowed: number;
    ns?: string;
    maxUnavailable?: number | string;
    minAvailable?: number | string;
    healthy?: number;
    expected?: number;
  },
): V1PodDisruptionBudget {
  return {
    metadata: { name, namespace: o.ns ?? "shop" },
    spec: {
      selector: { matchLabels: { app } },
      ...(o.minAvailable !== undefined
        ? { minAvailable: o.minAvailable }
        : { maxUnavailable: o.maxUnavailable ?? 1 }),
    },
    status: {
      disruptionsAllowed: o.allowed,
      currentHealthy: o.healthy ?? 3,
      desiredHealthy: Math.max(0, (o.healthy ?? 3) - o.allowed),
      expectedPods: o.expected ?? 3,
    },
  };
}

export function node(
  name: string,
  o: { zone?: string; capacity?: "spot" | "on-demand" } = {},
): V1Node {
  return {
    metadata: {
      name,
      labels: {
        "kubernetes.io/hostname": name,
        "topology.kubernetes.io/zone": o.zone ?? "us-east-1a",
        "node.kubernetes.io/instance-type": "m5.large",
        "karpenter.sh/capacity-type": o.capacity ?? "spot",
      },
    },
  };
}

/**
 * A cluster of `nodes` nodes in three zones with `podsPerNode` pods each, in
 * Deployments of `replicas` pods spread round-robin over the nodes, each with
 * a PDB allowing a fifth of its pods to be disrupted; one pod in 20 has a
 * 300 s grace period and one PDB in 10 allows nothing, so the audit has
 * findings to build. Pods are made on demand (`podAt`), padded to about
 * `podBytes` of JSON, so a caller need not hold them all.
 */
export function syntheticCluster(o: {
  nodes: number;
  podsPerNode: number;
  replicas: number;
  podBytes?: number;
}): {
  nodes: V1Node[];
  pdbs: V1PodDisruptionBudget[];
  podCount: number;
  podAt: (i: number) => V1Pod;
} {
  const zones = ["us-east-1a", "us-east-1b", "us-east-1c"];
  const nodes = Array.from({ length: o.nodes }, (_, i) =>
    node(`ip-10-0-${i >> 8}-${i & 255}.ec2.internal`, { zone: zones[i % zones.length] }),
  );
  const podCount = o.nodes * o.podsPerNode;
  const podAt = (i: number): V1Pod => {
    const d = Math.floor(i / o.replicas);
    return pod(`app-${d}-${i}`, {
      ns: `ns-${d % 50}`,
      app: `app-${d}`,
      node: nodes[i % o.nodes]?.metadata?.name as string,
      grace: i % 20 === 0 ? 300 : 30,
      ...(o.podBytes ? { padBytes: o.podBytes } : {}),
    });
  };
  const deployments = Math.ceil(podCount / o.replicas);
  const pdbs = Array.from({ length: deployments }, (_, d) =>
    pdb(`app-${d}`, `app-${d}`, {
      ns: `ns-${d % 50}`,
      allowed: d % 10 === 0 ? 0 : Math.max(1, Math.floor(o.replicas / 5)),
      maxUnavailable: d % 10 === 0 ? 0 : "20%",
      healthy: o.replicas,
      expected: o.replicas,
    }),
  );
  return { nodes, pdbs, podCount, podAt };
}

/**
 * What the drain audit keeps of the cluster, built one listed object at a
 * time so a page of the list can be dropped as soon as it is read. Pods are
 * cut down to the fields the planner and the audit read (a pod's JSON is
 * several kilobytes, this is a few hundred bytes), and only the audited
 * nodes' pods are kept; every other pod only counts towards its workload's
 * replicas, which is what "a Deployment loses every replica" needs. Pure.
 */
import type {
  V1Node,
  V1Pod,
  V1PodDisruptionBudget,
  V1PodDisruptionBudgetStatus,
} from "@kubernetes/client-node";
import { controllerOf, MIRROR_ANNOTATION } from "./filters.ts";
import { startupSecondsOf, type Workload, workloadKey, workloadOf } from "./workload.ts";

export interface AuditNode {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface WorkloadStats {
  readonly workload: Workload;
  /** Replicas running anywhere in the cluster (bound, not finished, not being deleted). */
  running: number;
  /** Those running on audited nodes, by node. */
  readonly onNodes: Map<string, number>;
  /** Creation-to-Ready seconds of its pods, where known. */
  readonly startups: number[];
}

export interface AuditSnapshot {
  readonly nodes: readonly AuditNode[];
  /** The audited nodes' pods, slimmed. */
  readonly podsByNode: ReadonlyMap<string, readonly V1Pod[]>;
  readonly pdbs: readonly V1PodDisruptionBudget[];
  readonly workloads: ReadonlyMap<string, WorkloadStats>;
  /** Every pod listed, audited nodes or not. */
  readonly podsListed: number;
}

export interface SnapshotBuilder {
  addPod(pod: V1Pod): void;
  addPdb(pdb: V1PodDisruptionBudget): void;
  build(): AuditSnapshot;
}

export function slimNode(node: V1Node): AuditNode {
  return { name: node.metadata?.name ?? "", labels: node.metadata?.labels ?? {} };
}

export function createSnapshotBuilder(nodes: readonly AuditNode[]): SnapshotBuilder {
  const podsByNode = new Map<string, V1Pod[]>(nodes.map((n) => [n.name, []]));
  const pdbs: V1PodDisruptionBudget[] = [];
  const workloads = new Map<string, WorkloadStats>();
  let podsListed = 0;
  return {
    addPod(pod) {
      podsListed++;
      const node = pod.spec?.nodeName;
      if (!node) return;
      const onAudited = podsByNode.get(node);
      if (onAudited) onAudited.push(slimPod(pod));
      if (!isRunning(pod)) return;
      const workload = workloadOf(pod);
      const key = workloadKey(workload);
      let stats = workloads.get(key);
      if (stats === undefined) {
        stats = { workload, running: 0, onNodes: new Map(), startups: [] };
        workloads.set(key, stats);
      }
      stats.running++;
      if (onAudited) stats.onNodes.set(node, (stats.onNodes.get(node) ?? 0) + 1);
      const startup = startupSecondsOf(pod);
      if (startup !== undefined) stats.startups.push(startup);
    },
    addPdb(pdb) {
      pdbs.push(slimPdb(pdb));
    },
    build: () => ({ nodes, podsByNode, pdbs, workloads, podsListed }),
  };
}

function isRunning(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  return !pod.metadata?.deletionTimestamp && phase !== "Succeeded" && phase !== "Failed";
}

/** The fields the planner's filters, the PDB selector and the audit read; nothing else. */
export function slimPod(pod: V1Pod): V1Pod {
  const m = pod.metadata ?? {};
  const owner = controllerOf(pod);
  const mirror = m.annotations?.[MIRROR_ANNOTATION];
  const emptyDirs = (pod.spec?.volumes ?? [])
    .filter((v) => v.emptyDir !== undefined && v.emptyDir !== null)
    .map((v) => ({ name: v.name, emptyDir: {} }));
  return {
    metadata: {
      name: m.name ?? "",
      namespace: m.namespace ?? "",
      ...(m.uid ? { uid: m.uid } : {}),
      labels: m.labels ?? {},
      ...(mirror !== undefined ? { annotations: { [MIRROR_ANNOTATION]: mirror } } : {}),
      ...(owner
        ? {
            ownerReferences: [
              { apiVersion: "", kind: owner.kind, name: owner.name, uid: "", controller: true },
            ],
          }
        : {}),
      ...(m.deletionTimestamp ? { deletionTimestamp: m.deletionTimestamp } : {}),
    },
    spec: {
      containers: [],
      nodeName: pod.spec?.nodeName ?? "",
      ...(pod.spec?.priority !== undefined ? { priority: pod.spec.priority } : {}),
      ...(pod.spec?.terminationGracePeriodSeconds !== undefined
        ? { terminationGracePeriodSeconds: pod.spec.terminationGracePeriodSeconds }
        : {}),
      ...(emptyDirs.length > 0 ? { volumes: emptyDirs } : {}),
    },
    status: { phase: pod.status?.phase ?? "Unknown" },
  };
}

export function slimPdb(pdb: V1PodDisruptionBudget): V1PodDisruptionBudget {
  const s: Partial<V1PodDisruptionBudgetStatus> = pdb.status ?? {};
  return {
    metadata: { name: pdb.metadata?.name ?? "", namespace: pdb.metadata?.namespace ?? "" },
    spec: {
      ...(pdb.spec?.selector ? { selector: pdb.spec.selector } : {}),
      ...(pdb.spec?.maxUnavailable !== undefined
        ? { maxUnavailable: pdb.spec.maxUnavailable }
        : {}),
      ...(pdb.spec?.minAvailable !== undefined ? { minAvailable: pdb.spec.minAvailable } : {}),
    },
    status: {
      disruptionsAllowed: s.disruptionsAllowed ?? 0,
      currentHealthy: s.currentHealthy ?? 0,
      desiredHealthy: s.desiredHealthy ?? 0,
      expectedPods: s.expectedPods ?? 0,
    },
  };
}

export function pdbKeyOf(pdb: V1PodDisruptionBudget): string {
  return `${pdb.metadata?.namespace ?? ""}/${pdb.metadata?.name ?? ""}`;
}

/**
 * A replacement is never counted Ready sooner than this: scheduling it and the
 * disruption controller's update of the PDB's status take about that long.
 */
const MIN_STARTUP_SECONDS = 1;

/** Median creation-to-Ready of a workload's pods, or the fallback when none is known. */
export function startupOf(stats: WorkloadStats | undefined, fallbackSeconds: number): number {
  const xs = stats?.startups;
  if (!xs || xs.length === 0) return fallbackSeconds;
  const sorted = [...xs].sort((a, b) => a - b);
  return Math.max(MIN_STARTUP_SECONDS, sorted[Math.floor(sorted.length / 2)] as number);
}

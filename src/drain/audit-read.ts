/**
 * Reads what the drain audit needs from the cluster, read-only and a page at
 * a time: the audited nodes (a label selector, or queue mode's informer
 * copies), every pod (slimmed as it arrives, see audit-snapshot.ts) and the
 * PodDisruptionBudgets. Requests: one list per page of nodes, pods and PDBs
 * (500 objects a page unless told), through the client's rate limiter like
 * any drain traffic.
 */
import type { V1Node, V1Pod, V1PodDisruptionBudget } from "@kubernetes/client-node";
import type { KubeClient } from "../kube/client.ts";
import { type ListProgress, listPaged } from "../kube/paged-list.ts";
import type { Lane } from "../kube/rate-limit.ts";
import {
  type AuditNode,
  type AuditSnapshot,
  createSnapshotBuilder,
  slimNode,
} from "./audit-snapshot.ts";

export interface ReadOptions {
  /** The audited nodes; read with `nodeSelector` when not given. */
  readonly nodes?: readonly AuditNode[];
  readonly nodeSelector?: string;
  readonly lane?: Lane;
  /** Objects per page (default 500, client-go's); smaller pages lower the peak of garbage to collect. */
  readonly pageSize?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: ListProgress) => void;
}

export async function readAuditSnapshot(
  kube: Pick<KubeClient, "listPage">,
  o: ReadOptions = {},
): Promise<AuditSnapshot> {
  const common = {
    ...(o.lane ? { lane: o.lane } : {}),
    ...(o.pageSize ? { limit: o.pageSize } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  };
  let nodes = o.nodes;
  if (nodes === undefined) {
    const read: AuditNode[] = [];
    await listPaged<V1Node>(kube, "nodes", (items) => void read.push(...items.map(slimNode)), {
      ...common,
      ...(o.nodeSelector ? { labelSelector: o.nodeSelector } : {}),
      onRestart: () => {
        read.length = 0;
      },
    });
    nodes = read.sort((a, b) => a.name.localeCompare(b.name));
  }
  const audited = nodes;
  let builder = createSnapshotBuilder(audited);
  await listPaged<V1Pod>(
    kube,
    "pods",
    (items) => {
      for (const pod of items) builder.addPod(pod);
    },
    {
      ...common,
      onRestart: () => {
        builder = createSnapshotBuilder(audited);
      },
    },
  );
  const pdbs: V1PodDisruptionBudget[] = [];
  await listPaged<V1PodDisruptionBudget>(
    kube,
    "poddisruptionbudgets",
    (items) => {
      pdbs.push(...items);
    },
    {
      ...common,
      onRestart: () => {
        pdbs.length = 0;
      },
    },
  );
  for (const pdb of pdbs) builder.addPdb(pdb);
  return builder.build();
}

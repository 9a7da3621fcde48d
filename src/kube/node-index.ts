/**
 * Queue mode's view of the cluster's nodes: a Node informer (one list, then a
 * watch) kept as an index instanceId -> node, built from spec.providerID
 * (`aws:///<az>/<instance-id>`). Looking up the node of an instance is then a
 * map read instead of a list of every node per message.
 */
import { type Informer, makeInformer, type V1Node } from "@kubernetes/client-node";
import type { KubeClient } from "./client.ts";

/** `aws:///us-east-1a/i-0123456789abcdef0` -> `i-0123456789abcdef0`; undefined when not an EC2 id. */
export function instanceIdFromProviderId(providerId: string | undefined): string | undefined {
  if (!providerId?.startsWith("aws://")) return undefined;
  const last = providerId.slice("aws://".length).split("/").pop() ?? "";
  return /^i-[0-9a-f]+$/.test(last) ? last : undefined;
}

export interface NodeIndex {
  /** Lists the nodes and starts watching; resolves once the first list is indexed. */
  start(): Promise<void>;
  stop(): Promise<void>;
  byInstanceId(instanceId: string): V1Node | undefined;
  byName(name: string): V1Node | undefined;
  /** Every indexed node (a snapshot). */
  nodes(): V1Node[];
  /** Whether the first list has been indexed and the watch is healthy. */
  readonly synced: boolean;
}

export function createNodeIndex(
  kube: KubeClient,
  opts: { onError?: (err: unknown) => void; restartDelayMs?: number } = {},
): NodeIndex {
  const byName = new Map<string, V1Node>();
  const byInstance = new Map<string, string>();
  let synced = false;
  let stopped = false;
  let restartTimer: NodeJS.Timeout | undefined;

  const informer: Informer<V1Node> = makeInformer(kube.kubeConfig, "/api/v1/nodes", async () => {
    // Rate limited like every other call; the watch resumes from this resourceVersion.
    const { nodes, resourceVersion } = await kube.listNodes();
    return { apiVersion: "v1", kind: "NodeList", items: nodes, metadata: { resourceVersion } };
  });

  function put(node: V1Node): void {
    const name = node.metadata?.name;
    if (!name) return;
    const previous = byName.get(name);
    const oldId = instanceIdFromProviderId(previous?.spec?.providerID);
    if (oldId !== undefined && byInstance.get(oldId) === name) byInstance.delete(oldId);
    byName.set(name, node);
    const id = instanceIdFromProviderId(node.spec?.providerID);
    if (id !== undefined) byInstance.set(id, name);
  }

  function remove(node: V1Node): void {
    const name = node.metadata?.name;
    if (!name) return;
    byName.delete(name);
    const id = instanceIdFromProviderId(node.spec?.providerID);
    if (id !== undefined && byInstance.get(id) === name) byInstance.delete(id);
  }

  informer.on("add", put);
  informer.on("update", put);
  informer.on("delete", remove);
  informer.on("error", (err) => {
    synced = false;
    opts.onError?.(err);
    // client-node's informer stops on error; restart it after a pause.
    if (!stopped && restartTimer === undefined) {
      restartTimer = setTimeout(() => {
        restartTimer = undefined;
        if (!stopped)
          informer.start().then(
            () => {
              synced = true;
            },
            (e: unknown) => opts.onError?.(e),
          );
      }, opts.restartDelayMs ?? 2000);
    }
  });
  informer.on("connect", () => {
    synced = true;
  });

  return {
    get synced() {
      return synced;
    },
    async start() {
      stopped = false;
      await informer.start();
      synced = true;
    },
    async stop() {
      stopped = true;
      if (restartTimer) clearTimeout(restartTimer);
      await informer.stop();
    },
    byInstanceId(instanceId) {
      const name = byInstance.get(instanceId);
      return name === undefined ? undefined : byName.get(name);
    },
    byName(name) {
      return byName.get(name);
    },
    nodes() {
      return [...byName.values()];
    },
  };
}

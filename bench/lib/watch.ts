// Observes what the handler does, from the outside: when each node became
// unschedulable, when each pod's eviction was accepted (deletionTimestamp
// appeared) and when it was gone. Times are local Date.now() at the watch
// event, so they include the (loopback) watch delivery delay.
import type { KubeConfig, V1Node, V1Pod, V1PodList } from "@kubernetes/client-node";
import { CoreV1Api, Watch } from "@kubernetes/client-node";
import { adminGet } from "./apiserver-metrics.ts";
import type { BenchGround } from "./ground.ts";

interface WatchHandle {
  stop(): void;
}

/**
 * A watch that resumes from the last resourceVersion when the server closes
 * it; at most `maxRestarts` restarts so a broken watch cannot loop forever.
 */
async function resilientWatch(
  kc: KubeConfig,
  path: string,
  query: Record<string, string>,
  resourceVersion: string,
  onEvent: (type: string, obj: unknown) => void,
  maxRestarts = 50,
): Promise<WatchHandle> {
  let rv = resourceVersion;
  let stopped = false;
  let restarts = 0;
  let current: AbortController | undefined;
  const start = async (): Promise<void> => {
    current = await new Watch(kc).watch(
      path,
      { ...query, resourceVersion: rv, allowWatchBookmarks: true, timeoutSeconds: 1800 },
      (type, obj: { metadata?: { resourceVersion?: string } }) => {
        if (obj?.metadata?.resourceVersion) rv = obj.metadata.resourceVersion;
        if (type !== "BOOKMARK") onEvent(type, obj);
      },
      (err: unknown) => {
        if (stopped) return;
        if (restarts++ >= maxRestarts) {
          process.stderr.write(`[bench] watch ${path} gave up: ${String(err)}\n`);
          return;
        }
        setTimeout(() => void start().catch(() => undefined), 200);
      },
    );
  };
  await start();
  return {
    stop: () => {
      stopped = true;
      current?.abort();
    },
  };
}

export interface CordonWatch {
  /** Node name → Date.now() when spec.unschedulable was first seen true. */
  readonly cordonedAt: Map<string, number>;
  stop(): void;
}

export async function watchCordons(kc: KubeConfig, labelSelector: string): Promise<CordonWatch> {
  const core = kc.makeApiClient(CoreV1Api);
  const list = await core.listNode({ labelSelector });
  const cordonedAt = new Map<string, number>();
  const see = (node: V1Node) => {
    const name = node.metadata?.name;
    if (name && node.spec?.unschedulable && !cordonedAt.has(name)) cordonedAt.set(name, Date.now());
  };
  for (const n of list.items) see(n);
  const handle = await resilientWatch(
    kc,
    "/api/v1/nodes",
    { labelSelector },
    list.metadata?.resourceVersion ?? "",
    (type, obj) => {
      if (type === "ADDED" || type === "MODIFIED") see(obj as V1Node);
    },
  );
  return { cordonedAt, stop: handle.stop };
}

export interface PodFate {
  readonly name: string;
  readonly nodeName: string;
  /** Date.now() when the pod's deletionTimestamp was first seen (eviction accepted). */
  evictedAt?: number;
  /** Date.now() when the pod was deleted from the API. */
  goneAt?: number;
}

export interface PodWatch {
  /** Pod uid → fate, for the pods that were on the watched nodes when the watch began. */
  readonly pods: Map<string, PodFate>;
  stop(): void;
}

/** Tracks the pods of `namespace` bound to one of `nodeNames` at the start. */
export async function watchPods(
  g: BenchGround,
  namespace: string,
  nodeNames: ReadonlySet<string>,
): Promise<PodWatch> {
  const kc = g.kc;
  // Plain HTTPS: the generated client needs minutes for a 10,000-pod list (see adminGet).
  const list = JSON.parse(await adminGet(g, `/api/v1/namespaces/${namespace}/pods`)) as V1PodList;
  const pods = new Map<string, PodFate>();
  for (const p of list.items) {
    const uid = p.metadata?.uid;
    const node = p.spec?.nodeName;
    if (uid && node && nodeNames.has(node)) {
      pods.set(uid, { name: p.metadata?.name ?? "", nodeName: node });
    }
  }
  const handle = await resilientWatch(
    kc,
    `/api/v1/namespaces/${namespace}/pods`,
    {},
    list.metadata?.resourceVersion ?? "",
    (type, obj) => {
      const pod = obj as V1Pod;
      const fate = pods.get(pod.metadata?.uid ?? "");
      if (fate === undefined) return;
      const now = Date.now();
      if (pod.metadata?.deletionTimestamp && fate.evictedAt === undefined) fate.evictedAt = now;
      if (type === "DELETED") {
        fate.evictedAt ??= now;
        fate.goneAt ??= now;
      }
    },
  );
  return { pods, stop: handle.stop };
}

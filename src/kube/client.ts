/**
 * nthd's Kubernetes client: the dozen calls the daemon makes, as plain HTTP
 * to the API server (http.ts) instead of a generated client that loads every
 * API group at start-up. Every call goes through the client-side rate
 * limiter, is bounded by a request timeout and fails with an NthdError (code
 * KUBE_API / KUBE_NODE_NOT_FOUND, or CONFIG_INVALID when the connection
 * settings are wrong) whose context says what kind of failure it was (see
 * api-error.ts). Model types come from @kubernetes/client-node as types only.
 *
 * Nodes and pods are slimmed as they arrive (slim.ts): every node and pod
 * this client returns or passes to a watch callback holds only the fields
 * nthd reads, so they are for reading and for merge patches, never for PUT.
 * Node lists come in pages, so listing a large cluster never holds its whole
 * answer at once.
 */
import type {
  CoreV1Event,
  V1Node,
  V1NodeList,
  V1Pod,
  V1PodDisruptionBudget,
  V1PodDisruptionBudgetList,
  V1PodList,
} from "@kubernetes/client-node";
import { NthdError } from "../errors.ts";
import { kubeError } from "./api-error.ts";
import { loadConnection } from "./connection.ts";
import { createTransport, type KubeRequest, type Transport } from "./http.ts";
import { createRateLimiter, type Lane, type RateLimiter } from "./rate-limit.ts";
import { slimNode, slimPdb, slimPod } from "./slim.ts";
import { consumeWatch, type WatchEventType } from "./watch.ts";

export type { WatchEventType } from "./watch.ts";

export interface KubeClientOptions {
  /** Path to a kubeconfig (several joined by ":"); empty or absent: KUBECONFIG, in-cluster or ~/.kube/config. */
  readonly kubeconfigPath?: string;
  readonly qps: number;
  readonly burst: number;
  /** Longest a single API request may take, counted from when the rate limiter lets it go. */
  readonly requestTimeoutMs?: number;
  /** Where the service account token and CA are mounted (tests use their own directory). */
  readonly serviceAccountDir?: string;
  /** Environment for KUBECONFIG and KUBERNETES_SERVICE_HOST/PORT; default process.env. */
  readonly env?: NodeJS.ProcessEnv;
}

export interface CallOptions {
  /** "urgent" for cordons and node records, which must not queue behind evictions. */
  readonly lane?: Lane;
  readonly signal?: AbortSignal;
}

export interface EvictOptions extends CallOptions {
  readonly gracePeriodSeconds: number;
  /** Precondition: evict only this incarnation of the pod (a StatefulSet reuses names). */
  readonly uid?: string;
}

export interface KubeClient {
  readonly limiter: RateLimiter;
  /** The node, or undefined when it does not exist. */
  getNode(name: string, opts?: CallOptions): Promise<V1Node | undefined>;
  /** JSON merge patch (RFC 7386); a metadata.resourceVersion in it is a precondition. */
  patchNode(name: string, patch: object, opts?: CallOptions): Promise<V1Node>;
  listNodes(
    opts?: CallOptions & { labelSelector?: string },
  ): Promise<{ nodes: V1Node[]; resourceVersion: string }>;
  /** Pods bound to a node (field selector spec.nodeName), with the list's resourceVersion. */
  listPodsOnNode(
    nodeName: string,
    opts?: CallOptions & { fromCache?: boolean },
  ): Promise<{ pods: V1Pod[]; resourceVersion: string }>;
  listPodDisruptionBudgets(opts?: CallOptions): Promise<V1PodDisruptionBudget[]>;
  /** policy/v1 Eviction. Throws NthdError; its context.kind/status tell 429 from 404 etc. */
  evictPod(namespace: string, name: string, opts: EvictOptions): Promise<void>;
  createEvent(namespace: string, event: CoreV1Event, opts?: CallOptions): Promise<void>;
  /**
   * Watches pods on a node from a resourceVersion. Resolves once the watch is
   * open; `onEnd` is called once when it ends (error, server close or abort).
   * ERROR events are not passed on: they end the watch (410: list again).
   */
  watchPodsOnNode(
    nodeName: string,
    resourceVersion: string,
    onEvent: (type: WatchEventType, pod: V1Pod) => void,
    onEnd: (err: unknown) => void,
    signal: AbortSignal,
  ): Promise<void>;
  /** Watches every node from a resourceVersion; same contract as watchPodsOnNode. */
  watchNodes(
    resourceVersion: string,
    onEvent: (type: WatchEventType, node: V1Node) => void,
    onEnd: (err: unknown) => void,
    signal: AbortSignal,
  ): Promise<void>;
  /** Closes the connection pool (open watches end). */
  close(): Promise<void>;
}

const MERGE_PATCH = "application/merge-patch+json";

/**
 * Nodes per list page: the largest answer held at once while listing. A real
 * node is 10-40 KiB of JSON (its image list), so a page is a few MiB before
 * it is slimmed; client-go's reflector pages by 500.
 */
export const NODE_PAGE_SIZE = 250;

/**
 * A watch asks the server to end it after 5-10 minutes (spread so many
 * replicas do not reconnect together, as client-go's reflector does); the
 * caller then resumes from the last resourceVersion it saw.
 */
function watchTimeoutSeconds(): number {
  return 300 + Math.floor(Math.random() * 300);
}

const segment = encodeURIComponent;

export function createKubeClient(opts: KubeClientOptions): KubeClient {
  const limiter = createRateLimiter({ qps: opts.qps, burst: opts.burst });
  const timeoutMs = opts.requestTimeoutMs ?? 30_000;
  // Resolved once; a bad kubeconfig fails the first call (CONFIG_INVALID), which start-up makes.
  const transport: Promise<Transport> = loadConnection({
    ...(opts.kubeconfigPath !== undefined ? { kubeconfigPath: opts.kubeconfigPath } : {}),
    ...(opts.serviceAccountDir !== undefined ? { serviceAccountDir: opts.serviceAccountDir } : {}),
    ...(opts.env !== undefined ? { env: opts.env } : {}),
  }).then(createTransport);
  transport.catch(() => {});

  /** Rate limit, then one request bounded by the timeout and the caller's signal. */
  async function call<T>(
    what: string,
    o: CallOptions | undefined,
    req: Omit<KubeRequest, "signal" | "timeoutMs">,
  ): Promise<T> {
    try {
      const t = await transport;
      await limiter.acquire(o?.lane ?? "normal", o?.signal);
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = o?.signal ? AbortSignal.any([o.signal, timeout]) : timeout;
      return await t.json<T>({ ...req, signal, timeoutMs });
    } catch (err) {
      throw kubeError(what, err);
    }
  }

  async function watch(
    what: string,
    path: string,
    query: Record<string, string>,
    onEvent: (type: WatchEventType, object: Record<string, unknown>) => void,
    onEnd: (err: unknown) => void,
    signal: AbortSignal,
  ): Promise<void> {
    try {
      const t = await transport;
      await limiter.acquire("normal", signal);
      const timeoutSeconds = watchTimeoutSeconds();
      const body = await t.stream({
        method: "GET",
        path,
        query: { ...query, watch: 1, allowWatchBookmarks: true, timeoutSeconds },
        signal,
        timeoutMs,
        // The server ends the watch itself; silence well past that means a dead connection.
        bodyTimeoutMs: (timeoutSeconds + 30) * 1000,
      });
      consumeWatch(body, onEvent, onEnd, signal);
    } catch (err) {
      throw kubeError(what, err);
    }
  }

  return {
    limiter,

    async getNode(name, o) {
      try {
        const node = await call<V1Node>(`getting node ${name}`, o, {
          method: "GET",
          path: `/api/v1/nodes/${segment(name)}`,
        });
        return slimNode(node);
      } catch (err) {
        if (err instanceof NthdError && err.context.kind === "not-found") return undefined;
        throw err;
      }
    },

    async patchNode(name, patch, o) {
      try {
        const node = await call<V1Node>(`patching node ${name}`, o, {
          method: "PATCH",
          path: `/api/v1/nodes/${segment(name)}`,
          body: patch,
          contentType: MERGE_PATCH,
        });
        return slimNode(node);
      } catch (err) {
        if (err instanceof NthdError && err.context.kind === "not-found") {
          throw new NthdError("KUBE_NODE_NOT_FOUND", `node ${name} not found`, { cause: err });
        }
        throw err;
      }
    },

    async listNodes(o) {
      const nodes: V1Node[] = [];
      let next: string | undefined;
      let resourceVersion = "";
      do {
        const page: V1NodeList = await call<V1NodeList>("listing nodes", o, {
          method: "GET",
          path: "/api/v1/nodes",
          query: {
            labelSelector: o?.labelSelector || undefined,
            limit: NODE_PAGE_SIZE,
            continue: next,
          },
        });
        for (const node of page.items ?? []) nodes.push(slimNode(node));
        // Every page of one list is a snapshot at the first page's version.
        resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
        next = page.metadata?._continue || undefined;
      } while (next !== undefined);
      return { nodes, resourceVersion };
    },

    async listPodsOnNode(nodeName, o) {
      const list = await call<V1PodList>(`listing pods on node ${nodeName}`, o, {
        method: "GET",
        path: "/api/v1/pods",
        query: {
          fieldSelector: `spec.nodeName=${nodeName}`,
          // "0": served from the API server's watch cache (USE_APISERVER_CACHE).
          resourceVersion: o?.fromCache ? "0" : undefined,
        },
      });
      return {
        pods: (list.items ?? []).map(slimPod),
        resourceVersion: list.metadata?.resourceVersion ?? "",
      };
    },

    async listPodDisruptionBudgets(o) {
      const list = await call<V1PodDisruptionBudgetList>("listing PodDisruptionBudgets", o, {
        method: "GET",
        path: "/apis/policy/v1/poddisruptionbudgets",
      });
      return (list.items ?? []).map(slimPdb);
    },

    async evictPod(namespace, name, o) {
      await call(`evicting pod ${namespace}/${name}`, o, {
        method: "POST",
        path: `/api/v1/namespaces/${segment(namespace)}/pods/${segment(name)}/eviction`,
        body: {
          apiVersion: "policy/v1",
          kind: "Eviction",
          metadata: { name, namespace },
          deleteOptions: {
            gracePeriodSeconds: o.gracePeriodSeconds,
            ...(o.uid ? { preconditions: { uid: o.uid } } : {}),
          },
        },
      });
    },

    async createEvent(namespace, event, o) {
      await call(`creating event in ${namespace}`, o, {
        method: "POST",
        path: `/api/v1/namespaces/${segment(namespace)}/events`,
        body: event,
      });
    },

    watchPodsOnNode(nodeName, resourceVersion, onEvent, onEnd, signal) {
      return watch(
        `watching pods on node ${nodeName}`,
        "/api/v1/pods",
        { fieldSelector: `spec.nodeName=${nodeName}`, resourceVersion },
        (type, obj) => onEvent(type, slimPod(obj as V1Pod)),
        onEnd,
        signal,
      );
    },

    watchNodes(resourceVersion, onEvent, onEnd, signal) {
      return watch(
        "watching nodes",
        "/api/v1/nodes",
        { resourceVersion },
        (type, obj) => onEvent(type, slimNode(obj as V1Node)),
        onEnd,
        signal,
      );
    },

    async close() {
      const t = await transport.catch(() => undefined);
      await t?.close();
    },
  };
}

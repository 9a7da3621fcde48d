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
import { createCalls } from "./calls.ts";
import { loadConnection } from "./connection.ts";
import { ApiContact } from "./contact.ts";
import { createTransport, type KubeRequest, type Transport } from "./http.ts";

/** A request for a path the client has no method for (leases.ts builds them). */
export type ApiRequest = Omit<KubeRequest, "signal" | "timeoutMs" | "bodyTimeoutMs">;

import { createRateLimiter, type Lane, type RateLimiter } from "./rate-limit.ts";
import { slimNode, slimPdb, slimPod } from "./slim.ts";
import type { WatchEventType } from "./watch.ts";

export type { WatchEventType } from "./watch.ts";

export interface KubeClientOptions {
  /** Path to a kubeconfig (several joined by ":"); empty or absent: KUBECONFIG, in-cluster or ~/.kube/config. */
  readonly kubeconfigPath?: string;
  readonly qps: number;
  readonly burst: number;
  /** Longest a single API request may take, counted from when the rate limiter lets it go. */
  readonly requestTimeoutMs?: number;
  /**
   * Longest silence on an open watch before it is taken for dead (a frozen
   * API server or a half-open connection sends nothing and closes nothing).
   * Default: the server's own watch timeout plus 30 s.
   */
  readonly watchIdleTimeoutMs?: number;
  /** Where the service account token and CA are mounted (tests use their own directory). */
  readonly serviceAccountDir?: string;
  /** Environment for KUBECONFIG and KUBERNETES_SERVICE_HOST/PORT; default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Objects per page of a cluster-wide list (nodes, PodDisruptionBudgets). Default 500, as client-go. */
  readonly listPageSize?: number;
}

export interface CallOptions {
  /** "urgent" for cordons and node records, which must not queue behind evictions. */
  readonly lane?: Lane;
  readonly signal?: AbortSignal;
  /**
   * false: `signal` only cuts the wait for the rate limiter short; a request
   * already sent runs to its answer. For calls whose effect must be known
   * (an eviction cut off in flight may or may not have happened).
   */
  readonly abortSent?: boolean;
}

export interface EvictOptions extends CallOptions {
  readonly gracePeriodSeconds: number;
  /** Precondition: evict only this incarnation of the pod (a StatefulSet reuses names). */
  readonly uid?: string;
}

export interface KubeClient {
  readonly limiter: RateLimiter;
  /** What every request's outcome says about the API server (readiness is derived from it). */
  readonly contact: ApiContact;
  /**
   * A cheap liveness read for readiness: GET one node from the API server's
   * cache (resourceVersion=0, no etcd read; a 404 is an answer too). It
   * bypasses the rate limiter, so it never waits behind evictions, and its
   * `timeoutMs` counts as an outage (a caller's `signal` does not).
   */
  probe(nodeName: string, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<void>;
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
  /**
   * One page of a cluster-wide list (`limit`, then the `continue` token it
   * returned), so a large collection is read and dropped a page at a time.
   */
  listPage<T>(resource: PagedResource, opts: PageOptions): Promise<Page<T>>;
  /** The pod, or undefined when it does not exist. */
  getPod(namespace: string, name: string, opts?: CallOptions): Promise<V1Pod | undefined>;
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
  /**
   * Any other API call, under the same rate limit, timeout and errors; for
   * the modules beside this one that own a resource (leases.ts).
   */
  request<T>(what: string, req: ApiRequest, opts?: CallOptions): Promise<T>;
  /** A watch on any other collection; same contract as watchNodes. */
  watchPath(
    what: string,
    path: string,
    query: Record<string, string>,
    onEvent: (type: WatchEventType, object: Record<string, unknown>) => void,
    onEnd: (err: unknown) => void,
    signal: AbortSignal,
  ): Promise<void>;
  /** Closes the connection pool (open watches end). */
  close(): Promise<void>;
}

/** The collections read page by page, and where they are. */
const PAGED_PATHS = {
  nodes: "/api/v1/nodes",
  pods: "/api/v1/pods",
  poddisruptionbudgets: "/apis/policy/v1/poddisruptionbudgets",
} as const;
export type PagedResource = keyof typeof PAGED_PATHS;

/**
 * Nodes per list page: the largest answer held at once while listing. A real
 * node is 10-40 KiB of JSON (its image list), so a page is a few MiB before
 * it is slimmed; client-go's reflector pages by 500.
 */
export const NODE_PAGE_SIZE = 250;

export interface PageOptions extends CallOptions {
  readonly limit: number;
  readonly continue?: string;
  readonly labelSelector?: string;
}

export interface Page<T> {
  readonly items: T[];
  /** Token for the next page; undefined after the last one. */
  readonly continue: string | undefined;
  /** Objects after this page, when the server says (not with a label selector). */
  readonly remaining: number | undefined;
}

const MERGE_PATCH = "application/merge-patch+json";

const segment = encodeURIComponent;

export function createKubeClient(opts: KubeClientOptions): KubeClient {
  const limiter = createRateLimiter({ qps: opts.qps, burst: opts.burst });
  const contact = new ApiContact();
  // Resolved once; a bad kubeconfig fails the first call (CONFIG_INVALID), which start-up makes.
  const transport: Promise<Transport> = loadConnection({
    ...(opts.kubeconfigPath !== undefined ? { kubeconfigPath: opts.kubeconfigPath } : {}),
    ...(opts.serviceAccountDir !== undefined ? { serviceAccountDir: opts.serviceAccountDir } : {}),
    ...(opts.env !== undefined ? { env: opts.env } : {}),
  }).then(createTransport);
  transport.catch(() => {});
  const { call, send, listSnapshot, watch } = createCalls({
    transport,
    limiter,
    contact,
    timeoutMs: opts.requestTimeoutMs ?? 30_000,
    pageSize: opts.listPageSize ?? 500,
    ...(opts.watchIdleTimeoutMs !== undefined
      ? { watchIdleTimeoutMs: opts.watchIdleTimeoutMs }
      : {}),
  });

  return {
    limiter,
    contact,

    async probe(nodeName, o) {
      const t = await transport.catch((err: unknown) => {
        throw kubeError("probing the API server", err);
      });
      try {
        await send(
          `probing the API server (node ${nodeName})`,
          t,
          {
            method: "GET",
            path: `/api/v1/nodes/${segment(nodeName)}`,
            query: { resourceVersion: "0" },
          },
          o.signal,
          o.timeoutMs,
        );
      } catch (err) {
        if (err instanceof NthdError && err.context.kind === "not-found") return;
        throw err;
      }
    },

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
      const { items, resourceVersion } = await listSnapshot<V1NodeList>("listing nodes", o, {
        path: "/api/v1/nodes",
        query: { labelSelector: o?.labelSelector || undefined },
      });
      return { nodes: items.map(slimNode), resourceVersion };
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
      const { items } = await listSnapshot<V1PodDisruptionBudgetList>(
        "listing PodDisruptionBudgets",
        o,
        { path: "/apis/policy/v1/poddisruptionbudgets", query: {} },
      );
      return items.map(slimPdb);
    },

    async listPage<T>(resource: PagedResource, o: PageOptions): Promise<Page<T>> {
      const list = await call<{
        items?: T[];
        metadata?: { continue?: string; remainingItemCount?: number };
      }>(`listing ${resource}`, o, {
        method: "GET",
        path: PAGED_PATHS[resource],
        query: {
          limit: o.limit,
          continue: o.continue || undefined,
          labelSelector: o.labelSelector || undefined,
        },
      });
      return {
        items: list.items ?? [],
        continue: list.metadata?.continue || undefined,
        remaining: list.metadata?.remainingItemCount,
      };
    },

    async getPod(namespace, name, o) {
      try {
        return await call<V1Pod>(`getting pod ${namespace}/${name}`, o, {
          method: "GET",
          path: `/api/v1/namespaces/${segment(namespace)}/pods/${segment(name)}`,
        });
      } catch (err) {
        if (err instanceof NthdError && err.context.kind === "not-found") return undefined;
        throw err;
      }
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

    request: (what, req, o) => call(what, o, req),

    watchPath: watch,

    async close() {
      const t = await transport.catch(() => undefined);
      await t?.close();
    },
  };
}

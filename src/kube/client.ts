/**
 * The one thin layer over @kubernetes/client-node that nthd uses. Every call
 * goes through the client-side rate limiter, is bounded by a request timeout
 * and fails with an NthdError (code KUBE_API / KUBE_NODE_NOT_FOUND) whose
 * context says what kind of failure it was (see api-error.ts).
 */
import {
  CoreV1Api,
  type CoreV1Event,
  KubeConfig,
  PatchStrategy,
  PolicyV1Api,
  setHeaderOptions,
  type V1Node,
  type V1Pod,
  type V1PodDisruptionBudget,
  Watch,
} from "@kubernetes/client-node";
import { NthdError } from "../errors.ts";
import { kubeError } from "./api-error.ts";
import { createRateLimiter, type Lane, type RateLimiter } from "./rate-limit.ts";

export interface KubeClientOptions {
  /** Path to a kubeconfig; empty or absent: KUBECONFIG, ~/.kube/config or in-cluster. */
  readonly kubeconfigPath?: string;
  readonly qps: number;
  readonly burst: number;
  /** Longest a single API request may take. */
  readonly requestTimeoutMs?: number;
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

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

export interface KubeClient {
  readonly kubeConfig: KubeConfig;
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
   */
  watchPodsOnNode(
    nodeName: string,
    resourceVersion: string,
    onEvent: (type: WatchEventType, pod: V1Pod) => void,
    onEnd: (err: unknown) => void,
    signal: AbortSignal,
  ): Promise<void>;
}

const MERGE_PATCH = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

export function loadKubeConfig(kubeconfigPath?: string): KubeConfig {
  const kc = new KubeConfig();
  if (kubeconfigPath) kc.loadFromFile(kubeconfigPath);
  else kc.loadFromDefault();
  return kc;
}

export function createKubeClient(opts: KubeClientOptions): KubeClient {
  const kubeConfig = loadKubeConfig(opts.kubeconfigPath);
  const limiter = createRateLimiter({ qps: opts.qps, burst: opts.burst });
  const timeoutMs = opts.requestTimeoutMs ?? 30_000;
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const policy = kubeConfig.makeApiClient(PolicyV1Api);
  const watcher = new Watch(kubeConfig);

  /** Rate limit, then race the request against the timeout and the caller's signal. */
  async function call<T>(
    what: string,
    o: CallOptions | undefined,
    run: () => Promise<T>,
  ): Promise<T> {
    const signal = o?.signal
      ? AbortSignal.any([o.signal, AbortSignal.timeout(timeoutMs)])
      : AbortSignal.timeout(timeoutMs);
    try {
      await limiter.acquire(o?.lane ?? "normal", o?.signal);
      const request = run();
      // The abandoned request settles later; keep its rejection from going unhandled.
      request.catch(() => {});
      return await new Promise<T>((resolve, reject) => {
        const onAbort = () => reject(signal.reason);
        signal.addEventListener("abort", onAbort, { once: true });
        request.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
      });
    } catch (err) {
      throw kubeError(what, err);
    }
  }

  return {
    kubeConfig,
    limiter,

    async getNode(name, o) {
      try {
        return await call(`getting node ${name}`, o, () => core.readNode({ name }));
      } catch (err) {
        if (err instanceof NthdError && err.context.kind === "not-found") return undefined;
        throw err;
      }
    },

    async patchNode(name, patch, o) {
      try {
        return await call(`patching node ${name}`, o, () =>
          core.patchNode({ name, body: patch }, MERGE_PATCH),
        );
      } catch (err) {
        if (err instanceof NthdError && err.context.kind === "not-found") {
          throw new NthdError("KUBE_NODE_NOT_FOUND", `node ${name} not found`, { cause: err });
        }
        throw err;
      }
    },

    async listNodes(o) {
      const list = await call("listing nodes", o, () =>
        core.listNode(o?.labelSelector ? { labelSelector: o.labelSelector } : {}),
      );
      return { nodes: list.items, resourceVersion: list.metadata?.resourceVersion ?? "" };
    },

    async listPodsOnNode(nodeName, o) {
      const list = await call(`listing pods on node ${nodeName}`, o, () =>
        core.listPodForAllNamespaces({
          fieldSelector: `spec.nodeName=${nodeName}`,
          // "0": served from the API server's watch cache (USE_APISERVER_CACHE).
          ...(o?.fromCache ? { resourceVersion: "0" } : {}),
        }),
      );
      return { pods: list.items, resourceVersion: list.metadata?.resourceVersion ?? "" };
    },

    async listPodDisruptionBudgets(o) {
      const list = await call("listing PodDisruptionBudgets", o, () =>
        policy.listPodDisruptionBudgetForAllNamespaces({}),
      );
      return list.items;
    },

    async evictPod(namespace, name, o) {
      await call(`evicting pod ${namespace}/${name}`, o, () =>
        core.createNamespacedPodEviction({
          name,
          namespace,
          body: {
            apiVersion: "policy/v1",
            kind: "Eviction",
            metadata: { name, namespace },
            deleteOptions: {
              gracePeriodSeconds: o.gracePeriodSeconds,
              ...(o.uid ? { preconditions: { uid: o.uid } } : {}),
            },
          },
        }),
      );
    },

    async createEvent(namespace, event, o) {
      await call(`creating event in ${namespace}`, o, () =>
        core.createNamespacedEvent({ namespace, body: event }),
      );
    },

    async watchPodsOnNode(nodeName, resourceVersion, onEvent, onEnd, signal) {
      await limiter.acquire("normal", signal);
      let ended = false;
      const end = (err: unknown) => {
        if (ended) return;
        ended = true;
        onEnd(err);
      };
      let controller: AbortController;
      try {
        controller = await watcher.watch(
          "/api/v1/pods",
          {
            fieldSelector: `spec.nodeName=${nodeName}`,
            resourceVersion,
            allowWatchBookmarks: true,
          },
          (type: string, obj: unknown) => onEvent(type as WatchEventType, obj as V1Pod),
          end,
        );
      } catch (err) {
        throw kubeError(`watching pods on node ${nodeName}`, err);
      }
      const stop = () => {
        controller.abort();
        end(signal.reason);
      };
      if (signal.aborted) stop();
      else signal.addEventListener("abort", stop, { once: true });
    },
  };
}

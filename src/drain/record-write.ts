/**
 * Read-modify-write of a Node with the resourceVersion as a precondition:
 * a conflict (someone else changed the node in between) re-reads and builds
 * the patch again; transient failures (5xx, 429 from API priority and
 * fairness, network) are retried a few times with backoff.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { V1Node } from "@kubernetes/client-node";
import { classifyKubeError } from "../kube/api-error.ts";
import type { KubeClient } from "../kube/client.ts";
import type { Lane } from "../kube/rate-limit.ts";

export interface UpdateOptions {
  /**
   * A recent copy of the node (the informer's) to build the first patch on,
   * saving the read. A stale copy fails the resourceVersion precondition and
   * the node is read again; a copy on which nothing needs to change is
   * checked against a fresh read, so "nothing to do" is never decided on old data.
   */
  readonly cached?: V1Node | undefined;
  readonly lane?: Lane;
  readonly signal?: AbortSignal;
  readonly attempts?: number;
}

export type UpdateResult =
  | { readonly found: false }
  | { readonly found: true; readonly node: V1Node; readonly patched: boolean };

/**
 * `build` sees the current node and returns a JSON merge patch, or null when
 * nothing needs to change. It may be called more than once (a conflict, a
 * cached copy): each call must derive everything from the node it is given.
 */
export async function updateNode(
  kube: KubeClient,
  name: string,
  build: (node: V1Node) => Record<string, unknown> | null,
  opts: UpdateOptions = {},
): Promise<UpdateResult> {
  const attempts = opts.attempts ?? 8;
  const call = { lane: opts.lane ?? "urgent", ...(opts.signal ? { signal: opts.signal } : {}) };
  let cached = opts.cached;
  for (let attempt = 1; ; attempt++) {
    try {
      if (cached !== undefined) {
        const patch = build(cached);
        cached = undefined;
        if (patch !== null) {
          return { found: true, node: await kube.patchNode(name, patch, call), patched: true };
        }
      }
      const node = await kube.getNode(name, call);
      if (node === undefined) return { found: false };
      const patch = build(node);
      if (patch === null) return { found: true, node, patched: false };
      return { found: true, node: await kube.patchNode(name, patch, call), patched: true };
    } catch (err) {
      const info = classifyKubeError(err);
      if (info.kind === "not-found") return { found: false };
      if (!info.retryable || attempt >= attempts || opts.signal?.aborted) throw err;
      if (info.kind !== "conflict") {
        const ms = Math.min(5000, 100 * 2 ** attempt) * (0.5 + Math.random() / 2);
        await sleep(
          Math.max(ms, (info.retryAfterSeconds ?? 0) * 1000),
          undefined,
          opts.signal ? { signal: opts.signal } : {},
        );
      }
    }
  }
}

/**
 * Runs a read (a list, say) again on transient failures: a brief API server
 * hiccup must not fail a drain that has minutes left.
 */
export async function retryTransient<T>(
  run: () => Promise<T>,
  opts: { signal?: AbortSignal; attempts?: number } = {},
): Promise<T> {
  const attempts = opts.attempts ?? 6;
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      const info = classifyKubeError(err);
      if (!info.retryable || attempt >= attempts || opts.signal?.aborted) throw err;
      const ms = Math.min(5000, 100 * 2 ** attempt) * (0.5 + Math.random() / 2);
      await sleep(
        Math.max(ms, (info.retryAfterSeconds ?? 0) * 1000),
        undefined,
        opts.signal ? { signal: opts.signal } : {},
      );
    }
  }
}

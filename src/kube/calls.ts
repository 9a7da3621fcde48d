/**
 * How one call to the API server is made, for client.ts: the rate limiter,
 * a timeout, the outcome recorded in the API contact (readiness follows it)
 * and failures wrapped as NthdError with a context prefix; cluster-wide
 * lists read page by page; watches opened and consumed.
 */
import type { V1ListMeta } from "@kubernetes/client-node";
import { isNthdError } from "../errors.ts";
import { kubeError } from "./api-error.ts";
import type { CallOptions } from "./client.ts";
import type { ApiContact } from "./contact.ts";
import type { KubeRequest, Transport } from "./http.ts";
import type { RateLimiter } from "./rate-limit.ts";
import { consumeWatch, type WatchEventType } from "./watch.ts";

/**
 * A watch asks the server to end it after 5-10 minutes (spread so many
 * replicas do not reconnect together, as client-go's reflector does); the
 * caller then resumes from the last resourceVersion it saw.
 */
function watchTimeoutSeconds(): number {
  return 300 + Math.floor(Math.random() * 300);
}

export interface CallDeps {
  readonly transport: Promise<Transport>;
  readonly limiter: RateLimiter;
  readonly contact: ApiContact;
  /** Longest a single request may take, counted from when the rate limiter lets it go. */
  readonly timeoutMs: number;
  /** Objects per page of a cluster-wide list. */
  readonly pageSize: number;
  /**
   * Longest silence on an open watch before it is taken for dead (a frozen
   * API server or a half-open connection sends nothing and closes nothing).
   * Default: the server's own watch timeout plus 30 s.
   */
  readonly watchIdleTimeoutMs?: number;
}

export function createCalls(deps: CallDeps) {
  const { transport, limiter, contact, timeoutMs, pageSize } = deps;

  /** Rate limit, then one request bounded by the timeout and the caller's signal. */
  async function call<T>(
    what: string,
    o: CallOptions | undefined,
    req: Omit<KubeRequest, "signal" | "timeoutMs">,
  ): Promise<T> {
    const t = await transport.catch((err: unknown) => {
      throw kubeError(what, err);
    });
    try {
      await limiter.acquire(o?.lane ?? "normal", o?.signal);
      o?.signal?.throwIfAborted();
    } catch (err) {
      throw kubeError(what, err);
    }
    // abortSent false: the caller's signal only cut the wait short; a request
    // already sent runs to its answer (an eviction cut off in flight may or
    // may not have happened).
    return send<T>(what, t, req, o?.abortSent === false ? undefined : o?.signal, timeoutMs);
  }

  /** One request, its outcome recorded in `contact` unless the caller cancelled it. */
  async function send<T>(
    what: string,
    t: Transport,
    req: Omit<KubeRequest, "signal" | "timeoutMs">,
    callerSignal: AbortSignal | undefined,
    ms: number,
  ): Promise<T> {
    const timeout = AbortSignal.timeout(ms);
    const signal = callerSignal ? AbortSignal.any([callerSignal, timeout]) : timeout;
    try {
      const answer = await t.json<T>({ ...req, signal, timeoutMs: ms });
      contact.succeeded();
      return answer;
    } catch (err) {
      if (!callerSignal?.aborted && !isNthdError(err, "BODY_TOO_LARGE")) contact.failed(err);
      throw kubeError(what, err);
    }
  }

  /**
   * A cluster-wide list, page by page (limit + continue), so no single
   * answer grows with the cluster (http.ts caps each answer). Every page is
   * part of one snapshot: the first page's resourceVersion is the list's.
   * Kept whole, for a watch's first list (the informer needs every object
   * and that resourceVersion); paged-list.ts streams pages to a caller that
   * keeps only what it reads.
   */
  async function listSnapshot<L extends { items?: unknown[]; metadata?: V1ListMeta }>(
    what: string,
    o: CallOptions | undefined,
    req: { path: string; query: Record<string, string | undefined> },
  ): Promise<{ items: NonNullable<L["items"]>; resourceVersion: string }> {
    const items: unknown[] = [];
    let resourceVersion: string | undefined;
    let next: string | undefined;
    do {
      const page: L = await call<L>(what, o, {
        method: "GET",
        path: req.path,
        query: { ...req.query, limit: pageSize, continue: next },
      });
      for (const item of page.items ?? []) items.push(item);
      resourceVersion ??= page.metadata?.resourceVersion ?? "";
      // Raw JSON: the field is "continue" (client-node's model calls it _continue).
      next = (page.metadata as { continue?: string } | undefined)?.continue || undefined;
    } while (next !== undefined);
    return { items: items as NonNullable<L["items"]>, resourceVersion: resourceVersion ?? "" };
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
        // The server ends the watch itself; silence well past that, or past the
        // configured idle bound, means a dead connection: the caller reopens it.
        bodyTimeoutMs: Math.min(deps.watchIdleTimeoutMs ?? Infinity, (timeoutSeconds + 30) * 1000),
      });
      contact.succeeded();
      consumeWatch(
        body,
        (type, object) => {
          // Events and bookmarks prove the server is there: no probe needed.
          contact.succeeded();
          onEvent(type, object);
        },
        (err) => {
          if (err !== undefined && !signal.aborted) contact.failed(err);
          onEnd(err);
        },
        signal,
      );
    } catch (err) {
      if (!signal.aborted) contact.failed(err);
      throw kubeError(what, err);
    }
  }

  return { call, send, listSnapshot, watch };
}

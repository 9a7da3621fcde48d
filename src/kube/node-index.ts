/**
 * Queue mode's view of the cluster's nodes: one list, then a watch, kept as
 * an index instanceId -> node built from spec.providerID
 * (`aws:///<az>/<instance-id>`). Looking up the node of an instance is then a
 * map read instead of a list of every node per message.
 *
 * The watch resumes from the last resourceVersion seen (events and
 * bookmarks) when the server ends it; a 410 Gone means that version is no
 * longer kept, so the nodes are listed again and the index replaced. Any
 * other failure is reported and retried after a pause that doubles up to
 * 30 s.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { V1Node } from "@kubernetes/client-node";
import { instanceIdFromProviderId } from "../aws-ids.ts";
import { isNthdError } from "../errors.ts";
import { classifyKubeError } from "./api-error.ts";
import type { KubeClient, WatchEventType } from "./client.ts";
import { isExpired } from "./watch.ts";

const MAX_RESTART_DELAY_MS = 30_000;

export interface NodeIndex {
  /** Lists the nodes and starts watching; resolves once the first list is indexed. */
  start(): Promise<void>;
  stop(): Promise<void>;
  byInstanceId(instanceId: string): V1Node | undefined;
  byName(name: string): V1Node | undefined;
  /** Every indexed node (a snapshot). */
  nodes(): V1Node[];
  /** The EC2 instance ids of the indexed nodes that carry one in spec.providerID. */
  instanceIds(): string[];
  /** Whether the first list has been indexed and the watch is healthy. */
  readonly synced: boolean;
  /** Called with a node's name whenever it is added, changed or removed. */
  onChange(listener: (name: string) => void): void;
}

export function createNodeIndex(
  kube: KubeClient,
  opts: { onError?: (err: unknown) => void; restartDelayMs?: number } = {},
): NodeIndex {
  const byName = new Map<string, V1Node>();
  const byInstance = new Map<string, string>();
  const firstDelayMs = opts.restartDelayMs ?? 2000;
  let synced = false;
  let life = new AbortController();
  let resourceVersion = "";
  let delayMs = firstDelayMs;
  let restartTimer: NodeJS.Timeout | undefined;
  const listeners: ((name: string) => void)[] = [];
  const changed = (name: string) => {
    for (const l of listeners) l(name);
  };

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

  /** Replaces the index with a fresh list; nodes deleted while unwatched drop out. */
  async function list(): Promise<void> {
    const { nodes, resourceVersion: rv } = await kube.listNodes({ signal: life.signal });
    byName.clear();
    byInstance.clear();
    for (const node of nodes) put(node);
    resourceVersion = rv;
  }

  function onEvent(type: WatchEventType, node: V1Node): void {
    if (type === "ADDED" || type === "MODIFIED") put(node);
    else if (type === "DELETED") remove(node);
    if (type !== "BOOKMARK" && node.metadata?.name) changed(node.metadata.name);
    // Bookmarks carry only a resourceVersion: where to resume from.
    const rv = node.metadata?.resourceVersion;
    if (rv) resourceVersion = rv;
    delayMs = firstDelayMs;
  }

  async function watch(signal: AbortSignal): Promise<void> {
    const openedAt = Date.now();
    await kube.watchNodes(
      resourceVersion,
      onEvent,
      (err) => onWatchEnd(err, signal, Date.now() - openedAt),
      signal,
    );
    synced = true;
  }

  function onWatchEnd(err: unknown, signal: AbortSignal, lastedMs: number): void {
    if (signal.aborted) return;
    if (err === undefined) {
      // The server's timeout ended the watch: resume where it stopped. One
      // that closes at once (a proxy?) is not reopened in a tight loop.
      restart(signal, lastedMs < 1000 ? firstDelayMs : 0, false);
    } else if (isExpired(err)) {
      restart(signal, 0, true);
    } else {
      fail(err, signal, false);
    }
  }

  function fail(err: unknown, signal: AbortSignal, relist: boolean): void {
    synced = false;
    opts.onError?.(err);
    const wait = delayMs;
    delayMs = Math.min(delayMs * 2, MAX_RESTART_DELAY_MS);
    restart(signal, wait, relist || isExpired(err));
  }

  function restart(signal: AbortSignal, waitMs: number, relist: boolean): void {
    clearTimeout(restartTimer);
    restartTimer = setTimeout(async () => {
      restartTimer = undefined;
      if (signal.aborted) return;
      try {
        if (relist || resourceVersion === "") await list();
        await watch(signal);
      } catch (err) {
        if (!signal.aborted) fail(err, signal, relist || !resourceVersion);
      }
    }, waitMs);
  }

  return {
    get synced() {
      return synced;
    },
    async start() {
      life.abort();
      life = new AbortController();
      const signal = life.signal;
      delayMs = firstDelayMs;
      // The first list must succeed; a connection the daemon cannot use at all stops start-up.
      for (;;) {
        try {
          await list();
          break;
        } catch (err) {
          if (signal.aborted || !worthRetrying(err)) throw err;
          opts.onError?.(err);
          await sleep(delayMs, undefined, { signal }).catch(() => {
            throw signal.reason;
          });
          delayMs = Math.min(delayMs * 2, MAX_RESTART_DELAY_MS);
        }
      }
      try {
        await watch(signal);
      } catch (err) {
        // Indexed but not yet watching: keep serving the list and retry the watch.
        fail(err, signal, false);
      }
    },
    async stop() {
      life.abort(new Error("node index stopped"));
      clearTimeout(restartTimer);
      restartTimer = undefined;
      synced = false;
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
    instanceIds() {
      return [...byInstance.keys()];
    },
    onChange(listener) {
      listeners.push(listener);
    },
  };
}

/** Bad settings and missing RBAC will not fix themselves; anything else may pass. */
function worthRetrying(err: unknown): boolean {
  if (isNthdError(err, "CONFIG_INVALID")) return false;
  const kind = classifyKubeError(err).kind;
  return kind !== "forbidden" && kind !== "invalid";
}

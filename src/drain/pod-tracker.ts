/**
 * Knows which pods are still on a node while it drains: one list, then a
 * watch (field selector spec.nodeName) from the list's resourceVersion, so
 * waiting for evicted pods to go costs one stream instead of a poll per pod.
 * If the watch ends early it lists again and resumes.
 */

import type { V1Pod } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { errorMessage } from "../errors.ts";
import type { KubeClient } from "../kube/client.ts";
import { type PodRef, podKey } from "./planner.ts";

export interface PodTracker {
  /** Resolves true once the pod is gone, false if `signal` aborts first. */
  waitGone(pod: PodRef, signal: AbortSignal): Promise<boolean>;
  isGone(pod: PodRef): boolean;
  stop(): void;
}

/** Terminated pods have stopped their containers; for a drain they are gone. */
function stopped(pod: V1Pod): boolean {
  return pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
}

export async function trackPods(args: {
  kube: KubeClient;
  nodeName: string;
  initial: readonly V1Pod[];
  resourceVersion: string;
  log: Logger;
  relistDelayMs?: number;
}): Promise<PodTracker> {
  const { kube, nodeName, log } = args;
  /** ns/name -> uid of the incarnation on the node. */
  const present = new Map<string, string>();
  const waiters = new Map<string, Set<() => void>>();
  const life = new AbortController();

  const isGone = (pod: PodRef) => {
    const uid = present.get(podKey(pod));
    return uid === undefined || (pod.uid !== undefined && uid !== pod.uid);
  };
  const settle = (key: string) => {
    for (const wake of waiters.get(key) ?? []) wake();
  };
  const load = (pods: readonly V1Pod[]) => {
    const seen = new Set<string>();
    for (const pod of pods) {
      const key = podKey({
        namespace: pod.metadata?.namespace ?? "",
        name: pod.metadata?.name ?? "",
      });
      if (stopped(pod)) continue;
      seen.add(key);
      present.set(key, pod.metadata?.uid ?? "");
    }
    for (const key of [...present.keys()]) {
      if (!seen.has(key)) {
        present.delete(key);
        settle(key);
      }
    }
    for (const key of waiters.keys()) settle(key);
  };

  function onEvent(type: string, pod: V1Pod): void {
    if (!pod?.metadata) return;
    const key = podKey({ namespace: pod.metadata.namespace ?? "", name: pod.metadata.name ?? "" });
    if (type === "DELETED" || stopped(pod)) present.delete(key);
    else if (type === "ADDED" || type === "MODIFIED") present.set(key, pod.metadata.uid ?? "");
    settle(key);
  }

  async function watchFrom(resourceVersion: string): Promise<void> {
    await kube.watchPodsOnNode(
      nodeName,
      resourceVersion,
      onEvent,
      (err) => {
        if (life.signal.aborted) return;
        if (err) log.debug({ err: errorMessage(err) }, "pod watch ended; listing again");
        setTimeout(() => void relist(), args.relistDelayMs ?? 200);
      },
      life.signal,
    );
  }

  async function relist(): Promise<void> {
    if (life.signal.aborted) return;
    try {
      const { pods, resourceVersion } = await kube.listPodsOnNode(nodeName, {
        signal: life.signal,
      });
      load(pods);
      await watchFrom(resourceVersion);
    } catch (err) {
      if (life.signal.aborted) return;
      log.warn({ err: errorMessage(err) }, "could not list pods on the node; retrying");
      setTimeout(() => void relist(), 2000);
    }
  }

  load(args.initial);
  try {
    await watchFrom(args.resourceVersion);
  } catch (err) {
    log.warn({ err: errorMessage(err) }, "could not watch pods on the node; listing again");
    setTimeout(() => void relist(), 500);
  }

  return {
    isGone,
    waitGone(pod, signal) {
      if (isGone(pod)) return Promise.resolve(true);
      if (signal.aborted) return Promise.resolve(false);
      const key = podKey(pod);
      return new Promise<boolean>((resolve) => {
        const set = waiters.get(key) ?? new Set();
        waiters.set(key, set);
        const done = (gone: boolean) => {
          set.delete(wake);
          if (set.size === 0) waiters.delete(key);
          signal.removeEventListener("abort", onAbort);
          resolve(gone);
        };
        const wake = () => {
          if (isGone(pod)) done(true);
        };
        const onAbort = () => done(false);
        set.add(wake);
        signal.addEventListener("abort", onAbort, { once: true });
      });
    },
    stop() {
      life.abort();
      for (const key of [...waiters.keys()]) settle(key);
    },
  };
}

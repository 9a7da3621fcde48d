// Turns what the watches saw into the figures a scenario reports.
import { type Summary, summarize } from "./stats.ts";
import type { PodFate } from "./watch.ts";

export interface InterruptionOutcome {
  readonly nodes: number;
  readonly nodesCordoned: number;
  /** First notice sent → last node cordoned (ms); undefined when not all were. */
  readonly allCordonedMs: number | undefined;
  /** Per node: its notice sent → it was cordoned (ms). */
  readonly noticeToCordonMs: Summary;
  readonly pods: number;
  readonly podsEvicted: number;
  readonly podsGone: number;
  /** First notice → last eviction accepted (ms); undefined when not all were evicted. */
  readonly allEvictedMs: number | undefined;
  /** First notice → last pod gone (ms): the fleet is drained. */
  readonly allDrainedMs: number | undefined;
  /** Pods whose eviction was accepted before the deadline (notice + 2 minutes). */
  readonly evictedBeforeDeadline: number;
  /** Pods gone (terminated and deleted) before the deadline. */
  readonly goneBeforeDeadline: number;
  readonly evictedBeforeDeadlinePct: number;
  readonly goneBeforeDeadlinePct: number;
  /** Raw per-node latencies, for plots. */
  readonly latenciesMs: readonly number[];
}

export function interruptionOutcome(args: {
  readonly sentAt: ReadonlyMap<string, number>;
  /** Node name for each notified instance id. */
  readonly nodeOfInstance: ReadonlyMap<string, string>;
  readonly cordonedAt: ReadonlyMap<string, number>;
  readonly pods: ReadonlyMap<string, PodFate>;
  readonly deadline: number;
}): InterruptionOutcome {
  const first = Math.min(...args.sentAt.values());
  const latencies: number[] = [];
  let lastCordon = 0;
  for (const [instanceId, sent] of args.sentAt) {
    const node = args.nodeOfInstance.get(instanceId);
    const at = node === undefined ? undefined : args.cordonedAt.get(node);
    if (at === undefined) continue;
    latencies.push(at - sent);
    lastCordon = Math.max(lastCordon, at);
  }
  const fates = [...args.pods.values()];
  const evicted = fates.filter((f) => f.evictedAt !== undefined);
  const gone = fates.filter((f) => f.goneAt !== undefined);
  const maxOf = (xs: number[]) => (xs.length === 0 ? first : Math.max(...xs));
  const pct = (n: number) => (fates.length === 0 ? Number.NaN : (n / fates.length) * 100);
  const evictedBefore = evicted.filter((f) => (f.evictedAt ?? Infinity) <= args.deadline).length;
  const goneBefore = gone.filter((f) => (f.goneAt ?? Infinity) <= args.deadline).length;
  return {
    nodes: args.sentAt.size,
    nodesCordoned: latencies.length,
    allCordonedMs: latencies.length === args.sentAt.size ? lastCordon - first : undefined,
    noticeToCordonMs: summarize(latencies),
    pods: fates.length,
    podsEvicted: evicted.length,
    podsGone: gone.length,
    allEvictedMs:
      evicted.length === fates.length
        ? maxOf(evicted.map((f) => f.evictedAt ?? 0)) - first
        : undefined,
    allDrainedMs:
      gone.length === fates.length ? maxOf(gone.map((f) => f.goneAt ?? 0)) - first : undefined,
    evictedBeforeDeadline: evictedBefore,
    goneBeforeDeadline: goneBefore,
    evictedBeforeDeadlinePct: pct(evictedBefore),
    goneBeforeDeadlinePct: pct(goneBefore),
    latenciesMs: latencies,
  };
}

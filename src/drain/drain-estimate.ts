/**
 * How long drains would take, estimated before any notice comes: a small,
 * deterministic simulation of what the executor does with the planner's
 * plans. Pure; `nthd audit` and queue mode's audit metrics run it. The model
 * (also in docs/audit.md), in seconds from the notice:
 *
 * - node i of an interruption is cordoned at `startSeconds + i /
 *   cordonsPerSecond` and waits for one of `maxConcurrentDrains` slots;
 * - a drain lists the node's pods and the PDBs and opens a watch (3 requests),
 *   then runs the plan's waves in order; a wave ends when each of its pods is
 *   gone or has been refused once (executor.ts);
 * - each eviction attempt is one request through the client's token bucket
 *   (`qps`, `burst`), first come first served; cordons and node records take
 *   a token when one is there and never wait (rate-limit.ts);
 * - an eviction passes when the pod's PDB has headroom: its
 *   `status.disruptionsAllowed` when audited, minus evictions, plus
 *   replacements that became Ready. A refused one is retried after the
 *   executor's mean backoff until the deadline (evict.ts);
 * - an evicted pod takes its whole grace period to go (the worst case, a
 *   process that uses all of it), capped as `gracePeriodFor` caps it;
 * - a replacement is Ready `startupSeconds` after its controller creates it
 *   (at once, once the old pod is gone, or never: workload.ts);
 * - after its last pod a drain lists pods and PDBs again (2 requests),
 *   records its outcome on the node and frees its slot.
 *
 * Not modelled: API server latency, room for the replacements, pods that
 * stop before their grace period ends.
 */
import { MinHeap, tokenBucket } from "./simulated-time.ts";
import type { Replacement } from "./workload.ts";

/** The executor's retry backoff after a refused eviction (evict.ts uses it). */
export const EVICTION_BACKOFF = { initialMs: 500, maxMs: 10_000 } as const;

export interface EstimateModel {
  readonly noticeSeconds: number;
  readonly safetyMarginSeconds: number;
  /** Notice to the first node's cordon (delivery, receipt, the cordon's patch). */
  readonly startSeconds: number;
  /** Nodes cordoned per second after the first, when many are interrupted together. */
  readonly cordonsPerSecond: number;
  readonly maxConcurrentDrains: number;
  readonly qps: number;
  readonly burst: number;
}

export interface PodToEvict {
  /** "namespace/name". */
  readonly key: string;
  readonly wave: number;
  /** Key of the PDB covering the pod, if any. */
  readonly pdb?: string;
  /** The grace period the pod asks for (its own, or POD_TERMINATION_GRACE_PERIOD). */
  readonly wantedGraceSeconds: number;
  readonly replacement: Replacement;
  /** Creation to Ready of a replacement. */
  readonly startupSeconds: number;
}

export interface NodeToDrain {
  readonly name: string;
  /** The plan's evictions, in plan order. */
  readonly pods: readonly PodToEvict[];
  readonly waves: number;
}

/** clean: gone in time with its whole grace period; cut: gone in time, grace shortened; left: still there at the deadline. */
export type PodFate = "clean" | "cut" | "left";

export interface PodTimeline {
  readonly pod: PodToEvict;
  readonly node: string;
  fate: PodFate;
  evictedAt?: number;
  goneAt?: number;
  graceGivenSeconds?: number;
  attempts: number;
  /** When the pod's wave began. */
  waveAt?: number;
  /** Seconds its attempts waited for a token of the rate limiter. */
  waitedApi: number;
  /** Seconds from its first refusal by its PDB to its eviction (or the deadline). */
  waitedPdb: number;
}

export interface NodeTimeline {
  readonly name: string;
  readonly cordonAt: number;
  slotAt?: number;
  doneAt?: number;
  readonly pods: PodTimeline[];
}

export interface DrainEstimate {
  readonly nodes: readonly NodeTimeline[];
  /** API requests the drains would make (cordons and node records included). */
  readonly requests: number;
}

type Event =
  | { t: number; n: number; kind: "cordon" | "slot" | "finish"; node: NodeState }
  | { t: number; n: number; kind: "ask" | "attempt" | "gone"; pod: PodState }
  | { t: number; n: number; kind: "headroom"; pdb: string };
/** An event as scheduled: its time and order are added by `at`. */
type EventBody = Event extends infer E ? (E extends Event ? Omit<E, "t" | "n"> : never) : never;

interface NodeState {
  readonly plan: NodeToDrain;
  readonly out: NodeTimeline;
  readonly pods: PodState[];
  wave: number;
  /** Pods of the current wave that have neither gone nor been refused yet. */
  waveOpen: number;
  /** Pods whose task (eviction loop and wait for gone) has not ended. */
  running: number;
}

interface PodState {
  readonly node: NodeState;
  readonly out: PodTimeline;
  gated: boolean;
  askedAt: number;
  refusedAt?: number;
}

/** Mean wait before retry `attempt` (0-based), as evict.ts draws it: half the step plus up to half again. */
export function meanBackoffSeconds(attempt: number): number {
  const step = Math.min(
    EVICTION_BACKOFF.maxMs,
    EVICTION_BACKOFF.initialMs * 2 ** Math.min(attempt, 20),
  );
  return (0.75 * step) / 1000;
}

export function estimateDrains(
  nodes: readonly NodeToDrain[],
  headroom: ReadonlyMap<string, number>,
  m: EstimateModel,
): DrainEstimate {
  const deadline = m.noticeSeconds;
  const pdbLeft = new Map(headroom);
  const heap = new MinHeap<Event>((x, y) => x.t < y.t || (x.t === y.t && x.n < y.n));
  let seq = 0;
  const at = (t: number, e: EventBody) => heap.push({ ...e, t, n: seq++ } as Event);
  const bucket = tokenBucket(m.qps, m.burst);
  const slotQueue: NodeState[] = [];
  let freeSlots = m.maxConcurrentDrains;

  const states = nodes.map((plan, i): NodeState => {
    const out: NodeTimeline = {
      name: plan.name,
      cordonAt: m.startSeconds + i / m.cordonsPerSecond,
      pods: [],
    };
    const node: NodeState = { plan, out, pods: [], wave: -1, waveOpen: 0, running: 0 };
    for (const pod of plan.pods) {
      const timeline: PodTimeline = {
        pod,
        node: plan.name,
        fate: "left",
        attempts: 0,
        waitedApi: 0,
        waitedPdb: 0,
      };
      out.pods.push(timeline);
      node.pods.push({ node, out: timeline, gated: false, askedAt: 0 });
    }
    at(out.cordonAt, { kind: "cordon", node });
    return node;
  });

  const startWave = (node: NodeState, t: number): void => {
    // Waves without pods (none in practice) are skipped like empty ones.
    while (++node.wave < node.plan.waves) {
      const pods = node.pods.filter((p) => p.out.pod.wave === node.wave);
      if (pods.length === 0) continue;
      node.waveOpen = pods.length;
      for (const p of pods) {
        p.out.waveAt = t;
        at(t, { kind: "ask", pod: p });
      }
      return;
    }
    if (node.running === 0) at(t, { kind: "finish", node });
  };
  const ungate = (p: PodState, t: number): void => {
    if (p.gated) return;
    p.gated = true;
    if (--p.node.waveOpen === 0) startWave(p.node, t);
  };
  const endTask = (p: PodState, t: number): void => {
    ungate(p, t);
    if (--p.node.running === 0 && p.node.wave >= p.node.plan.waves) {
      at(t, { kind: "finish", node: p.node });
    }
  };
  const startDrain = (node: NodeState, t: number): void => {
    node.out.slotAt = t;
    node.running = node.pods.length;
    // Pod list, PDB list, pod watch: one after the other.
    const listed = bucket.take(bucket.take(bucket.take(t)));
    startWave(node, listed);
  };

  for (let e = heap.pop(); e !== undefined; e = heap.pop()) {
    const t = e.t;
    switch (e.kind) {
      case "cordon":
        bucket.tryTake(t);
        if (freeSlots > 0) {
          freeSlots--;
          startDrain(e.node, t);
        } else slotQueue.push(e.node);
        break;
      case "finish": {
        // Second pass (pods and PDBs listed again), then the node's outcome recorded.
        const done = bucket.take(bucket.take(t));
        bucket.tryTake(done);
        e.node.out.doneAt = done;
        at(done, { kind: "slot", node: e.node });
        break;
      }
      case "slot": {
        const next = slotQueue.shift();
        if (next) startDrain(next, t);
        else freeSlots++;
        break;
      }
      case "ask": {
        if (t >= deadline) {
          endTask(e.pod, t);
          break;
        }
        e.pod.askedAt = t;
        at(bucket.take(t), { kind: "attempt", pod: e.pod });
        break;
      }
      case "attempt":
        attempt(e.pod, t);
        break;
      case "gone":
        endTask(e.pod, t);
        break;
      case "headroom":
        pdbLeft.set(e.pdb, (pdbLeft.get(e.pdb) ?? 0) + 1);
        break;
      default: {
        const unhandled: never = e;
        throw new Error(`unknown event ${JSON.stringify(unhandled)}`);
      }
    }
  }

  function attempt(p: PodState, t: number): void {
    const o = p.out;
    o.waitedApi += t - p.askedAt;
    o.attempts++;
    const pdb = o.pod.pdb;
    if (pdb !== undefined && (pdbLeft.get(pdb) ?? 0) <= 0) {
      p.refusedAt ??= t;
      ungate(p, t);
      const retry = t + meanBackoffSeconds(o.attempts - 1);
      if (retry >= deadline) {
        o.waitedPdb = deadline - p.refusedAt;
        at(deadline, { kind: "ask", pod: p });
      } else at(retry, { kind: "ask", pod: p });
      return;
    }
    if (pdb !== undefined) pdbLeft.set(pdb, (pdbLeft.get(pdb) ?? 0) - 1);
    const left = Math.floor(deadline - t) - m.safetyMarginSeconds;
    const wanted = o.pod.wantedGraceSeconds;
    const given = wanted > left ? Math.max(1, left) : wanted;
    o.evictedAt = t;
    o.graceGivenSeconds = given;
    o.goneAt = t + given;
    o.waitedPdb = p.refusedAt === undefined ? 0 : t - p.refusedAt;
    o.fate = o.goneAt > deadline ? "left" : given < wanted ? "cut" : "clean";
    at(o.goneAt, { kind: "gone", pod: p });
    if (pdb === undefined) return;
    const startup = o.pod.startupSeconds;
    if (o.pod.replacement === "at-once") at(t + startup, { kind: "headroom", pdb });
    else if (o.pod.replacement === "after-gone") at(o.goneAt + startup, { kind: "headroom", pdb });
  }

  return { nodes: states.map((s) => s.out), requests: bucket.requests() };
}

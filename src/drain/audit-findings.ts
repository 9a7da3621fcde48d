/**
 * Why a drain would not finish in time, and what to change: each pod that
 * would be cut short, left behind or lost is put down to one cause, and
 * pods with the same cause and the same object (a PodDisruptionBudget, a
 * workload, a setting) are reported together with that object's fix. Like
 * the planner's skip reasons, every finding names what would change it. Pure.
 */
import type { V1Pod, V1PodDisruptionBudget } from "@kubernetes/client-node";
import type { DrainEstimate, EstimateModel, NodeTimeline, PodTimeline } from "./drain-estimate.ts";
import type { DrainPlan, PlanSettings } from "./planner.ts";
import { type Workload, workloadKey, workloadOf } from "./workload.ts";

export const BLOCKER_CODES = [
  "pdb-no-headroom",
  "pdb-too-slow",
  "grace-too-long",
  "waits-for-waves",
  "waits-for-slot",
  "waits-for-api",
  "unmanaged",
  "local-storage",
  "multiple-pdbs",
] as const;
export type BlockerCode = (typeof BLOCKER_CODES)[number];

export interface Blocker {
  readonly code: BlockerCode;
  /** What to change: "PodDisruptionBudget shop/db", "Deployment shop/api", "setting KUBE_API_QPS". */
  readonly object: string;
  /** The pods it concerns ("namespace/name"), sorted. */
  readonly pods: readonly string[];
  readonly detail: string;
  readonly fix: string;
}

export interface FindingContext {
  readonly model: EstimateModel;
  readonly settings: PlanSettings;
  readonly pdbs: ReadonlyMap<string, V1PodDisruptionBudget>;
  /** The audited pods, by "namespace/name". */
  readonly pods: ReadonlyMap<string, V1Pod>;
  /** Nodes interrupted together in this estimate (1: a node on its own). */
  readonly nodeCount: number;
  /** Pods of each PDB on the interrupted nodes. */
  readonly pdbPods: ReadonlyMap<string, number>;
}

interface Item {
  readonly pod: string;
  readonly timeline?: PodTimeline;
  /** Seconds its eviction waited, by cause, before its turn came. */
  readonly waits?: { readonly slot: number; readonly api: number; readonly waves: number };
}

const s = (seconds: number) => `${Math.round(seconds)} s`;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

export function findBlockers(
  plans: ReadonlyMap<string, DrainPlan>,
  estimate: DrainEstimate,
  ctx: FindingContext,
): Blocker[] {
  const groups = new Map<string, { code: BlockerCode; object: string; items: Item[] }>();
  const add = (code: BlockerCode, object: string, item: Item) => {
    const key = `${code}\u0000${object}`;
    const g = groups.get(key) ?? { code, object, items: [] };
    groups.set(key, g);
    g.items.push(item);
  };
  for (const plan of plans.values()) {
    for (const skip of plan.skipped) {
      const key = `${skip.pod.namespace}/${skip.pod.name}`;
      const w = workloadOfKey(ctx, key);
      if (skip.code === "unmanaged") add("unmanaged", objectOf(w), { pod: key });
      else if (skip.code === "local-storage") add("local-storage", objectOf(w), { pod: key });
      else if (skip.code === "multiple-pdbs") add("multiple-pdbs", objectOf(w), { pod: key });
    }
  }
  const fitsAlone = Math.floor(ctx.model.noticeSeconds - ctx.model.startSeconds);
  for (const node of estimate.nodes) {
    const firstWave = Math.min(...node.pods.map((p) => p.waveAt ?? Number.POSITIVE_INFINITY));
    for (const t of node.pods) {
      const w = workloadOfKey(ctx, t.pod.key);
      if (w.kind === "Pod") add("unmanaged", objectOf(w), { pod: t.pod.key, timeline: t });
      if (t.fate === "clean") continue;
      const waits = waitsOf(node, t, firstWave, ctx.model.noticeSeconds);
      const item = { pod: t.pod.key, timeline: t, waits };
      const pdb = t.pod.pdb;
      if (pdb !== undefined && (t.waitedPdb > 0 || (t.evictedAt === undefined && t.attempts > 0))) {
        const none = (ctx.pdbs.get(pdb)?.status?.disruptionsAllowed ?? 0) <= 0;
        add(none ? "pdb-no-headroom" : "pdb-too-slow", `PodDisruptionBudget ${pdb}`, item);
      } else if (t.pod.wantedGraceSeconds > fitsAlone - ctx.model.safetyMarginSeconds) {
        add("grace-too-long", objectOf(w), item);
      } else if (waits.slot >= waits.waves && waits.slot >= waits.api) {
        add("waits-for-slot", "setting NTHD_MAX_CONCURRENT_DRAINS", item);
      } else if (waits.api >= waits.waves) {
        add("waits-for-api", "setting KUBE_API_QPS", item);
      } else add("waits-for-waves", objectOf(w), item);
    }
  }
  return [...groups.values()]
    .map((g) => ({
      code: g.code,
      object: g.object,
      pods: [...new Set(g.items.map((i) => i.pod))].sort(),
      ...describe(g.code, g.object, g.items, ctx, estimate),
    }))
    .sort((a, b) => a.code.localeCompare(b.code) || a.object.localeCompare(b.object));
}

/** Where the time before a pod's eviction went: waiting for a slot, for the rate limiter, behind earlier waves. */
function waitsOf(node: NodeTimeline, t: PodTimeline, firstWave: number, deadline: number) {
  const slotAt = node.slotAt ?? deadline;
  const listed = Number.isFinite(firstWave) ? firstWave : deadline;
  return {
    slot: slotAt - node.cordonAt,
    api: t.waitedApi + Math.max(0, listed - slotAt),
    waves: Math.max(0, (t.waveAt ?? deadline) - listed),
  };
}

function workloadOfKey(ctx: FindingContext, key: string): Workload {
  const pod = ctx.pods.get(key);
  if (pod) return workloadOf(pod);
  const [namespace = "", name = ""] = key.split("/");
  return { namespace, kind: "Pod", name };
}

const objectOf = (w: Workload) => workloadKey(w);

function describe(
  code: BlockerCode,
  object: string,
  items: readonly Item[],
  ctx: FindingContext,
  estimate: DrainEstimate,
): { detail: string; fix: string } {
  const m = ctx.model;
  const timelines = items.flatMap((i) => (i.timeline ? [i.timeline] : []));
  const cut = timelines.filter((t) => t.fate === "cut").length;
  const left = timelines.filter((t) => t.fate === "left").length;
  const outcome = `${plural(cut, "pod")} cut short, ${left} still there at ${s(m.noticeSeconds)}`;
  const maxOf = (f: (t: PodTimeline) => number) => Math.max(0, ...timelines.map(f));
  const fitGrace = Math.floor(m.noticeSeconds - m.startSeconds) - m.safetyMarginSeconds;
  switch (code) {
    case "pdb-no-headroom":
    case "pdb-too-slow":
      return describePdb(code, object.slice("PodDisruptionBudget ".length), items, ctx, outcome);
    case "grace-too-long": {
      const wanted = maxOf((t) => t.pod.wantedGraceSeconds);
      const given = Math.min(...timelines.map((t) => t.graceGivenSeconds ?? 0));
      const fromSetting = ctx.settings.podTerminationGracePeriodSeconds >= 0;
      return {
        detail: `asks ${s(wanted)} to stop (${fromSetting ? "POD_TERMINATION_GRACE_PERIOD" : "terminationGracePeriodSeconds"}) but a ${s(m.noticeSeconds)} notice leaves ${s(Math.max(0, fitGrace))} after the ${s(m.safetyMarginSeconds)} safety margin: nthd cuts it to ${s(given)} (${outcome})`,
        fix: fromSetting
          ? `lower POD_TERMINATION_GRACE_PERIOD (${s(wanted)}) to at most ${s(fitGrace)}`
          : `set terminationGracePeriodSeconds to at most ${s(fitGrace)} on ${object}, or keep it off capacity that gets ${s(m.noticeSeconds)} notices (node affinity on karpenter.sh/capacity-type)`,
      };
    }
    case "waits-for-waves":
      return {
        detail: `lower-priority pods on the same node go first and use up to ${s(maxWait(items, "waves"))} of the notice before its turn (${outcome})`,
        fix: `shorten the grace periods of the lower-priority pods on the same node, or give ${object} a lower priority so it leaves in an earlier wave`,
      };
    case "waits-for-slot":
      return {
        detail: `their nodes waited up to ${s(maxWait(items, "slot"))} for one of ${m.maxConcurrentDrains} drain slots; a drain keeps its slot until its last pod is gone, or until the deadline while a PDB refuses (${outcome})`,
        fix: `raise NTHD_MAX_CONCURRENT_DRAINS to ${ctx.nodeCount} (one per node interrupted together), and fix the PodDisruptionBudgets that hold drains to the deadline`,
      };
    case "waits-for-api": {
      const rate = Math.ceil(estimate.requests / Math.max(1, m.noticeSeconds - m.startSeconds));
      return {
        detail: `their evictions waited up to ${s(maxWait(items, "api"))} for the client-side rate limit (${m.qps} requests/s, burst ${m.burst}); the drains need about ${estimate.requests} requests (${outcome})`,
        fix: `raise KUBE_API_QPS to about ${rate} and KUBE_API_BURST to match, so every request goes out within the notice`,
      };
    }
    case "unmanaged": {
      const keptOn = items.some((i) => i.timeline === undefined);
      return {
        detail: keptOn
          ? "no controller, and NTHD_EVICT_UNMANAGED_PODS=false leaves it on the node: it dies with the instance"
          : "no controller: once evicted, nothing recreates it",
        fix: "run it under a Deployment, StatefulSet or Job",
      };
    }
    case "local-storage": {
      const volumes = new Set(
        items.flatMap((i) =>
          (ctx.pods.get(i.pod)?.spec?.volumes ?? []).filter((v) => v.emptyDir).map((v) => v.name),
        ),
      );
      return {
        detail: `uses emptyDir (${[...volumes].join(", ")}) and DELETE_LOCAL_DATA=false leaves it on the node: it dies with the instance`,
        fix: "set DELETE_LOCAL_DATA=true (emptyDir data does not outlive its node anyway), or keep data worth saving on a PersistentVolume",
      };
    }
    case "multiple-pdbs":
      return {
        detail:
          "covered by more than one PodDisruptionBudget, which the Eviction API refuses (HTTP 500)",
        fix: "make the selectors of the PodDisruptionBudgets in its namespace match disjoint pods",
      };
    default: {
      const unhandled: never = code;
      return unhandled;
    }
  }
}

function maxWait(items: readonly Item[], cause: "slot" | "api" | "waves"): number {
  return Math.max(0, ...items.map((i) => i.waits?.[cause] ?? 0));
}

function describePdb(
  code: "pdb-no-headroom" | "pdb-too-slow",
  key: string,
  items: readonly Item[],
  ctx: FindingContext,
  outcome: string,
): { detail: string; fix: string } {
  const pdb = ctx.pdbs.get(key);
  const st = pdb?.status;
  const spec = pdb?.spec;
  const rule =
    spec?.maxUnavailable !== undefined
      ? `maxUnavailable ${spec.maxUnavailable}`
      : `minAvailable ${spec?.minAvailable ?? "?"}`;
  const healthy = `${st?.currentHealthy ?? 0} of ${st?.expectedPods ?? 0} pods healthy, ${st?.desiredHealthy ?? 0} required`;
  const allowed = st?.disruptionsAllowed ?? 0;
  const covered = ctx.pdbPods.get(key) ?? items.length;
  const where = ctx.nodeCount > 1 ? `the ${ctx.nodeCount} interrupted nodes` : "this node";
  if (code === "pdb-no-headroom") {
    const unhealthy = (st?.currentHealthy ?? 0) < (st?.expectedPods ?? 0);
    const zero = String(spec?.maxUnavailable ?? "").replace("%", "") === "0";
    const fix = zero
      ? "set maxUnavailable to 1 or more: at 0 no eviction is ever allowed"
      : unhealthy
        ? "make the unhealthy pods Ready (their disruptions use up the budget), or set unhealthyPodEvictionPolicy: AlwaysAllow"
        : `allow at least one disruption: lower minAvailable below ${st?.expectedPods ?? "the replica count"}, or add replicas`;
    return {
      detail: `allows 0 disruptions (${rule}; ${healthy}): ${plural(covered, "pod")} on ${where} would never be evicted (${outcome})`,
      fix,
    };
  }
  const first = items.find((i) => i.timeline)?.timeline;
  const w = first ? workloadOfKey(ctx, first.pod.key) : undefined;
  const afterGone = first?.pod.replacement === "after-gone";
  const round = first
    ? `${w ? workloadKey(w) : "its workload"} has a replacement Ready ${s(first.pod.startupSeconds)} after ${afterGone ? `the old pod is gone (${s(first.pod.wantedGraceSeconds)} grace)` : "the eviction"}`
    : "";
  const topology = ctx.nodeCount > 1 ? "zone" : "node";
  const key8s = ctx.nodeCount > 1 ? "topology.kubernetes.io/zone" : "kubernetes.io/hostname";
  return {
    detail: `allows ${allowed} disruption${allowed === 1 ? "" : "s"} at a time (${rule}) for ${plural(covered, "pod")} on ${where}; ${round}, so evictions wait for each other (${outcome})`,
    fix: `raise maxUnavailable to ${covered} (or lower minAvailable by ${Math.max(1, covered - allowed)}), or spread ${w ? workloadKey(w) : "the workload"} so fewer of its pods share a ${topology} (topologySpreadConstraints on ${key8s})${afterGone ? ", or shorten its terminationGracePeriodSeconds" : ""}`,
  };
}

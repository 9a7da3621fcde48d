/**
 * The drain audit: for every audited node, would its drain finish within a
 * notice of the given length, and if not, why and what to change; and for a
 * group of nodes interrupted together (every Spot node of a zone, say), what
 * the drains would do to each other. It runs the drain planner on each
 * node's pods exactly as a drain would, then the drain estimate
 * (drain-estimate.ts) and the findings (audit-findings.ts). Pure.
 */
import type { V1Pod, V1PodDisruptionBudget } from "@kubernetes/client-node";
import type { Pool } from "../observe/labels.ts";
import { type Blocker, findBlockers } from "./audit-findings.ts";
import { type AuditNode, type AuditSnapshot, pdbKeyOf, startupOf } from "./audit-snapshot.ts";
import {
  type DrainEstimate,
  type EstimateModel,
  estimateDrains,
  type NodeToDrain,
} from "./drain-estimate.ts";
import {
  DEFAULT_POD_GRACE_SECONDS,
  type DrainPlan,
  type PlanSettings,
  planDrain,
} from "./planner.ts";
import { poolOfLabels } from "./pool.ts";
import { replacementOf, workloadKey, workloadOf } from "./workload.ts";

/**
 * Defaults of the model's inputs that the cluster does not tell. Arrival:
 * queue mode cordoned 20 interrupted nodes in 2.1 s, 100 in 3.5 s and 1,000
 * in 45 s on the 2-core test ground (docs/benchmarks.md), about 25 a second
 * after the first couple of seconds. Start-up: used only for workloads none
 * of whose pods has a Ready condition to measure it from.
 */
export const AUDIT_DEFAULTS = { startSeconds: 2, cordonsPerSecond: 25, podStartupSeconds: 10 };

export interface AuditOptions {
  readonly noticeSeconds: number;
  readonly settings: PlanSettings;
  readonly model: Omit<EstimateModel, "noticeSeconds" | "safetyMarginSeconds">;
  /** A replacement's creation-to-Ready when its workload's pods do not tell. */
  readonly podStartupSeconds: number;
  readonly now: Date;
}

export type Verdict = "in-time" | "at-risk";

export interface PodCounts {
  /** Pods the drain would evict, and pods it would leave alone. */
  readonly evict: number;
  readonly skip: number;
  /** Evicted pods gone in time with their whole grace period, with a shortened one, or not in time. */
  readonly clean: number;
  readonly cut: number;
  readonly left: number;
}

export interface NodeVerdict {
  readonly node: string;
  readonly pool: Pool;
  readonly verdict: Verdict;
  /** Notice to its last pod gone; undefined when a pod would still be there at the deadline. */
  readonly drainedSeconds: number | undefined;
  readonly pods: PodCounts;
  readonly blockers: readonly Blocker[];
}

/** Which nodes an estimate interrupts together. */
export const TOGETHER_SCOPES = ["spot-zone", "zone", "all"] as const;
export type TogetherScope = (typeof TOGETHER_SCOPES)[number];

export interface TogetherEstimate {
  readonly scope: TogetherScope;
  /** The zone, unless every audited node is interrupted. */
  readonly zone: string | undefined;
  readonly nodes: readonly string[];
  readonly nodesInTime: number;
  readonly pods: PodCounts;
  readonly drainedSeconds: number | undefined;
  readonly lastEvictionSeconds: number | undefined;
  readonly requests: number;
  readonly blockers: readonly Blocker[];
  readonly workloadsLosingAll: readonly { readonly workload: string; readonly replicas: number }[];
}

/** Lookups shared by every node's audit, built once per snapshot. */
export interface Prepared {
  readonly snapshot: AuditSnapshot;
  readonly options: AuditOptions;
  readonly model: EstimateModel;
  readonly pdbs: ReadonlyMap<string, V1PodDisruptionBudget>;
  readonly headroom: ReadonlyMap<string, number>;
  readonly startups: Map<string, number>;
  /** PDBs by namespace: the planner then matches each pod against its own namespace's only. */
  readonly pdbsByNamespace: ReadonlyMap<string, readonly V1PodDisruptionBudget[]>;
}

export function prepareAudit(snapshot: AuditSnapshot, options: AuditOptions): Prepared {
  const pdbs = new Map(snapshot.pdbs.map((p) => [pdbKeyOf(p), p]));
  const pdbsByNamespace = new Map<string, V1PodDisruptionBudget[]>();
  for (const pdb of snapshot.pdbs) {
    const ns = pdb.metadata?.namespace ?? "";
    pdbsByNamespace.set(ns, [...(pdbsByNamespace.get(ns) ?? []), pdb]);
  }
  return {
    pdbsByNamespace,
    snapshot,
    options,
    model: {
      ...options.model,
      noticeSeconds: options.noticeSeconds,
      safetyMarginSeconds: options.settings.deadlineSafetyMarginSeconds,
    },
    pdbs,
    headroom: new Map([...pdbs].map(([k, p]) => [k, p.status?.disruptionsAllowed ?? 0])),
    startups: new Map(),
  };
}

interface Planned {
  readonly plans: Map<string, DrainPlan>;
  readonly drains: NodeToDrain[];
  readonly pods: Map<string, V1Pod>;
}

function plan(p: Prepared, nodes: readonly string[]): Planned {
  const { options } = p;
  const deadline = new Date(options.now.getTime() + options.noticeSeconds * 1000);
  const out: Planned = { plans: new Map(), drains: [], pods: new Map() };
  for (const name of nodes) {
    const pods = p.snapshot.podsByNode.get(name) ?? [];
    for (const pod of pods) out.pods.set(keyOf(pod), pod);
    const namespaces = new Set(pods.map((pod) => pod.metadata?.namespace ?? ""));
    const drainPlan = planDrain({
      pods,
      pdbs: [...namespaces].flatMap((ns) => p.pdbsByNamespace.get(ns) ?? []),
      now: options.now,
      deadline,
      settings: options.settings,
    });
    out.plans.set(name, drainPlan);
    out.drains.push({
      name,
      waves: drainPlan.waves,
      pods: drainPlan.evictions.map((e) => {
        const key = `${e.pod.namespace}/${e.pod.name}`;
        const pod = out.pods.get(key);
        const workload = pod ? workloadOf(pod) : { namespace: "", kind: "Pod", name: "" };
        return {
          key,
          wave: e.wave,
          ...(e.pdb !== undefined ? { pdb: e.pdb } : {}),
          wantedGraceSeconds:
            options.settings.podTerminationGracePeriodSeconds >= 0
              ? options.settings.podTerminationGracePeriodSeconds
              : (pod?.spec?.terminationGracePeriodSeconds ?? DEFAULT_POD_GRACE_SECONDS),
          replacement: replacementOf(workload),
          startupSeconds: startupFor(p, workloadKey(workload)),
        };
      }),
    });
  }
  return out;
}

function startupFor(p: Prepared, key: string): number {
  let s = p.startups.get(key);
  if (s === undefined) {
    s = startupOf(p.snapshot.workloads.get(key), p.options.podStartupSeconds);
    p.startups.set(key, s);
  }
  return s;
}

function run(p: Prepared, nodes: readonly string[]) {
  const planned = plan(p, nodes);
  const estimate = estimateDrains(planned.drains, p.headroom, p.model);
  const pdbPods = new Map<string, number>();
  for (const d of planned.drains)
    for (const pod of d.pods) if (pod.pdb) pdbPods.set(pod.pdb, (pdbPods.get(pod.pdb) ?? 0) + 1);
  const blockers = findBlockers(planned.plans, estimate, {
    model: p.model,
    settings: p.options.settings,
    pdbs: p.pdbs,
    pods: planned.pods,
    nodeCount: nodes.length,
    pdbPods,
  });
  return { planned, estimate, blockers };
}

function countPods(plans: Iterable<DrainPlan>, estimate: DrainEstimate): PodCounts {
  let evict = 0;
  let skip = 0;
  for (const pl of plans) {
    evict += pl.evictions.length;
    skip += pl.skipped.length;
  }
  const fates = estimate.nodes.flatMap((n) => n.pods.map((t) => t.fate));
  const count = (f: string) => fates.filter((x) => x === f).length;
  return { evict, skip, clean: count("clean"), cut: count("cut"), left: count("left") };
}

/** Skips that leave a pod on the node: the node is never empty. */
const STAYS: ReadonlySet<string> = new Set(["unmanaged", "local-storage", "multiple-pdbs"]);

/** Seconds until the last pod is gone, or undefined when one stays past the deadline. */
function drainedAfter(p: Prepared, estimate: DrainEstimate, plans: Iterable<DrainPlan>) {
  const timelines = estimate.nodes.flatMap((n) => n.pods);
  if (timelines.some((t) => t.fate === "left")) return undefined;
  for (const pl of plans) if (pl.skipped.some((sk) => STAYS.has(sk.code))) return undefined;
  return Math.max(p.model.startSeconds, ...timelines.map((t) => t.goneAt ?? 0));
}

/** One node on its own: the notice reaches only it. */
export function auditNode(p: Prepared, node: AuditNode): NodeVerdict {
  const { planned, estimate, blockers } = run(p, [node.name]);
  return {
    node: node.name,
    pool: poolOfLabels(node.labels),
    verdict: blockers.length === 0 ? "in-time" : "at-risk",
    drainedSeconds: drainedAfter(p, estimate, planned.plans.values()),
    pods: countPods(planned.plans.values(), estimate),
    blockers,
  };
}

/** The groups of audited nodes a scope interrupts together, largest first. */
export function togetherGroups(
  nodes: readonly AuditNode[],
  scope: TogetherScope,
  zone?: string,
): { zone: string | undefined; nodes: string[] }[] {
  if (scope === "all") return [{ zone: undefined, nodes: nodes.map((n) => n.name).sort() }];
  const byZone = new Map<string, string[]>();
  for (const n of nodes) {
    const pool = poolOfLabels(n.labels);
    if (scope === "spot-zone" && pool.capacityType !== "spot") continue;
    const z = pool.availabilityZone ?? "unknown";
    if (zone !== undefined && z !== zone) continue;
    byZone.set(z, [...(byZone.get(z) ?? []), n.name]);
  }
  return [...byZone]
    .map(([z, names]) => ({ zone: z, nodes: names.sort() }))
    .sort((a, b) => b.nodes.length - a.nodes.length || a.zone.localeCompare(b.zone));
}

/** The nodes of one group interrupted at once, sharing PDB headroom, drain slots and the API budget. */
export function auditTogether(
  p: Prepared,
  scope: TogetherScope,
  group: { zone: string | undefined; nodes: readonly string[] },
): TogetherEstimate {
  const { planned, estimate, blockers } = run(p, group.nodes);
  const blocked = new Set(blockers.flatMap((b) => b.pods));
  const inTime = group.nodes.filter(
    (n) => !(p.snapshot.podsByNode.get(n) ?? []).some((pod) => blocked.has(keyOf(pod))),
  ).length;
  const evicted = estimate.nodes.flatMap((n) => n.pods.flatMap((t) => t.evictedAt ?? []));
  const interrupted = new Set(group.nodes);
  const losing = [...p.snapshot.workloads.values()]
    .filter((w) => w.workload.kind !== "Pod" && w.workload.kind !== "DaemonSet" && w.running > 0)
    .map((w) => ({
      workload: workloadKey(w.workload),
      replicas: w.running,
      here: [...w.onNodes].reduce((sum, [n, c]) => sum + (interrupted.has(n) ? c : 0), 0),
    }))
    .filter((w) => w.here === w.replicas)
    .map(({ workload, replicas }) => ({ workload, replicas }))
    .sort((a, b) => a.workload.localeCompare(b.workload));
  return {
    scope,
    zone: group.zone,
    nodes: group.nodes,
    nodesInTime: inTime,
    pods: countPods(planned.plans.values(), estimate),
    drainedSeconds: drainedAfter(p, estimate, planned.plans.values()),
    lastEvictionSeconds: evicted.length > 0 ? Math.max(...evicted) : undefined,
    requests: estimate.requests,
    blockers,
    workloadsLosingAll: losing,
  };
}

const keyOf = (pod: V1Pod) => `${pod.metadata?.namespace}/${pod.metadata?.name}`;

/** The group whose interruption would hurt most: most pods cut short or left, then most blockers, then most nodes. */
export function worstTogether(
  p: Prepared,
  scope: TogetherScope,
  zone?: string,
): TogetherEstimate | undefined {
  // Pods hurt first, blockers break ties (no zone has a million of them); groups
  // come largest first and a tie keeps the earlier one.
  const harm = (x: TogetherEstimate) => (x.pods.cut + x.pods.left) * 1e6 + x.blockers.length;
  let worst: TogetherEstimate | undefined;
  for (const group of togetherGroups(p.snapshot.nodes, scope, zone)) {
    const e = auditTogether(p, scope, group);
    if (!worst || harm(e) > harm(worst)) worst = e;
  }
  return worst;
}

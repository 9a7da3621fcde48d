/**
 * The audit's result as one document: what `--json` prints (every field is
 * described in docs/audit.md) and what the table is drawn from. Seconds are
 * counted from the notice and rounded to a tenth; `null` means "not within
 * the notice" for a time and "none" for an optional object.
 */
import type { Config } from "../../config/index.ts";
import type { NodeVerdict, PodCounts, TogetherEstimate } from "../../drain/audit.ts";
import type { Blocker } from "../../drain/audit-findings.ts";
import type { AuditSnapshot } from "../../drain/audit-snapshot.ts";
import type { NoticeKind } from "../../notice.ts";

export interface AuditReport {
  readonly notice: { kind: NoticeKind; seconds: number; safetyMarginSeconds: number };
  readonly settings: {
    deleteLocalData: boolean;
    evictUnmanagedPods: boolean;
    ignoreDaemonSets: boolean;
    podTerminationGracePeriodSeconds: number;
    maxConcurrentDrains: number;
    kubeApiQps: number;
    kubeApiBurst: number;
  };
  readonly model: { startSeconds: number; cordonsPerSecond: number; podStartupSeconds: number };
  readonly cluster: { selector: string; nodes: number; pods: number; podDisruptionBudgets: number };
  readonly summary: { nodes: number; inTime: number; atRisk: number };
  readonly nodes: readonly NodeEntry[];
  readonly together: TogetherEntry | null;
}

export interface NodeEntry {
  readonly name: string;
  readonly zone: string | null;
  readonly capacityType: string;
  readonly instanceType: string | null;
  readonly verdict: NodeVerdict["verdict"];
  readonly drainedSeconds: number | null;
  readonly pods: PodCounts;
  readonly blockers: readonly Blocker[];
}

export interface TogetherEntry {
  readonly scope: TogetherEstimate["scope"];
  readonly zone: string | null;
  readonly nodes: readonly string[];
  readonly nodesInTime: number;
  readonly pods: PodCounts;
  readonly drainedSeconds: number | null;
  readonly lastEvictionSeconds: number | null;
  readonly apiRequests: number;
  readonly blockingPodDisruptionBudgets: readonly {
    name: string;
    code: string;
    pods: number;
    fix: string;
  }[];
  readonly workloadsLosingAllReplicas: readonly { workload: string; replicas: number }[];
  readonly blockers: readonly Blocker[];
}

const tenth = (s: number | undefined) => (s === undefined ? null : Math.round(s * 10) / 10);

export function buildReport(a: {
  kind: NoticeKind;
  noticeSeconds: number;
  config: Config;
  model: AuditReport["model"];
  selector: string;
  snapshot: AuditSnapshot;
  verdicts: readonly NodeVerdict[];
  together: TogetherEstimate | undefined;
}): AuditReport {
  const c = a.config;
  const atRisk = a.verdicts.filter((v) => v.verdict === "at-risk").length;
  return {
    notice: {
      kind: a.kind,
      seconds: a.noticeSeconds,
      safetyMarginSeconds: c.deadlineSafetyMarginSeconds,
    },
    settings: {
      deleteLocalData: c.deleteLocalData,
      evictUnmanagedPods: c.evictUnmanagedPods,
      ignoreDaemonSets: c.ignoreDaemonSets,
      podTerminationGracePeriodSeconds: c.podTerminationGracePeriodSeconds,
      maxConcurrentDrains: c.maxConcurrentDrains,
      kubeApiQps: c.kubeApiQps,
      kubeApiBurst: c.kubeApiBurst,
    },
    model: a.model,
    cluster: {
      selector: a.selector,
      nodes: a.snapshot.nodes.length,
      pods: a.snapshot.podsListed,
      podDisruptionBudgets: a.snapshot.pdbs.length,
    },
    summary: { nodes: a.verdicts.length, inTime: a.verdicts.length - atRisk, atRisk },
    nodes: a.verdicts.map((v) => ({
      name: v.node,
      zone: v.pool.availabilityZone ?? null,
      capacityType: v.pool.capacityType ?? "unknown",
      instanceType: v.pool.instanceType ?? null,
      verdict: v.verdict,
      drainedSeconds: tenth(v.drainedSeconds),
      pods: v.pods,
      blockers: v.blockers,
    })),
    together: a.together ? togetherEntry(a.together) : null,
  };
}

function togetherEntry(t: TogetherEstimate): TogetherEntry {
  return {
    scope: t.scope,
    zone: t.zone ?? null,
    nodes: t.nodes,
    nodesInTime: t.nodesInTime,
    pods: t.pods,
    drainedSeconds: tenth(t.drainedSeconds),
    lastEvictionSeconds: tenth(t.lastEvictionSeconds),
    apiRequests: t.requests,
    blockingPodDisruptionBudgets: t.blockers
      .filter((b) => b.code === "pdb-no-headroom" || b.code === "pdb-too-slow")
      .map((b) => ({
        name: b.object.replace(/^PodDisruptionBudget /, ""),
        code: b.code,
        pods: b.pods.length,
        fix: b.fix,
      })),
    workloadsLosingAllReplicas: t.workloadsLosingAll,
    blockers: t.blockers,
  };
}

/**
 * The audit report as text for a terminal: one row per node, then each
 * blocker with its fix, then the estimate for nodes interrupted together.
 */
import type { Blocker } from "../../drain/audit-findings.ts";
import type { AuditReport, TogetherEntry } from "./report.ts";

const secs = (s: number | null) => (s === null ? "never" : `${Math.round(s)} s`);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

function columns(rows: readonly (readonly string[])[]): string[] {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
}

function blockerLines(blockers: readonly Blocker[], indent: string): string[] {
  const lines: string[] = [];
  for (const b of blockers) {
    lines.push(`${indent}${b.code}: ${b.object}`);
    lines.push(`${indent}  ${b.detail}`);
    const pods =
      b.pods.length > 6 ? [...b.pods.slice(0, 6), `and ${b.pods.length - 6} more`] : b.pods;
    lines.push(`${indent}  pods: ${pods.join(", ")}`);
    lines.push(`${indent}  fix:  ${b.fix}`);
  }
  return lines;
}

function scopeText(t: TogetherEntry): string {
  if (t.scope === "all") return "every audited node";
  return `every ${t.scope === "spot-zone" ? "Spot " : ""}node of zone ${t.zone}`;
}

export function renderTable(r: AuditReport): string {
  const out: string[] = [];
  out.push(
    `nthd audit: ${r.notice.kind} notice of ${r.notice.seconds} s (${r.notice.safetyMarginSeconds} s safety margin); ${plural(r.cluster.nodes, "node")}${r.cluster.selector ? ` matching ${r.cluster.selector}` : ""}, ${plural(r.cluster.pods, "pod")} listed, ${plural(r.cluster.podDisruptionBudgets, "PodDisruptionBudget")}`,
    "",
  );
  const rows = [["NODE", "ZONE", "CAPACITY", "EVICT", "SKIP", "VERDICT", "DRAINED", "BLOCKERS"]];
  for (const n of r.nodes) {
    rows.push([
      n.name,
      n.zone ?? "-",
      n.capacityType,
      String(n.pods.evict),
      String(n.pods.skip),
      n.verdict === "in-time" ? "in time" : "AT RISK",
      secs(n.drainedSeconds),
      n.blockers.length === 0 ? "-" : [...new Set(n.blockers.map((b) => b.code))].join(", "),
    ]);
  }
  out.push(...columns(rows));
  const risky = r.nodes.filter((n) => n.blockers.length > 0);
  if (risky.length > 0) {
    out.push("", "Blockers, and what to change:");
    for (const n of risky) out.push(`  ${n.name}`, ...blockerLines(n.blockers, "    "));
  }
  out.push("");
  const t = r.together;
  if (t === null) {
    out.push(
      "Interrupted together: no node in scope (no Spot capacity label among the audited nodes; try --together zone or all).",
    );
  } else {
    out.push(
      `Interrupted together: ${scopeText(t)} (${plural(t.nodes.length, "node")}, ${plural(t.pods.evict, "pod")} to evict), ${r.settings.maxConcurrentDrains} drain slots, ${r.settings.kubeApiQps} requests/s (burst ${r.settings.kubeApiBurst}):`,
    );
    const left =
      t.pods.left > 0 ? `: ${plural(t.pods.left, "pod")} still there at ${r.notice.seconds} s` : "";
    out.push(
      ...columns([
        [
          "  all drained after",
          `${secs(t.drainedSeconds)}${t.drainedSeconds === null ? left : ""}`,
        ],
        ["  last eviction", secs(t.lastEvictionSeconds)],
        [
          "  pods",
          `${t.pods.clean} gone with their whole grace period, ${t.pods.cut} cut short, ${t.pods.left} left`,
        ],
        ["  nodes in time", `${t.nodesInTime} of ${t.nodes.length}`],
        ["  API requests", `about ${t.apiRequests}`],
        [
          "  PDBs that block",
          t.blockingPodDisruptionBudgets
            .map((p) => `${p.name} (${p.code}, ${plural(p.pods, "pod")})`)
            .join(", ") || "none",
        ],
        [
          "  lose every replica",
          t.workloadsLosingAllReplicas.map((w) => `${w.workload} (${w.replicas})`).join(", ") ||
            "none",
        ],
      ]),
    );
    if (t.blockers.length > 0) out.push("  Blockers:", ...blockerLines(t.blockers, "    "));
  }
  out.push(
    "",
    r.summary.atRisk === 0
      ? `Every audited node drains within the ${r.notice.seconds} s notice.`
      : `${r.summary.atRisk} of ${r.summary.nodes} nodes would not drain in time.`,
  );
  return `${out.join("\n")}\n`;
}

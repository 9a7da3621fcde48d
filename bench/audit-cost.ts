// What one drain audit costs at a given cluster size, without a cluster: a
// synthetic cluster (default 1,000 nodes, 10,000 pods of about 4 KiB of JSON
// each, as the API server returns them with managed fields) served page by
// page (made on demand, never held together) through the same reader the audit uses (pages of 500
// parsed from JSON text, slimmed as they arrive), then the per-node verdicts
// and the Spot-zone estimates. Prints CPU and wall time per phase, the heap the
// kept snapshot holds and the process's peak RSS, and the API requests one
// audit makes. The API server's own time to serve the pages is not included.
// Usage: node --expose-gc bench/audit-cost.ts [--nodes 1000] [--pods-per-node 10]
//        [--replicas 50] [--pod-bytes 4000] [--runs 5] [--page-sizes 500,100] [--no-write]
// 500 is what nthd asks for (client-go's pager default); 100 shows whether smaller pages help.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { V1Node } from "@kubernetes/client-node";
import {
  AUDIT_DEFAULTS,
  auditNode,
  auditTogether,
  prepareAudit,
  togetherGroups,
} from "../src/drain/audit.ts";
import { readAuditSnapshot } from "../src/drain/audit-read.ts";
import { slimNode } from "../src/drain/audit-snapshot.ts";
import type { Page, PageOptions } from "../src/kube/client.ts";
import { syntheticCluster } from "../test/support/audit-cluster.ts";
import { machineFacts, machineLine, writeResults } from "./lib/results.ts";
import { summarize } from "./lib/stats.ts";
import { fmt, markdownTable, mib } from "./lib/table.ts";

const USAGE =
  "usage: node --expose-gc bench/audit-cost.ts [--nodes N] [--pods-per-node P] [--replicas R] [--pod-bytes B] [--runs K] [--page-sizes 500,100] [--no-write]";
const { values } = parseArgs({
  options: {
    nodes: { type: "string", default: "1000" },
    "pods-per-node": { type: "string", default: "10" },
    replicas: { type: "string", default: "50" },
    "pod-bytes": { type: "string", default: "4000" },
    runs: { type: "string", default: "5" },
    "page-sizes": { type: "string", default: "500,100" },
    child: { type: "boolean", default: false },
    "page-size": { type: "string", default: "500" },
    "no-write": { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  process.stderr.write(`run with --expose-gc\n${USAGE}\n`);
  process.exit(2);
}
const nodes = Number(values.nodes);
const podsPerNode = Number(values["pods-per-node"]);
const runs = Number(values.runs);
const podBytes = Number(values["pod-bytes"]);
const cluster = syntheticCluster({
  nodes,
  podsPerNode,
  replicas: Number(values.replicas),
  podBytes,
});
const rawPodBytes = JSON.stringify(cluster.podAt(0)).length;

/**
 * Serves the synthetic cluster as the API server would: JSON text, one page
 * per request. The pages' text is rendered before measuring (it stands for
 * bytes arriving on the socket), so the figures count what the audit does
 * with it (parse, slim, keep), not how the bench made it.
 */
function fakeApi(pageSize: number) {
  const pages = new Map<string, string[]>();
  const render = (resource: string, total: number, item: (i: number) => unknown) => {
    const texts: string[] = [];
    for (let from = 0; from < total; from += pageSize) {
      const items: unknown[] = [];
      for (let i = from; i < Math.min(total, from + pageSize); i++) items.push(item(i));
      const to = Math.min(total, from + pageSize);
      texts.push(
        JSON.stringify({
          metadata: {
            ...(to < total ? { continue: String(to) } : {}),
            remainingItemCount: total - to,
          },
          items,
        }),
      );
    }
    pages.set(resource, texts);
  };
  render("pods", cluster.podCount, cluster.podAt);
  render("poddisruptionbudgets", cluster.pdbs.length, (i) => cluster.pdbs[i]);
  let requests = 0;
  return {
    requests: () => requests,
    async listPage<T>(resource: string, o: PageOptions): Promise<Page<T>> {
      requests++;
      const index = o.continue === undefined ? 0 : Math.ceil(Number(o.continue) / pageSize);
      const text = pages.get(resource)?.[index] ?? '{"items":[]}';
      // Parsed from text, as the client parses the API server's answer.
      const list = JSON.parse(text) as {
        items: T[];
        metadata?: { continue?: string; remainingItemCount?: number };
      };
      return {
        items: list.items,
        continue: list.metadata?.continue,
        remaining: list.metadata?.remainingItemCount,
      };
    },
  };
}

function cpuMs(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
}

interface Run {
  readMs: number;
  readCpuMs: number;
  nodesMs: number;
  zonesMs: number;
  totalCpuMs: number;
  snapshotHeapBytes: number;
  requests: number;
  atRisk: number;
  zonePodsLate: number;
}

async function oneRun(api: ReturnType<typeof fakeApi>, pageSize: number): Promise<Run> {
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const snapshot = await readAuditSnapshot(api, {
    nodes: (cluster.nodes as V1Node[]).map(slimNode),
    lane: "normal",
    pageSize,
  });
  const readMs = performance.now() - t0;
  const readCpuMs = cpuMs(cpu0);
  gc?.();
  const snapshotHeapBytes = process.memoryUsage().heapUsed - heapBefore;
  const prepared = prepareAudit(snapshot, {
    noticeSeconds: 120,
    settings: {
      ignoreDaemonSets: true,
      deleteLocalData: true,
      evictUnmanagedPods: true,
      podName: "",
      podNamespace: "",
      podTerminationGracePeriodSeconds: -1,
      deadlineSafetyMarginSeconds: 10,
    },
    model: {
      startSeconds: AUDIT_DEFAULTS.startSeconds,
      cordonsPerSecond: AUDIT_DEFAULTS.cordonsPerSecond,
      maxConcurrentDrains: 100,
      qps: 50,
      burst: 100,
    },
    podStartupSeconds: AUDIT_DEFAULTS.podStartupSeconds,
    now: new Date(),
  });
  const t1 = performance.now();
  let atRisk = 0;
  for (const n of snapshot.nodes) if (auditNode(prepared, n).verdict === "at-risk") atRisk++;
  const nodesMs = performance.now() - t1;
  const t2 = performance.now();
  let zonePodsLate = 0;
  for (const g of togetherGroups(snapshot.nodes, "spot-zone")) {
    const z = auditTogether(prepared, "spot-zone", g);
    zonePodsLate += z.pods.cut + z.pods.left;
  }
  const zonesMs = performance.now() - t2;
  return {
    readMs,
    readCpuMs,
    nodesMs,
    zonesMs,
    totalCpuMs: cpuMs(cpu0),
    snapshotHeapBytes,
    requests: api.requests(),
    atRisk,
    zonePodsLate,
  };
}

interface ChildResult {
  readonly pageSize: number;
  readonly runs: Run[];
  /** The process's peak RSS above its RSS before the first audit (nothing else runs). */
  readonly peakRssGrowthBytes: number;
  readonly rssBeforeBytes: number;
}

// Each page size runs in a process of its own: peak RSS is per process.
if (values.child) {
  const pageSize = Number(values["page-size"]);
  const api = fakeApi(pageSize);
  gc?.();
  const rssBefore = process.memoryUsage().rss;
  const results: Run[] = [];
  for (let i = 0; i < runs; i++) results.push(await oneRun(api, pageSize));
  const out: ChildResult = {
    pageSize,
    runs: results,
    peakRssGrowthBytes: process.resourceUsage().maxRSS * 1024 - rssBefore,
    rssBeforeBytes: rssBefore,
  };
  process.stdout.write(JSON.stringify(out));
  process.exit(0);
}

process.stderr.write(
  `[audit-cost] ${nodes} nodes, ${cluster.podCount} pods of ${rawPodBytes} bytes, ${cluster.pdbs.length} PDBs, ${runs} runs per page size\n`,
);
const children: ChildResult[] = [];
for (const size of String(values["page-sizes"]).split(",").map(Number)) {
  const args = process.argv.slice(2).filter((a) => !a.startsWith("--page-size"));
  const child = spawnSync(
    process.execPath,
    ["--expose-gc", fileURLToPath(import.meta.url), ...args, "--child", `--page-size=${size}`],
    { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, stdio: ["ignore", "pipe", "inherit"] },
  );
  if (child.status !== 0) throw new Error(`page size ${size}: child exited ${child.status}`);
  children.push(JSON.parse(child.stdout) as ChildResult);
}
const table = markdownTable(
  [
    "page",
    "nodes",
    "pods",
    "parse+slim (wall / CPU)",
    "verdicts, all nodes",
    "Spot-zone estimates",
    "CPU per audit",
    "snapshot heap",
    "peak RSS above start",
    "API requests",
  ],
  children.map((c) => {
    const med = (f: (r: Run) => number) => summarize(c.runs.map(f)).p50;
    return [
      c.pageSize,
      nodes,
      cluster.podCount,
      `${fmt(
        med((r) => r.readMs),
        0,
        " ms",
      )} / ${fmt(
        med((r) => r.readCpuMs),
        0,
        " ms",
      )}`,
      fmt(
        med((r) => r.nodesMs),
        0,
        " ms",
      ),
      fmt(
        med((r) => r.zonesMs),
        0,
        " ms",
      ),
      fmt(
        med((r) => r.totalCpuMs),
        0,
        " ms",
      ),
      mib(med((r) => r.snapshotHeapBytes)),
      mib(c.peakRssGrowthBytes),
      String(c.runs[0]?.requests),
    ];
  }),
);
const first = children[0]?.runs[0];
const machine = machineFacts();
process.stdout.write(
  `\n## audit-cost (median of ${runs} runs per page size, each size in its own process)\n\n${table}\n\n`,
);
process.stdout.write(
  `Findings per run: ${first?.atRisk} nodes at risk, ${first?.zonePodsLate} pods late over the Spot-zone estimates. RSS before the first audit ${mib(children[0]?.rssBeforeBytes)} (Node, the modules, the synthetic cluster and its pages as JSON text).\nMachine: ${machineLine(machine)}\n`,
);
if (!values["no-write"]) {
  const path = writeResults("audit-cost", { machine, options: values, rawPodBytes, children });
  process.stdout.write(`Results: ${path}\n`);
}

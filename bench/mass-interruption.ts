// Queue mode under a mass interruption: N kwok nodes (EC2 instances on moto)
// with P pods each across Deployments with PDBs, and one Spot interruption
// warning per node put on the queue at once. Measured from outside the
// handler: time to all cordoned, notice-to-cordon per node, time to all
// drained, pods evicted inside the 2-minute notice, API requests made, peak
// RSS and CPU. Notice time = when the message was sent.
// Usage: node bench/mass-interruption.ts [--nodes 100] [--pods-per-node 10]
//        [--replicas 50] [--grace 5] [--timeout-seconds 300] [--handlers nthd,nth]
//        [--cgroup-limit 256Mi|chart] [--source] [--no-write]
// --cgroup-limit runs nthd inside a real memory cgroup with that limit ("chart":
// the chart's default for queue mode) and reports peak charged memory and
// OOM kills (needs root; see bench/lib/cgroup.ts).
import {
  diffCounts,
  handlerRequestCounts,
  handlerRequestKinds,
  type RequestCounts,
} from "./lib/apiserver-metrics.ts";
import { benchArgs, intOption } from "./lib/args.ts";
import { awsClients, createQueue, deleteQueue, sendSpotWarnings } from "./lib/aws.ts";
import {
  type CgroupFigures,
  cgroupVersion,
  createMemoryCgroup,
  type MemoryCgroup,
} from "./lib/cgroup.ts";
import { cgroupLimitOption } from "./lib/chart-limits.ts";
import {
  createDeployment,
  createNamespace,
  createPdb,
  deleteNamespaceAndWait,
  deleteNodes,
  waitPdbsSettled,
  waitPodsReady,
} from "./lib/cluster.ts";
import { type CpuShare, cpuShare, cpuSnapshot } from "./lib/cpu-share.ts";
import { createInstanceNodes, createSpareNodes } from "./lib/fleet.ts";
import { pollUntil, sleep } from "./lib/ground.ts";
import { type HandlerName, launchHandler, type RunningHandler } from "./lib/handlers.ts";
import { type InterruptionOutcome, interruptionOutcome } from "./lib/outcome.ts";
import { cdfSvg } from "./lib/plot.ts";
import { writeArtifact } from "./lib/results.ts";
import { benchSession } from "./lib/session.ts";
import { type Cell, fmt, markdownTable, mib, ms, pct, seconds } from "./lib/table.ts";
import { watchCordons, watchPods } from "./lib/watch.ts";

const USAGE =
  "usage: node bench/mass-interruption.ts [--nodes N] [--pods-per-node P] [--replicas R] [--grace S] [--timeout-seconds T] [--handlers nthd,nth] [--source] [--no-write]";
const values = benchArgs(USAGE, {
  nodes: { type: "string", default: "100" },
  "pods-per-node": { type: "string", default: "10" },
  replicas: { type: "string", default: "50" },
  grace: { type: "string", default: "5" },
  "pdb-max-unavailable": { type: "string", default: "20%" },
  "timeout-seconds": { type: "string", default: "300" },
  "cgroup-limit": { type: "string" },
});
const nodeCount = intOption(values, "nodes");
const podsPerNode = intOption(values, "pods-per-node", 0);
const replicasPerDeployment = intOption(values, "replicas");
const graceSeconds = intOption(values, "grace", 0);
const timeoutSeconds = intOption(values, "timeout-seconds");
const pdbMaxUnavailable = String(values["pdb-max-unavailable"]);
const cgroupLimit = cgroupLimitOption(values["cgroup-limit"], "queue");
const NOTICE_MS = 120_000;

interface HandlerRun {
  outcome?: InterruptionOutcome;
  requests?: RequestCounts;
  /** The same requests by kind ("patch nodes": 100, ...), from the API server's audit log. */
  requestKinds?: Record<string, number>;
  readyMs?: number;
  peakRssBytes?: number;
  /** Peak of the anonymous part of the RSS (the executable's pages left out). */
  peakAnonBytes?: number;
  cpuPct?: number;
  cpuSeconds?: number;
  /** Wall time from the first notice to the end of observation. */
  observedMs?: number;
  /** CPU seconds of the handler, each ground process and the rest of the machine meanwhile. */
  cpu?: CpuShare;
  /** With --cgroup-limit: what the kernel charged the handler's cgroup. */
  cgroup?: CgroupFigures & { limitBytes: number; exited: boolean };
  error?: string;
}

await benchSession("mass-interruption", values, async ({ g, ctx, handlers }) => {
  const { sqs, ec2 } = awsClients(g.state.motoUrl);
  const runs: Partial<Record<HandlerName, HandlerRun>> = {};
  for (const h of handlers) {
    const r: HandlerRun = {};
    runs[h] = r;
    // Fresh fleet, workloads and queue per handler: no state carries over.
    const pool = `mass-${h}`;
    const namespace = pool;
    const totalPods = nodeCount * podsPerNode;
    process.stderr.write(`[mass] ${h}: ${nodeCount} nodes, ${totalPods} pods\n`);
    // One pod of headroom per node: with room for exactly P pods a node, the
    // scheduler left about 1 pod in 10 Pending at 1,000 nodes in some runs.
    const instances = await createInstanceNodes(g, ec2, pool, nodeCount, podsPerNode + 1);
    const nodeNames = new Set(instances.map((i) => i.privateDnsName));
    await createNamespace(g, namespace);
    const deployments = Math.ceil(totalPods / replicasPerDeployment);
    for (let d = 0; d < deployments; d++) {
      const replicas = Math.min(replicasPerDeployment, totalPods - d * replicasPerDeployment);
      const app = `app-${d}`;
      await createDeployment(
        g,
        namespace,
        { app, pool, graceSeconds, useFullGrace: true },
        replicas,
      );
      await createPdb(g, namespace, app, pdbMaxUnavailable);
    }
    // Placing 10,000 pods takes the scheduler minutes on a busy 2-core machine.
    await waitPodsReady(g, namespace, totalPods, Math.max(600_000, totalPods * 180));
    // Room for the replacements once the fleet is cordoned (110 pods a node).
    const spares = await createSpareNodes(g, pool, Math.max(1, Math.ceil(totalPods / 110)), 110);
    await waitPdbsSettled(g, namespace);
    const queueUrl = await createQueue(sqs, `nthd-bench-${pool}`);

    let running: RunningHandler | undefined;
    let cgroup: MemoryCgroup | undefined;
    const cordons = await watchCordons(g.kc, `nthd-bench/pool=${pool}`);
    const pods = await watchPods(g, namespace, nodeNames);
    try {
      if (cgroupLimit !== undefined && h !== "nth") {
        cgroup = createMemoryCgroup(`nthd-bench-${process.pid}-${h}`, cgroupLimit.bytes);
      }
      running = await launchHandler(h, ctx, { mode: "queue", queueUrl }, `${pool}`, {
        ...(cgroup ? { cgroup } : {}),
      });
      r.readyMs = running.readyMs;
      await sleep(1000);
      const before = await handlerRequestCounts(g);
      const beforeMs = Date.now();
      const cpuPids = { ...g.state.pids, [h]: running.proc.pid };
      const cpuBefore = cpuSnapshot(cpuPids);
      const startMs = Date.now() - running.proc.startedAt;
      const eventTime = Date.now();
      const sentAt = await sendSpotWarnings(
        sqs,
        queueUrl,
        instances.map((i) => i.instanceId),
      );
      const first = Math.min(...sentAt.values());
      const deadline = eventTime + NOTICE_MS;
      const allDone = () =>
        [...nodeNames].every((n) => cordons.cordonedAt.has(n)) &&
        [...pods.pods.values()].every((p) => p.goneAt !== undefined);
      await pollUntil(
        "all nodes cordoned and drained",
        () => (allDone() ? true : undefined),
        timeoutSeconds * 1000,
        250,
      ).catch((err: unknown) => process.stderr.write(`[mass] ${h}: ${(err as Error).message}\n`));
      const endMs = Date.now() - running.proc.startedAt;
      r.cpu = cpuShare(cpuBefore, cpuSnapshot(cpuPids));
      r.observedMs = Date.now() - first;
      await sleep(1000);
      r.requests = diffCounts(before, await handlerRequestCounts(g));
      r.requestKinds = handlerRequestKinds(g, beforeMs, Date.now());
      process.stderr.write(`[mass] ${h}: API requests by kind ${JSON.stringify(r.requestKinds)}\n`);
      running.proc.sampler.sample();
      r.peakRssBytes = running.proc.sampler.peakRssBytes();
      r.peakAnonBytes = running.proc.sampler.peakAnonBytes();
      if (cgroup) {
        r.cgroup = {
          ...cgroup.read(),
          limitBytes: cgroup.limitBytes,
          exited: running.proc.exited(),
        };
      }
      r.cpuPct = running.proc.sampler.cpuPercent(startMs, endMs);
      r.cpuSeconds = running.proc.sampler.cpuSecondsBetween(startMs, endMs);
      r.outcome = interruptionOutcome({
        sentAt,
        nodeOfInstance: new Map(instances.map((i) => [i.instanceId, i.privateDnsName])),
        cordonedAt: cordons.cordonedAt,
        pods: pods.pods,
        deadline,
      });
      process.stderr.write(
        `[mass] ${h}: ${r.outcome.nodesCordoned}/${nodeCount} cordoned, ${r.outcome.podsGone}/${r.outcome.pods} pods gone\n`,
      );
    } catch (err) {
      r.error = (err as Error).message;
      process.stderr.write(`[mass] ${h} failed: ${r.error}\n`);
    } finally {
      await running?.stop();
      cgroup?.remove();
      cordons.stop();
      pods.stop();
      await deleteQueue(sqs, queueUrl);
      // The next handler starts on a machine that has finished with this run's pods.
      await deleteNamespaceAndWait(g, namespace).then(
        (cleanupMs) =>
          process.stderr.write(
            `[mass] ${h}: namespace deleted in ${(cleanupMs / 1000).toFixed(0)} s\n`,
          ),
        (err: unknown) => process.stderr.write(`[mass] ${h}: ${(err as Error).message}\n`),
      );
      await deleteNodes(g, [...nodeNames, ...spares]);
    }
  }

  const rows: Cell[][] = Object.entries(runs).map(([h, r]) => {
    const o = r.outcome;
    if (o === undefined) return [h, `failed: ${r.error?.slice(0, 80)}`];
    return [
      h,
      `${o.nodesCordoned}/${o.nodes}`,
      seconds(o.allCordonedMs),
      ms(o.noticeToCordonMs.p50),
      ms(o.noticeToCordonMs.p99),
      ms(o.noticeToCordonMs.max),
      seconds(o.allDrainedMs),
      `${pct(o.evictedBeforeDeadlinePct)} / ${pct(o.goneBeforeDeadlinePct)}`,
      r.requests ? String(r.requests.dispatched) : "n/a",
      mib(r.peakRssBytes),
      mib(r.peakAnonBytes),
      `${fmt(r.cpuSeconds, 1, " s")} (${fmt(r.cpuPct, 0, " %")})`,
    ];
  });
  const table = markdownTable(
    [
      "handler",
      "cordoned",
      "all cordoned",
      "notice→cordon p50",
      "p99",
      "max",
      "all drained",
      "pods evicted / gone in 2 min",
      "API requests",
      "peak RSS",
      "peak anonymous",
      "CPU",
    ],
    rows,
  );
  // Where the CPU went while each handler worked: the handler, the ground's
  // processes, and everything else the shared machine ran meanwhile.
  const grounds = [
    ...new Set(Object.values(runs).flatMap((r) => Object.keys(r.cpu?.processes ?? {}))),
  ].filter((name) => !(name in runs));
  const cpuRows: Cell[][] = Object.entries(runs)
    .filter(([, r]) => r.cpu !== undefined)
    .map(([h, r]) => {
      const c = r.cpu as CpuShare;
      const handled = r.outcome?.nodesCordoned || nodeCount;
      return [
        h,
        fmt(c.wallSeconds, 0, " s"),
        fmt(c.processes[h], 1, " s"),
        fmt((c.processes[h] ?? Number.NaN) / handled, 3, " s"),
        r.requests ? fmt(r.requests.dispatched / handled, 1) : "n/a",
        ...grounds.map((name) => fmt(c.processes[name], 1, " s")),
        fmt(c.other, 1, " s"),
        fmt(c.machineBusy, 1, " s"),
      ];
    });
  const cpuTable = markdownTable(
    [
      "handler",
      "window",
      "handler CPU",
      "CPU per node",
      "API requests per node",
      ...grounds,
      "rest of machine",
      "machine busy",
    ],
    cpuRows,
  );
  const cgroupRows: Cell[][] = Object.entries(runs)
    .filter(([, r]) => r.cgroup !== undefined)
    .map(([h, r]) => {
      const c = r.cgroup as NonNullable<HandlerRun["cgroup"]>;
      return [
        h,
        mib(c.limitBytes),
        mib(c.peakBytes),
        mib(c.peakWorkingSetBytes),
        mib(c.peakAnonBytes),
        mib(r.peakRssBytes),
        c.limitHits,
        c.oomKills > 0 || c.exited ? `**yes** (${c.oomKills} OOM kills)` : "no",
      ];
    });
  const cgroupTable =
    cgroupRows.length === 0
      ? ""
      : `\n\nInside a memory cgroup (v${cgroupVersion()}) at ${cgroupLimit?.text}: "charged" includes page cache, which the kernel reclaims before it OOM-kills; "working set" is charged minus inactive file pages (the kubelet's figure):\n\n${markdownTable(
          [
            "handler",
            "limit",
            "peak charged",
            "peak working set",
            "peak anonymous",
            "peak RSS",
            "limit reached",
            "killed",
          ],
          cgroupRows,
        )}`;
  if (!values["no-write"]) {
    const svg = cdfSvg(
      `Queue mode, ${nodeCount} simultaneous Spot warnings: notice to node cordoned`,
      Object.entries(runs).map(([h, r]) => ({ label: h, valuesMs: r.outcome?.latenciesMs ?? [] })),
    );
    process.stdout.write(`Plot: ${writeArtifact("mass-interruption", "svg", svg)}\n`);
  }
  // Raw latencies stay in the JSON only through the summary, to keep files small at 1,000 nodes.
  const slim = Object.fromEntries(
    Object.entries(runs).map(([h, r]) => [
      h,
      { ...r, outcome: r.outcome ? { ...r.outcome, latenciesMs: undefined } : undefined },
    ]),
  );
  return {
    table: `${table}${cgroupTable}\n\nCPU seconds from the first notice to the end of observation (2 cores: at most twice the window):\n\n${cpuTable}`,
    results: {
      nodes: nodeCount,
      podsPerNode,
      replicasPerDeployment,
      graceSeconds,
      pdbMaxUnavailable,
      runs: slim,
    },
  };
});

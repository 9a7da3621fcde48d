// IMDS mode's worst case for memory: one node full of pods (110, the
// kubelet's default maximum) drained after a Spot notice. Measured from
// outside: notice to cordon, to the last pod gone, peak RSS and CPU; with
// --cgroup-limit, nthd runs inside a real memory cgroup at that limit
// ("chart": the chart's default for IMDS mode) and the kernel's figures are
// reported (peak charged memory, OOM kills; needs root, see lib/cgroup.ts).
// Pods belong to Deployments with PDBs, so the drain waits for
// replacements on a spare node, as in a cluster.
// Usage: node bench/imds-drain.ts [--pods 110] [--replicas 22] [--grace 5]
//        [--pdb-max-unavailable 20%] [--timeout-seconds 180] [--cgroup-limit 128Mi|chart]
//        [--handlers nthd,nth] [--before DIR] [--no-write]
import { CoreV1Api } from "@kubernetes/client-node";
import { benchArgs, intOption } from "./lib/args.ts";
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
  createNodes,
  createPdb,
  deleteNodes,
  waitPdbsSettled,
  waitPodsReady,
} from "./lib/cluster.ts";
import { createSpareNodes } from "./lib/fleet.ts";
import { pollUntil, sleep } from "./lib/ground.ts";
import { type HandlerName, launchHandler, type RunningHandler } from "./lib/handlers.ts";
import { benchSession } from "./lib/session.ts";
import { type Cell, fmt, markdownTable, mib, seconds } from "./lib/table.ts";
import { watchCordons, watchPods } from "./lib/watch.ts";

const USAGE =
  "usage: node bench/imds-drain.ts [--pods P] [--replicas R] [--grace S] [--pdb-max-unavailable X] [--timeout-seconds T] [--cgroup-limit Q|chart] [--handlers nthd,nth] [--before DIR] [--no-write]";
const values = benchArgs(USAGE, {
  pods: { type: "string", default: "110" },
  replicas: { type: "string", default: "22" },
  grace: { type: "string", default: "5" },
  "pdb-max-unavailable": { type: "string", default: "20%" },
  "timeout-seconds": { type: "string", default: "180" },
  "cgroup-limit": { type: "string" },
});
const podCount = intOption(values, "pods");
const replicasPerDeployment = intOption(values, "replicas");
const graceSeconds = intOption(values, "grace", 0);
const timeoutSeconds = intOption(values, "timeout-seconds");
const pdbMaxUnavailable = String(values["pdb-max-unavailable"]);
const cgroupLimit = cgroupLimitOption(values["cgroup-limit"], "imds");
const NOTICE_MS = 120_000;

const rfc3339 = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, "Z");

interface Run {
  cordonMs?: number;
  /** Notice → last pod gone. */
  drainedMs?: number;
  pods?: number;
  gone?: number;
  goneInNotice?: number;
  peakRssBytes?: number;
  cpuSeconds?: number;
  cgroup?: CgroupFigures & { limitBytes: number; exited: boolean };
  error?: string;
}

await benchSession("imds-drain", values, async ({ g, ctx, handlers }) => {
  const core = g.kc.makeApiClient(CoreV1Api);
  const runs: Partial<Record<HandlerName, Run>> = {};
  for (const h of handlers) {
    const r: Run = {};
    runs[h] = r;
    const pool = `imds-drain-${h}`;
    const nodeName = `${pool}-node`;
    await createNodes(g, pool, [
      { name: nodeName, instanceId: g.helpers.randomInstanceId(), maxPods: podCount + 5 },
    ]);
    await createNamespace(g, pool);
    for (let d = 0; d * replicasPerDeployment < podCount; d++) {
      const app = `app-${d}`;
      const replicas = Math.min(replicasPerDeployment, podCount - d * replicasPerDeployment);
      await createDeployment(g, pool, { app, pool, graceSeconds, useFullGrace: true }, replicas);
      await createPdb(g, pool, app, pdbMaxUnavailable);
    }
    await waitPodsReady(g, pool, podCount, 300_000);
    // Room for the replacements once the node is cordoned.
    const spares = await createSpareNodes(g, pool, 1, podCount + 10);
    await waitPdbsSettled(g, pool);
    const cordons = await watchCordons(g.kc, `nthd-bench/pool=${pool}`);
    const pods = await watchPods(g, pool, new Set([nodeName]));
    // Long enough for the handler to be ready before the notice.
    const noticeAt = Math.ceil((Date.now() + 8000) / 1000) * 1000;
    const mock = await g.helpers.startMetadataMock([
      "spot",
      "--mock-trigger-time",
      rfc3339(noticeAt),
    ]);
    let running: RunningHandler | undefined;
    let cgroup: MemoryCgroup | undefined;
    try {
      if (cgroupLimit !== undefined && h !== "nth") {
        cgroup = createMemoryCgroup(`nthd-bench-${process.pid}-${h}`, cgroupLimit.bytes);
      }
      running = await launchHandler(
        h,
        ctx,
        { mode: "imds", nodeName, metadataUrl: mock.url },
        pool,
        {
          ...(cgroup ? { cgroup } : {}),
        },
      );
      if (running.readyAt > noticeAt) throw new Error("handler not ready before the notice");
      const startMs = noticeAt - running.proc.startedAt;
      await pollUntil(
        "node cordoned and every pod gone",
        () =>
          cordons.cordonedAt.has(nodeName) &&
          [...pods.pods.values()].every((p) => p.goneAt !== undefined)
            ? true
            : undefined,
        noticeAt - Date.now() + timeoutSeconds * 1000,
        100,
      ).catch((err: unknown) =>
        process.stderr.write(`[imds-drain] ${h}: ${(err as Error).message}\n`),
      );
      const endMs = Date.now() - running.proc.startedAt;
      const cordonedAt = cordons.cordonedAt.get(nodeName);
      const fates = [...pods.pods.values()];
      const gone = fates.filter((p) => p.goneAt !== undefined);
      r.cordonMs = cordonedAt === undefined ? undefined : cordonedAt - noticeAt;
      r.pods = fates.length;
      r.gone = gone.length;
      r.goneInNotice = gone.filter((p) => (p.goneAt as number) <= noticeAt + NOTICE_MS).length;
      r.drainedMs =
        gone.length === fates.length && fates.length > 0
          ? Math.max(...gone.map((p) => p.goneAt as number)) - noticeAt
          : undefined;
      await sleep(500);
      running.proc.sampler.sample();
      r.peakRssBytes = running.proc.sampler.peakRssBytes();
      r.cpuSeconds = running.proc.sampler.cpuSecondsBetween(startMs, endMs);
      if (cgroup) {
        r.cgroup = {
          ...cgroup.read(),
          limitBytes: cgroup.limitBytes,
          exited: running.proc.exited(),
        };
      }
      process.stderr.write(`[imds-drain] ${h}: ${r.gone}/${r.pods} pods gone\n`);
    } catch (err) {
      r.error = (err as Error).message;
      process.stderr.write(`[imds-drain] ${h} failed: ${r.error}\n`);
    } finally {
      await running?.stop();
      cgroup?.remove();
      cordons.stop();
      pods.stop();
      await mock.stop();
      await core.deleteNamespace({ name: pool }).catch(() => undefined);
      await deleteNodes(g, [nodeName, ...spares]);
    }
  }

  const rows: Cell[][] = Object.entries(runs).map(([h, r]) =>
    r.error !== undefined
      ? [h, `failed: ${r.error.slice(0, 80)}`]
      : [
          h,
          r.pods ?? 0,
          seconds(r.cordonMs),
          seconds(r.drainedMs),
          `${r.goneInNotice}/${r.pods}`,
          mib(r.peakRssBytes),
          fmt(r.cpuSeconds, 1, " s"),
        ],
  );
  let table = markdownTable(
    ["handler", "pods", "notice→cordon", "notice→all gone", "gone in 2 min", "peak RSS", "CPU"],
    rows,
  );
  const cg = Object.entries(runs).filter(([, r]) => r.cgroup !== undefined);
  if (cg.length > 0) {
    table += `\n\nInside a memory cgroup (v${cgroupVersion()}) at ${cgroupLimit?.text}: "charged" includes page cache, which the kernel reclaims before it OOM-kills; "working set" is charged minus inactive file pages (the kubelet's figure):\n\n${markdownTable(
      [
        "handler",
        "limit",
        "peak charged",
        "peak working set",
        "peak anonymous",
        "limit reached",
        "killed",
      ],
      cg.map(([h, r]) => {
        const c = r.cgroup as NonNullable<Run["cgroup"]>;
        return [
          h,
          mib(c.limitBytes),
          mib(c.peakBytes),
          mib(c.peakWorkingSetBytes),
          mib(c.peakAnonBytes),
          c.limitHits,
          c.oomKills > 0 || c.exited ? `**yes** (${c.oomKills} OOM kills)` : "no",
        ];
      }),
    )}`;
  }
  return {
    table,
    results: {
      podCount,
      replicasPerDeployment,
      graceSeconds,
      pdbMaxUnavailable,
      cgroupLimit,
      runs,
    },
  };
});

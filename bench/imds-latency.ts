// IMDS mode: notice-to-cordon latency against the metadata mock announcing a
// Spot interruption at a known instant, over K runs (each run: a fresh node,
// mock and handler process), then steady RSS and CPU while idle.
// The notice instant is the mock's trigger time (whole seconds; the mock
// answers 404 before it and the notice from it on).
// Usage: node bench/imds-latency.ts [--runs 20] [--idle-seconds 60] [--pods 5]
//        [--handlers nthd,nth] [--source] [--no-write]
import { CoreV1Api } from "@kubernetes/client-node";
import { benchArgs, intOption } from "./lib/args.ts";
import {
  createDeployment,
  createNamespace,
  createNodes,
  POOL_LABEL,
  waitPodsReady,
} from "./lib/cluster.ts";
import { pollUntil, sleep } from "./lib/ground.ts";
import { type HandlerName, launchHandler, type RunningHandler } from "./lib/handlers.ts";
import { cdfSvg } from "./lib/plot.ts";
import { writeArtifact } from "./lib/results.ts";
import { benchSession } from "./lib/session.ts";
import { median, type Summary, summarize } from "./lib/stats.ts";
import { type Cell, fmt, markdownTable, mib, ms } from "./lib/table.ts";
import { watchCordons } from "./lib/watch.ts";

const USAGE =
  "usage: node bench/imds-latency.ts [--runs N] [--idle-seconds S] [--pods P] [--handlers nthd,nth] [--source] [--no-write]";
const values = benchArgs(USAGE, {
  runs: { type: "string", default: "20" },
  "idle-seconds": { type: "string", default: "60" },
  pods: { type: "string", default: "5" },
});
const runs = intOption(values, "runs");
const idleSeconds = intOption(values, "idle-seconds");
const podsPerNode = intOption(values, "pods", 0);

const rfc3339 = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, "Z");

interface HandlerFigures {
  latenciesMs: number[];
  readyMs: number[];
  /** Runs whose handler was not ready before the notice instant (not counted). */
  lateStarts: number;
  failures: string[];
  idle?: { readyMs: number; steadyRssBytes: number; peakRssBytes: number; cpuPct: number };
  latency?: Summary;
}

await benchSession("imds-latency", values, async ({ g, ctx, handlers }) => {
  const core = g.kc.makeApiClient(CoreV1Api);
  const figures: Partial<Record<HandlerName, HandlerFigures>> = {};
  for (const h of handlers) {
    const f: HandlerFigures = { latenciesMs: [], readyMs: [], lateStarts: 0, failures: [] };
    figures[h] = f;
    // Time between starting the handler and the notice: enough for it to be ready.
    let leadMs = 3000;
    for (let run = 1; run <= runs; run++) {
      const pool = `imds-${h}-${run}`;
      const nodeName = `${pool}-node`;
      await createNodes(g, pool, [{ name: nodeName, instanceId: g.helpers.randomInstanceId() }]);
      await createNamespace(g, pool);
      if (podsPerNode > 0) {
        await createDeployment(
          g,
          pool,
          { app: "app", pool, hostname: nodeName, graceSeconds: 5, useFullGrace: false },
          podsPerNode,
        );
        await waitPodsReady(g, pool, podsPerNode, 60_000);
      }
      const noticeAt = Math.ceil((Date.now() + leadMs) / 1000) * 1000;
      const mock = await g.helpers.startMetadataMock([
        "spot",
        "--mock-trigger-time",
        rfc3339(noticeAt),
      ]);
      const watch = await watchCordons(g.kc, `${POOL_LABEL}=${pool}`);
      let running: RunningHandler | undefined;
      try {
        running = await launchHandler(
          h,
          ctx,
          { mode: "imds", nodeName, metadataUrl: mock.url },
          `${pool}`,
        );
        f.readyMs.push(running.readyMs);
        leadMs = Math.max(leadMs, Math.max(...f.readyMs) + 1500);
        if (running.readyAt > noticeAt) {
          f.lateStarts++;
        } else {
          const cordoned = await pollUntil(
            `${nodeName} cordoned`,
            () => watch.cordonedAt.get(nodeName),
            noticeAt - Date.now() + 30_000,
            20,
          );
          f.latenciesMs.push(cordoned - noticeAt);
          process.stderr.write(
            `[imds] ${h} run ${run}: notice-to-cordon ${cordoned - noticeAt} ms\n`,
          );
        }
      } catch (err) {
        f.failures.push((err as Error).message);
        process.stderr.write(`[imds] ${h} run ${run} failed: ${(err as Error).message}\n`);
      } finally {
        await running?.stop();
        watch.stop();
        await mock.stop();
        await core.deleteNamespace({ name: pool }).catch(() => undefined);
        await core.deleteNode({ name: nodeName }).catch(() => undefined);
      }
    }
    f.latency = summarize(f.latenciesMs);

    // Idle: a notice a day away; the handler polls and waits.
    const pool = `imds-${h}-idle`;
    const nodeName = `${pool}-node`;
    await createNodes(g, pool, [{ name: nodeName, instanceId: g.helpers.randomInstanceId() }]);
    const mock = await g.helpers.startMetadataMock(["spot", "-d", "86400"]);
    try {
      const running = await launchHandler(
        h,
        ctx,
        { mode: "imds", nodeName, metadataUrl: mock.url },
        pool,
      );
      process.stderr.write(`[imds] ${h} idle for ${idleSeconds} s\n`);
      await sleep(idleSeconds * 1000);
      const s = running.proc.sampler;
      s.sample();
      const from = running.readyMs + 2000;
      f.idle = {
        readyMs: running.readyMs,
        steadyRssBytes: s.steadyRssBytes(from),
        peakRssBytes: s.peakRssBytes(),
        cpuPct: s.cpuPercent(from),
      };
      await running.stop();
    } catch (err) {
      f.failures.push(`idle: ${(err as Error).message}`);
    } finally {
      await mock.stop();
    }
  }

  const rows: Cell[][] = Object.entries(figures).map(([h, f]) => [
    h,
    `${f.latenciesMs.length}/${runs}`,
    ms(f.latency?.p50),
    ms(f.latency?.p90),
    ms(f.latency?.p99),
    ms(f.latency?.max),
    ms(median(f.readyMs)),
    mib(f.idle?.steadyRssBytes),
    fmt(f.idle?.cpuPct, 2, " %"),
    f.failures.length > 0 ? `${f.failures.length} failed: ${f.failures[0]?.slice(0, 60)}` : "",
  ]);
  const table = markdownTable(
    [
      "handler",
      "runs",
      "notice→cordon p50",
      "p90",
      "p99",
      "max",
      "ready p50",
      `idle RSS (${idleSeconds} s)`,
      "idle CPU",
      "notes",
    ],
    rows,
  );
  if (!values["no-write"]) {
    const svg = cdfSvg(
      "IMDS mode: Spot notice to node cordoned",
      Object.entries(figures).map(([h, f]) => ({ label: h, valuesMs: f.latenciesMs })),
    );
    process.stdout.write(`Plot: ${writeArtifact("imds-latency", "svg", svg)}\n`);
  }
  return { table, results: { runs, idleSeconds, podsPerNode, figures } };
});

// Soak: one nthd process handling a notice every minute for a long time,
// its RSS sampled throughout; the figure is the RSS slope (MiB per hour,
// least squares over one sample a second) after a warm-up. A handler that
// leaks grows with every notice; one that does not stays flat.
// The warm-up is a burst of notices (100, one every few seconds) before the
// measured hour: a fresh process grows while V8 compiles and sizes its heap
// for code paths it meets for the first time, and at one notice a minute
// that growth lasted the whole hour (queue mode: live heap and RSS rose over
// the first 120-150 notices, then stayed flat) and hid any leak behind it.
//   queue mode: a pool of nodes (moto instances) with pods; each minute one
//     node gets a Spot interruption warning on the queue and is drained, then
//     handed back (uncordoned, nthd's marks removed) for a later round.
//   IMDS mode: one node with pods; each minute the metadata mock is restarted
//     with a new Spot notice a few seconds ahead, nthd drains the node, and
//     the node is handed back the same way.
// Where nthd serves /metrics (queue mode by default, as in the chart), the soak
// scrapes it every 30 s, like Prometheus, and splits the RSS slope into V8's
// committed heap and the rest (native memory: malloc arenas, buffers, code).
// Usage: node bench/soak.ts [--mode queue|imds] [--minutes 60] [--warmup-notices 100]
//        [--warmup-round-seconds S] [--pods 5] [--round-seconds 60] [--handlers nthd]
//        [--before DIR] [--no-write]

import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { CoreV1Api, type V1Node } from "@kubernetes/client-node";
import { MERGE_PATCH } from "../test/support/merge-patch.ts";
import { benchArgs, intOption } from "./lib/args.ts";
import { awsClients, createQueue, deleteQueue, spotWarning } from "./lib/aws.ts";
import { benchMallocEnv } from "./lib/chart-limits.ts";
import {
  createDeployment,
  createNamespace,
  createNodes,
  deleteNodes,
  waitPodsReady,
} from "./lib/cluster.ts";
import { createInstanceNodes, createSpareNodes } from "./lib/fleet.ts";
import { sleep } from "./lib/ground.ts";
import { type HandlerName, launchHandler, type RunningHandler } from "./lib/handlers.ts";
import { type HeapSample, scrapeHeap } from "./lib/heap-scrape.ts";
import { type Relay, startRelay } from "./lib/relay.ts";
import { repoRoot } from "./lib/results.ts";
import { benchSession } from "./lib/session.ts";
import { type Cell, fmt, markdownTable, mib } from "./lib/table.ts";

const USAGE =
  "usage: node bench/soak.ts [--mode queue|imds] [--minutes M] [--warmup-notices N] [--warmup-round-seconds S] [--pods P] [--round-seconds S] [--handlers nthd] [--before DIR] [--no-write]";
const values = benchArgs(USAGE, {
  mode: { type: "string", default: "queue" },
  minutes: { type: "string", default: "60" },
  "warmup-notices": { type: "string", default: "100" },
  "warmup-round-seconds": { type: "string" },
  pods: { type: "string", default: "5" },
  "round-seconds": { type: "string", default: "60" },
});
const mode = values.mode === "imds" ? "imds" : "queue";
const minutes = intOption(values, "minutes");
const warmupNotices = intOption(values, "warmup-notices", 0);
const podsPerNode = intOption(values, "pods", 0);
// A notice per round; shorter rounds find a leak sooner (not the published figure).
const roundMs = intOption(values, "round-seconds") * 1000;
// IMDS rounds put the notice 3 s ahead and drain after it: they need longer.
const warmupRoundMs =
  (values["warmup-round-seconds"] === undefined
    ? mode === "imds"
      ? 10
      : 5
    : intOption(values, "warmup-round-seconds")) * 1000;
const POOL_NODES = 4;

const rfc3339 = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, "Z");

/** Least-squares slope of y over x. */
function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? Number.NaN : num / den;
}

/** Hands a node back after a drain: uncordoned, nthd's labels, record and taints gone. */
async function handBack(core: CoreV1Api, name: string): Promise<void> {
  const node: V1Node = await core.readNode({ name });
  const labels = Object.fromEntries(
    Object.keys(node.metadata?.labels ?? {})
      .filter(
        (k) =>
          k === "nthd/state" || k === "node.kubernetes.io/exclude-from-external-load-balancers",
      )
      .map((k) => [k, null]),
  );
  const taints = (node.spec?.taints ?? []).filter(
    (t) =>
      !t.key.startsWith("aws-node-termination-handler/") &&
      t.key !== "node.kubernetes.io/out-of-service",
  );
  await core.patchNode(
    {
      name,
      body: {
        metadata: { labels, annotations: { "nthd/record": null } },
        spec: { unschedulable: null, taints: taints.length > 0 ? taints : null },
      },
    },
    MERGE_PATCH,
  );
}

interface Figures {
  notices: number;
  samples: number;
  startRssBytes: number;
  endRssBytes: number;
  peakRssBytes: number;
  slopeMiBPerHour: number;
  anonSlopeMiBPerHour: number;
  /**
   * Where nthd serves /metrics (queue mode, as the chart runs it): slopes of
   * V8's committed heap, of the RSS outside it, and of the heap in use (live
   * objects and garbage not yet collected), from a scrape every 30 s (as
   * often as Prometheus would scrape it).
   */
  heap?: {
    scrapes: number;
    committedSlopeMiBPerHour: number;
    outsideSlopeMiBPerHour: number;
    usedSlopeMiBPerHour: number;
    externalSlopeMiBPerHour: number;
    startCommittedBytes: number;
    endCommittedBytes: number;
  };
  error?: string;
}

const SCRAPE_EVERY_MS = 30_000;

await benchSession("soak", values, async ({ g, ctx, handlers }) => {
  const core = g.kc.makeApiClient(CoreV1Api);
  const { sqs, ec2 } = awsClients(g.state.motoUrl);
  const figures: Partial<Record<HandlerName, Figures>> = {};
  for (const h of handlers) {
    const pool = `soak-${mode}-${h}`;
    await createNamespace(g, pool);
    let nodes: { name: string; instanceId: string }[];
    if (mode === "queue") {
      const instances = await createInstanceNodes(g, ec2, pool, POOL_NODES, podsPerNode + 1);
      nodes = instances.map((i) => ({ name: i.privateDnsName, instanceId: i.instanceId }));
    } else {
      nodes = [{ name: `${pool}-node`, instanceId: g.helpers.randomInstanceId() }];
      await createNodes(g, pool, [{ ...nodes[0], maxPods: podsPerNode + 1 } as never]);
    }
    if (podsPerNode > 0) {
      await createDeployment(
        g,
        pool,
        { app: "app", pool, graceSeconds: 2, useFullGrace: false },
        podsPerNode * nodes.length,
      );
      await waitPodsReady(g, pool, podsPerNode * nodes.length, 300_000);
    }
    const spares = await createSpareNodes(g, pool, 1, podsPerNode * nodes.length + 10);
    const queueUrl = mode === "queue" ? await createQueue(sqs, `nthd-bench-${pool}`) : "";
    // IMDS mode: the handler keeps one metadata URL (a relay); each round
    // puts a new mock behind it, with a new notice or with none pending.
    let mock: Awaited<ReturnType<typeof g.helpers.startMetadataMock>> | undefined;
    let relay: Relay | undefined;
    const mockBehindRelay = async (args: string[]) => {
      await mock?.stop();
      mock = await g.helpers.startMetadataMock(args);
      relay?.retarget(Number(new URL(mock.url).port));
    };
    if (mode === "imds") {
      await mockBehindRelay(["spot", "-d", "86400"]);
      relay = await startRelay(Number(new URL(mock?.url ?? "").port));
    }
    let running: RunningHandler | undefined;
    let notices = 0;
    let scraper: NodeJS.Timeout | undefined;
    // Each scrape paired with the RSS sampled right after it.
    const heapSamples: { heap: HeapSample; rssBytes: number }[] = [];
    try {
      const first = nodes[0] as { name: string; instanceId: string };
      running =
        mode === "queue"
          ? await launchHandler(h, ctx, { mode: "queue", queueUrl }, pool)
          : await launchHandler(
              h,
              ctx,
              { mode: "imds", nodeName: first.name, metadataUrl: relay?.url ?? "" },
              pool,
            );
      const proc = running.proc;
      const metricsPort = running.metricsPort;
      if (metricsPort !== undefined) {
        scraper = setInterval(async () => {
          const heap = await scrapeHeap(metricsPort, Date.now() - proc.startedAt);
          const rss = proc.sampler.sample();
          if (heap !== undefined && rss !== undefined) {
            heapSamples.push({ heap, rssBytes: rss.rssBytes });
          }
        }, SCRAPE_EVERY_MS);
      }
      process.stderr.write(
        `[soak] ${h} ${mode}: warm-up ${warmupNotices} notices, one every ${warmupRoundMs / 1000} s; then ${minutes} min, a notice every ${roundMs / 1000} s\n`,
      );
      let until = Number.POSITIVE_INFINITY;
      let measureFromMs = 0;
      for (let round = 0; Date.now() < until; round++) {
        const warm = round < warmupNotices;
        if (!warm && until === Number.POSITIVE_INFINITY) {
          // The measured window starts now, after the warm-up's last round.
          until = Date.now() + minutes * 60_000;
          measureFromMs = Date.now() - proc.startedAt;
          notices = 0;
        }
        const thisRoundMs = warm ? warmupRoundMs : roundMs;
        const roundEnd = Date.now() + thisRoundMs;
        const node = nodes[round % nodes.length] as { name: string; instanceId: string };
        try {
          if (mode === "queue") {
            await sqs.send(
              new SendMessageCommand({
                QueueUrl: queueUrl,
                MessageBody: spotWarning(node.instanceId, new Date()),
              }),
            );
          } else {
            // A new notice a few seconds ahead: the mock answers it from then on.
            await mockBehindRelay([
              "spot",
              "--mock-trigger-time",
              rfc3339(Math.ceil((Date.now() + 3000) / 1000) * 1000),
            ]);
          }
          notices++;
          // Give the drain most of the minute, then hand the node back.
          await sleep(Math.max(0, roundEnd - Date.now() - Math.min(10_000, thisRoundMs / 4)));
          // Nothing pending again before the node is handed back.
          if (mode === "imds") await mockBehindRelay(["spot", "-d", "86400"]);
          await handBack(core, node.name);
        } catch (err) {
          process.stderr.write(`[soak] round ${round}: ${(err as Error).message}\n`);
        }
        if (proc.exited()) throw new Error("nthd exited during the soak");
        await sleep(Math.max(0, roundEnd - Date.now()));
      }
      proc.sampler.sample();
      const after = proc.sampler.samples.filter((s) => s.tMs >= measureFromMs);
      const hours = (s: { tMs: number }) => s.tMs / 3_600_000;
      const heapAfter = heapSamples.filter((s) => s.heap.tMs >= measureFromMs);
      const heapSlope = (y: (s: { heap: HeapSample; rssBytes: number }) => number) =>
        slope(heapAfter.map((s) => ({ x: hours(s.heap), y: y(s) / 1048576 })));
      figures[h] = {
        notices,
        samples: after.length,
        startRssBytes: after[0]?.rssBytes ?? Number.NaN,
        endRssBytes: after.at(-1)?.rssBytes ?? Number.NaN,
        peakRssBytes: proc.sampler.peakRssBytes(),
        slopeMiBPerHour: slope(after.map((s) => ({ x: hours(s), y: s.rssBytes / 1048576 }))),
        anonSlopeMiBPerHour: slope(after.map((s) => ({ x: hours(s), y: s.anonBytes / 1048576 }))),
        ...(heapAfter.length === 0
          ? {}
          : {
              heap: {
                scrapes: heapAfter.length,
                committedSlopeMiBPerHour: heapSlope((s) => s.heap.heapTotalBytes),
                outsideSlopeMiBPerHour: heapSlope((s) => s.rssBytes - s.heap.heapTotalBytes),
                usedSlopeMiBPerHour: heapSlope((s) => s.heap.heapUsedBytes),
                externalSlopeMiBPerHour: heapSlope((s) => s.heap.externalBytes),
                startCommittedBytes: heapAfter[0]?.heap.heapTotalBytes ?? Number.NaN,
                endCommittedBytes: heapAfter.at(-1)?.heap.heapTotalBytes ?? Number.NaN,
              },
            }),
      };
    } catch (err) {
      figures[h] = {
        notices,
        samples: 0,
        startRssBytes: Number.NaN,
        endRssBytes: Number.NaN,
        peakRssBytes: Number.NaN,
        slopeMiBPerHour: Number.NaN,
        anonSlopeMiBPerHour: Number.NaN,
        error: (err as Error).message,
      };
    } finally {
      clearInterval(scraper);
      await running?.stop();
      await mock?.stop();
      await relay?.close();
      if (queueUrl) await deleteQueue(sqs, queueUrl);
      await core.deleteNamespace({ name: pool }).catch(() => undefined);
      await deleteNodes(g, [...nodes.map((n) => n.name), ...spares]);
    }
  }
  const rows: Cell[][] = Object.entries(figures).map(([h, f]) =>
    f.error
      ? [h, mode, `failed: ${f.error.slice(0, 80)}`]
      : [
          h,
          mode,
          `${minutes} min (after ${warmupNotices} warm-up notices)`,
          f.notices,
          mib(f.startRssBytes),
          mib(f.endRssBytes),
          mib(f.peakRssBytes),
          fmt(f.slopeMiBPerHour, 2, " MiB/h"),
          fmt(f.anonSlopeMiBPerHour, 2, " MiB/h"),
        ],
  );
  const table = markdownTable(
    [
      "handler",
      "mode",
      "duration",
      "notices",
      "RSS after warm-up",
      "RSS at end",
      "peak RSS",
      "RSS slope",
      "anonymous slope",
    ],
    rows,
  );
  const heapRows: Cell[][] = Object.entries(figures).flatMap(([h, f]) =>
    f.heap === undefined
      ? []
      : [
          [
            h,
            f.heap.scrapes,
            `${mib(f.heap.startCommittedBytes)} → ${mib(f.heap.endCommittedBytes)}`,
            fmt(f.heap.committedSlopeMiBPerHour, 2, " MiB/h"),
            fmt(f.heap.usedSlopeMiBPerHour, 2, " MiB/h"),
            fmt(f.heap.externalSlopeMiBPerHour, 2, " MiB/h"),
            fmt(f.heap.outsideSlopeMiBPerHour, 2, " MiB/h"),
          ],
        ],
  );
  const heapTable =
    heapRows.length === 0
      ? ""
      : `\n\nWhere the RSS went (nthd's /metrics, scraped every ${SCRAPE_EVERY_MS / 1000} s):\n\n${markdownTable(
          [
            "handler",
            "scrapes",
            "V8 heap committed",
            "committed slope",
            "heap used slope",
            "external slope",
            "RSS outside the V8 heap, slope",
          ],
          heapRows,
        )}`;
  const malloc = benchMallocEnv(repoRoot);
  return {
    table: `${table}${heapTable}\n\nnthd ran with ${malloc}`,
    results: {
      mode,
      minutes,
      warmupNotices,
      warmupRoundMs,
      roundMs,
      podsPerNode,
      malloc,
      figures,
    },
  };
});

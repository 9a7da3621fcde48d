// What idle IMDS-mode pods cost the API server: N handlers, each on its own
// node, polling a metadata mock with nothing pending, for a few minutes.
// Counted by the API server's flow-control metrics (all handlers use the
// bench's ServiceAccount, see lib/apiserver-metrics.ts), after the handlers
// are ready (start-up requests and the watches' starts are left out), and
// scaled to a fleet: requests per minute per pod, and per second for 1,000
// nodes. Probes are not sent by the bench (no kubelet here): nthd's own
// readiness check of the API server runs on its timer either way.
// Usage: node bench/imds-fleet-load.ts [--pods 10] [--minutes 3] [--handlers nthd,nth]
//        [--before DIR] [--no-write]
import { diffCounts, handlerRequestCounts } from "./lib/apiserver-metrics.ts";
import { benchArgs, intOption } from "./lib/args.ts";
import { createNodes, deleteNodes } from "./lib/cluster.ts";
import { sleep } from "./lib/ground.ts";
import { type HandlerName, launchHandler, type RunningHandler } from "./lib/handlers.ts";
import { benchSession } from "./lib/session.ts";
import { type Cell, fmt, markdownTable, mib } from "./lib/table.ts";

const USAGE =
  "usage: node bench/imds-fleet-load.ts [--pods N] [--minutes M] [--handlers nthd,nth] [--before DIR] [--no-write]";
const values = benchArgs(USAGE, {
  pods: { type: "string", default: "10" },
  minutes: { type: "string", default: "3" },
});
const pods = intOption(values, "pods");
const minutes = intOption(values, "minutes");

interface Figures {
  requests: number;
  rejected: number;
  perPodPerMinute: number;
  fleetPerSecond: number;
  rssMedianBytes: number;
  error?: string;
}

await benchSession("imds-fleet-load", values, async ({ g, ctx, handlers }) => {
  const figures: Partial<Record<HandlerName, Figures>> = {};
  const mock = await g.helpers.startMetadataMock(["spot", "-d", "86400"]);
  try {
    for (const h of handlers) {
      const pool = `fleet-${h}`;
      const names = Array.from({ length: pods }, (_, i) => `${pool}-${i}`);
      await createNodes(
        g,
        pool,
        names.map((name) => ({ name, instanceId: g.helpers.randomInstanceId() })),
      );
      const running: RunningHandler[] = [];
      try {
        for (const nodeName of names) {
          running.push(
            await launchHandler(
              h,
              ctx,
              { mode: "imds", nodeName, metadataUrl: mock.url },
              nodeName,
            ),
          );
        }
        // Start-up is over (lists, watches opened): count from here.
        await sleep(5000);
        const before = await handlerRequestCounts(g);
        process.stderr.write(`[fleet] ${h}: ${pods} pods idle for ${minutes} min\n`);
        await sleep(minutes * 60_000);
        const d = diffCounts(before, await handlerRequestCounts(g));
        const perPodPerMinute = d.dispatched / pods / minutes;
        const rss = running
          .map((r) => {
            r.proc.sampler.sample();
            return r.proc.sampler.steadyRssBytes(r.readyMs + 5000);
          })
          .sort((a, b) => a - b);
        figures[h] = {
          requests: d.dispatched,
          rejected: d.rejected,
          perPodPerMinute,
          fleetPerSecond: (perPodPerMinute * 1000) / 60,
          rssMedianBytes: rss[Math.floor(rss.length / 2)] ?? Number.NaN,
        };
      } catch (err) {
        figures[h] = {
          requests: 0,
          rejected: 0,
          perPodPerMinute: Number.NaN,
          fleetPerSecond: Number.NaN,
          rssMedianBytes: Number.NaN,
          error: (err as Error).message,
        };
      } finally {
        await Promise.all(running.map((r) => r.stop()));
        await deleteNodes(g, names);
      }
    }
  } finally {
    await mock.stop();
  }
  const rows: Cell[][] = Object.entries(figures).map(([h, f]) =>
    f.error
      ? [h, `failed: ${f.error.slice(0, 80)}`]
      : [
          h,
          pods,
          `${minutes} min`,
          f.requests,
          fmt(f.perPodPerMinute, 2),
          fmt(f.fleetPerSecond, 1),
          f.rejected,
          mib(f.rssMedianBytes),
        ],
  );
  const table = markdownTable(
    [
      "handler",
      "idle pods",
      "window",
      "API requests",
      "per pod per minute",
      "1,000 nodes: requests/s",
      "rejected (429)",
      "RSS p50",
    ],
    rows,
  );
  return { table, results: { pods, minutes, figures } };
});

// Start-up and memory: cold start to ready and steady RSS, per mode, for the
// bundled build (dist/nthd.mjs), side by side with aws-node-termination-handler.
//   IMDS mode:  a metadata mock with nothing pending, one kwok node.
//   Queue mode: an empty queue on moto.
// Usage: node bench/footprint.ts [--runs 5] [--steady-seconds 10] [--modes imds,queue]
//        [--handlers nthd,nth] [--source] [--no-write]
import { benchArgs, intOption } from "./lib/args.ts";
import { awsClients, createQueue } from "./lib/aws.ts";
import { benchMallocEnv } from "./lib/chart-limits.ts";
import { createNodes } from "./lib/cluster.ts";
import { sleep } from "./lib/ground.ts";
import { type HandlerName, type LaunchSpec, launchHandler, modeNodeFlags } from "./lib/handlers.ts";
import { repoRoot } from "./lib/results.ts";
import { benchSession } from "./lib/session.ts";
import { median } from "./lib/stats.ts";
import { type Cell, fmt, markdownTable, mib, ms } from "./lib/table.ts";

const USAGE =
  "usage: node bench/footprint.ts [--runs N] [--steady-seconds S] [--modes imds,queue] [--handlers nthd,nth] [--source] [--no-write]";
const values = benchArgs(USAGE, {
  runs: { type: "string", default: "5" },
  "steady-seconds": { type: "string", default: "10" },
  modes: { type: "string", default: "imds,queue" },
});
const runs = intOption(values, "runs");
const steadySeconds = intOption(values, "steady-seconds");
const modes = String(values.modes)
  .split(",")
  .filter((m): m is "imds" | "queue" => m === "imds" || m === "queue");

function push<T>(map: Record<string, T[]>, key: string, value: T): void {
  const list = map[key] ?? [];
  list.push(value);
  map[key] = list;
}

interface RunFigures {
  readyMs: number;
  steadyRssBytes: number;
  peakRssBytes: number;
  idleCpuPct: number;
  /** CPU time spent from spawn to ready: the cost of a cold start. */
  startCpuSeconds: number;
}

await benchSession("footprint", values, async ({ g, ctx, handlers }) => {
  const nodeName = "footprint-node";
  await createNodes(g, "footprint", [{ name: nodeName, instanceId: g.helpers.randomInstanceId() }]);
  // Spot notice a day away: the metadata service answers, nothing is pending.
  const mock = await g.helpers.startMetadataMock(["spot", "-d", "86400"]);
  const { sqs } = awsClients(g.state.motoUrl);
  const queueUrl = await createQueue(sqs, "nthd-bench-footprint");
  const figures: Record<string, RunFigures[]> = {};
  const failures: Record<string, string[]> = {};
  try {
    for (let run = 1; run <= runs; run++) {
      // Interleave handlers so drift in machine load hits them alike.
      for (const mode of modes) {
        for (const h of handlers) {
          const spec: LaunchSpec =
            mode === "queue" ? { mode, queueUrl } : { mode, nodeName, metadataUrl: mock.url };
          let running: Awaited<ReturnType<typeof launchHandler>>;
          try {
            running = await launchHandler(h, ctx, spec, `${h}-${mode}-${run}`);
          } catch (err) {
            // A handler that cannot start is a finding, not a reason to lose the other figures.
            push(failures, `${h}/${mode}`, (err as Error).message);
            process.stderr.write(
              `[footprint] ${h} ${mode} run ${run} failed: ${(err as Error).message}\n`,
            );
            continue;
          }
          await sleep(steadySeconds * 1000);
          running.proc.sampler.sample();
          const s = running.proc.sampler;
          const fromMs = running.readyMs + 1000;
          const f: RunFigures = {
            readyMs: running.readyMs,
            steadyRssBytes: s.steadyRssBytes(fromMs),
            peakRssBytes: s.peakRssBytes(),
            idleCpuPct: s.cpuPercent(fromMs),
            startCpuSeconds: s.cpuSecondsBetween(0, running.readyMs),
          };
          await running.stop();
          push(figures, `${h}/${mode}`, f);
          process.stderr.write(
            `[footprint] ${h} ${mode} run ${run}: ready ${f.readyMs} ms, steady ${mib(f.steadyRssBytes)}\n`,
          );
        }
      }
    }
  } finally {
    await mock.stop();
  }
  const rows: Cell[][] = Object.entries(figures).map(([key, fs]) => {
    const [h, mode] = key.split("/") as [HandlerName, string];
    const ready = fs.map((f) => f.readyMs);
    return [
      h,
      mode,
      fs.length,
      ms(median(ready)),
      ms(Math.max(...ready)),
      fmt(median(fs.map((f) => f.startCpuSeconds)), 2, " s"),
      mib(median(fs.map((f) => f.steadyRssBytes))),
      mib(Math.max(...fs.map((f) => f.peakRssBytes))),
      fmt(median(fs.map((f) => f.idleCpuPct)), 2, " %"),
    ];
  });
  for (const [key, errs] of Object.entries(failures)) {
    if (figures[key] !== undefined) continue;
    const [h, mode] = key.split("/");
    rows.push([h, mode, 0, `failed: ${errs[0]?.slice(0, 80)}`]);
  }
  const table = markdownTable(
    [
      "handler",
      "mode",
      "runs",
      "ready p50",
      "ready max",
      "CPU to ready",
      "steady RSS p50",
      "peak RSS max",
      "idle CPU",
    ],
    rows,
  );
  // Each mode runs with its chart's Node.js flags (charts/nthd/files/<mode>-node-flags.txt).
  const nodeFlags = { imds: modeNodeFlags("imds"), queue: modeNodeFlags("queue") };
  return {
    table: `${table}\n\nnthd runs as the chart does: IMDS mode node ${nodeFlags.imds.join(" ")}; queue mode node ${nodeFlags.queue.join(" ") || "(no flags)"}, serving /metrics; ${benchMallocEnv(repoRoot)}${ctx.beforeDir !== undefined && handlers.includes("nthd-before") ? ` (nthd-before: ${benchMallocEnv(ctx.beforeDir)})` : ""}`,
    results: { runs, steadySeconds, modes, nodeFlags, figures, failures },
  };
});

// The several-replica scenarios at full size, on a test ground of their own:
// 100 nodes with lifecycle actions for 20 (three replicas, one SIGTERMed and
// one SIGKILLed midway), a rolling update over 20 held drains, heartbeat
// continuity with a 60 s hook and a 3-minute PodDisruptionBudget, and a
// scale-down from two replicas to one, with the default 15 s Lease. Prints
// one line of figures per scenario; exits 1 if any scenario failed.
// Usage: node scripts/scenario-replicas.ts [--only 1,2,3,4] [--nodes 100]
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    only: { type: "string", default: "1,2,3,4" },
    nodes: { type: "string", default: "100" },
  },
});
const only = new Set(String(values.only).split(","));
const nodes = Number(values.nodes);
const repo = new URL("..", import.meta.url).pathname;
// A state file of its own: never stops a ground an integration run is using.
process.env.NTHD_GROUND_STATE ??= join(repo, ".nthd-ground", `scenario-${process.pid}.json`);
const up = await import("../test/env/ground-up.ts");
const scenarios = await import("../test/env/replica-scenarios.ts");

const LEASE_SECONDS = 15;
const suffix = Math.random().toString(36).slice(2, 7);
const state = await up.startGround();
const lines: string[] = [];
let failed = 0;
const run = async (id: string, body: () => Promise<{ line: string; ok: boolean }>) => {
  if (!only.has(id)) return;
  try {
    const { line, ok } = await body();
    lines.push(`${ok ? "ok  " : "FAIL"} ${line}`);
    if (!ok) failed++;
  } catch (err) {
    lines.push(`FAIL scenario ${id}: ${(err as Error).message}`);
    failed++;
  }
  process.stdout.write(`${lines.at(-1)}\n`);
};
const once = (f: import("../test/env/replica-counts.ts").Figures) =>
  f.drained === f.nodes &&
  f.nodesNotOneEvent === 0 &&
  f.maxEvictionsPerPod === 1 &&
  f.oddPods.length === 0 &&
  f.evictions + f.lostAnswers === f.pods &&
  f.actionsNotOnce === 0 &&
  f.queueLeft === 0 &&
  f.dlqLeft === 0;

try {
  await run("1", async () => {
    const o = await scenarios.massInterruption({
      name: `full1-${suffix}`,
      nodes,
      podsPerNode: 2,
      actions: Math.round(nodes / 5),
      leaseSeconds: LEASE_SECONDS,
      graceSeconds: 20,
      timeoutMs: 600_000,
    });
    return { line: o.line, ok: once(o.figures) };
  });
  await run("2", async () => {
    const o = await scenarios.rollingUpdate({
      name: `full2-${suffix}`,
      nodes: 20,
      leaseSeconds: LEASE_SECONDS,
      timeoutMs: 300_000,
    });
    return { line: o.line, ok: once(o.figures) && o.extra.takenEarly === 0 };
  });
  await run("3", async () => {
    const o = await scenarios.heartbeatContinuity({
      name: `full3-${suffix}`,
      hookTimeoutSeconds: 60,
      blockSeconds: 180,
      killAfterHeartbeatSeconds: 25,
      leaseSeconds: LEASE_SECONDS,
      timeoutMs: 300_000,
    });
    const gap = o.extra.maxGapSeconds ?? Number.POSITIVE_INFINITY;
    return { line: o.line, ok: once(o.figures) && gap < 60 && o.extra.continue === 1 };
  });
  await run("4", async () => {
    const o = await scenarios.scaleDown({
      name: `full4-${suffix}`,
      nodes: 20,
      leaseSeconds: LEASE_SECONDS,
      timeoutMs: 300_000,
    });
    const adopted = (o.extra.adoptMs ?? Number.POSITIVE_INFINITY) <= LEASE_SECONDS * 1000;
    return { line: o.line, ok: once(o.figures) && adopted };
  });
} finally {
  await up.stopGround(state);
}
process.stdout.write(`\n${lines.join("\n")}\n`);
process.exit(failed > 0 ? 1 : 0);

// The drain audit's simultaneous-interruption estimate against a real one:
// build a fleet on the ground, run `nthd audit --json --together all` on it
// (with the settings the handler will run with), then start nthd in queue
// mode, send a Spot warning for every node at once and watch what happens.
// Prints estimate and measurement side by side. Two scenarios:
//   mass        N nodes × P pods in Deployments of R replicas, PDBs at 20 %,
//               grace G (the mass-interruption bench's fleet)
//   contention  one node, S StatefulSets of 4 pods with 50 s grace behind
//               PDBs allowing one disruption (the pdb-contention bench's)
// Pods take their whole grace period to go (kwok's delete delay), as the
// model assumes. Notice time = when the messages were sent.
// Usage: node bench/audit-estimate.ts [--scenarios mass,contention] [--nodes 20]
//        [--pods-per-node 10] [--replicas 50] [--grace 5] [--sets 3] [--source] [--no-write]
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { CoreV1Api } from "@kubernetes/client-node";
import { diffCounts, handlerRequestCounts } from "./lib/apiserver-metrics.ts";
import { benchArgs, intOption } from "./lib/args.ts";
import {
  awsClients,
  type BenchInstance,
  createQueue,
  deleteQueue,
  sendSpotWarnings,
} from "./lib/aws.ts";
import {
  createDeployment,
  createNamespace,
  createPdb,
  createStatefulSet,
  deleteNodes,
  POOL_LABEL,
  waitPdbsSettled,
  waitPodsReady,
} from "./lib/cluster.ts";
import { createInstanceNodes, createSpareNodes } from "./lib/fleet.ts";
import { type BenchGround, pollUntil, sleep } from "./lib/ground.ts";
import {
  type HandlerContext,
  launchHandler,
  passThrough,
  type RunningHandler,
} from "./lib/handlers.ts";
import { interruptionOutcome } from "./lib/outcome.ts";
import { repoRoot } from "./lib/results.ts";
import { benchSession } from "./lib/session.ts";
import { type Cell, fmt, markdownTable } from "./lib/table.ts";
import { watchCordons, watchPods } from "./lib/watch.ts";

const USAGE =
  "usage: node bench/audit-estimate.ts [--scenarios mass,contention] [--nodes N] [--pods-per-node P] [--replicas R] [--grace G] [--sets S] [--source] [--no-write]";
const values = benchArgs(USAGE, {
  scenarios: { type: "string", default: "mass,contention" },
  nodes: { type: "string", default: "20" },
  "pods-per-node": { type: "string", default: "10" },
  replicas: { type: "string", default: "50" },
  grace: { type: "string", default: "5" },
  sets: { type: "string", default: "3" },
});
values.handlers = "nthd";
const NOTICE_MS = 120_000;

/** What the audit's `together` section says (docs/audit.md). */
interface Estimate {
  nodes: string[];
  pods: { evict: number; clean: number; cut: number; left: number };
  drainedSeconds: number | null;
  lastEvictionSeconds: number | null;
  apiRequests: number;
  blockingPodDisruptionBudgets: { name: string; code: string; pods: number }[];
}

interface Measured {
  pods: number;
  goneInTime: number;
  cut: number;
  left: number;
  drainedSeconds: number | null;
  lastEvictionSeconds: number | null;
  apiRequests: number;
  cordonP50Seconds: number;
  cordonMaxSeconds: number;
}

interface ScenarioResult {
  name: string;
  description: string;
  estimate?: Estimate;
  auditSeconds?: number;
  measured?: Measured;
  error?: string;
}

/** Runs `nthd audit` on the fleet as the handler would be configured. */
function runAudit(ctx: HandlerContext, selector: string): { estimate: Estimate; seconds: number } {
  const entry = ctx.fromSource
    ? join(repoRoot, "src", "main.ts")
    : join(repoRoot, "dist", "nthd.mjs");
  const started = Date.now();
  const r = spawnSync(
    process.execPath,
    [entry, "audit", "--json", "--together", "all", "-l", selector],
    {
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
      env: {
        PATH: process.env.PATH ?? "",
        KUBECONFIG: ctx.g.state.kubeconfig,
        ...passThrough("BENCH_NTHD_"),
      },
    },
  );
  if (r.status !== 0 && r.status !== 1)
    throw new Error(`nthd audit exited ${r.status}: ${r.stderr}`);
  const doc = JSON.parse(r.stdout) as { together: Estimate | null };
  if (doc.together === null) throw new Error("nthd audit: no estimate for the fleet");
  return { estimate: doc.together, seconds: (Date.now() - started) / 1000 };
}

/** Sends one warning per instance and watches cordons and pods until all are gone or the notice is long over. */
async function interrupt(
  g: BenchGround,
  ctx: HandlerContext,
  pool: string,
  namespace: string,
  instances: readonly BenchInstance[],
  graceOf: (pod: string) => number,
): Promise<Measured> {
  const { sqs } = awsClients(g.state.motoUrl);
  const nodeNames = new Set(instances.map((i) => i.privateDnsName));
  const queueUrl = await createQueue(sqs, `nthd-bench-${pool}`);
  const cordons = await watchCordons(g.kc, `${POOL_LABEL}=${pool}`);
  const pods = await watchPods(g, namespace, nodeNames);
  let running: RunningHandler | undefined;
  try {
    running = await launchHandler("nthd", ctx, { mode: "queue", queueUrl }, pool);
    await sleep(1000);
    const before = await handlerRequestCounts(g);
    const eventTime = Date.now();
    const sentAt = await sendSpotWarnings(
      sqs,
      queueUrl,
      instances.map((i) => i.instanceId),
    );
    const deadline = eventTime + NOTICE_MS;
    await pollUntil(
      "every pod gone",
      () => ([...pods.pods.values()].every((p) => p.goneAt !== undefined) ? true : undefined),
      deadline + 15_000 - Date.now(),
      500,
    ).catch(() => undefined);
    await sleep(1000);
    const requests = diffCounts(before, await handlerRequestCounts(g));
    const o = interruptionOutcome({
      sentAt,
      nodeOfInstance: new Map(instances.map((i) => [i.instanceId, i.privateDnsName])),
      cordonedAt: cordons.cordonedAt,
      pods: pods.pods,
      deadline,
    });
    const fates = [...pods.pods.values()];
    const inTime = fates.filter((f) => f.goneAt !== undefined && f.goneAt <= deadline);
    // kwok deletes a pod when the grace period its eviction gave has run out.
    const cut = inTime.filter(
      (f) => ((f.goneAt ?? 0) - (f.evictedAt ?? 0)) / 1000 < graceOf(f.name) - 1,
    ).length;
    const first = Math.min(...sentAt.values());
    const last = (xs: number[]) => (xs.length === 0 ? null : (Math.max(...xs) - first) / 1000);
    return {
      pods: fates.length,
      goneInTime: inTime.length,
      cut,
      left: fates.length - inTime.length,
      drainedSeconds: o.allDrainedMs === undefined ? null : o.allDrainedMs / 1000,
      lastEvictionSeconds: last(
        fates.flatMap((f) => (f.evictedAt === undefined ? [] : [f.evictedAt])),
      ),
      apiRequests: requests.dispatched,
      cordonP50Seconds: o.noticeToCordonMs.p50 / 1000,
      cordonMaxSeconds: o.noticeToCordonMs.max / 1000,
    };
  } finally {
    await running?.stop();
    cordons.stop();
    pods.stop();
    await deleteQueue(sqs, queueUrl);
  }
}

await benchSession("audit-estimate", values, async ({ g, ctx }) => {
  const { ec2 } = awsClients(g.state.motoUrl);
  const core = g.kc.makeApiClient(CoreV1Api);
  const results: ScenarioResult[] = [];
  const wanted = String(values.scenarios).split(",");

  if (wanted.includes("mass")) {
    const nodes = intOption(values, "nodes");
    const perNode = intOption(values, "pods-per-node");
    const replicas = intOption(values, "replicas");
    const grace = intOption(values, "grace", 0);
    const r: ScenarioResult = {
      name: "mass",
      description: `${nodes} nodes × ${perNode} pods, Deployments of ${replicas} with PDBs at 20 %, ${grace} s grace`,
    };
    results.push(r);
    const pool = "audit-mass";
    const instances = await createInstanceNodes(g, ec2, pool, nodes, perNode + 1);
    let spares: string[] = [];
    try {
      await createNamespace(g, pool);
      const total = nodes * perNode;
      for (let d = 0; d * replicas < total; d++) {
        const app = `app-${d}`;
        const n = Math.min(replicas, total - d * replicas);
        await createDeployment(g, pool, { app, pool, graceSeconds: grace, useFullGrace: true }, n);
        await createPdb(g, pool, app, "20%");
      }
      await waitPodsReady(g, pool, total, 600_000);
      await waitPdbsSettled(g, pool);
      const a = runAudit(ctx, `${POOL_LABEL}=${pool}`);
      r.estimate = a.estimate;
      r.auditSeconds = a.seconds;
      spares = await createSpareNodes(g, pool, Math.max(1, Math.ceil(total / 110)), 110);
      r.measured = await interrupt(g, ctx, pool, pool, instances, () => grace);
    } catch (err) {
      r.error = (err as Error).message;
      process.stderr.write(`[audit-estimate] mass failed: ${r.error}\n`);
    } finally {
      await core.deleteNamespace({ name: pool }).catch(() => undefined);
      await deleteNodes(g, [...instances.map((i) => i.privateDnsName), ...spares]);
    }
  }

  if (wanted.includes("contention")) {
    const sets = intOption(values, "sets");
    const grace = 50;
    const r: ScenarioResult = {
      name: "contention",
      description: `1 node, ${sets} StatefulSets × 4 pods, PDB maxUnavailable 1, ${grace} s grace`,
    };
    results.push(r);
    const pool = "audit-contention";
    const instances = await createInstanceNodes(g, ec2, pool, 1, 110);
    let spares: string[] = [];
    try {
      await createNamespace(g, pool);
      for (let s = 0; s < sets; s++) {
        const app = `set-${s}`;
        await createStatefulSet(g, pool, { app, pool, graceSeconds: grace, useFullGrace: true }, 4);
        await createPdb(g, pool, app, 1);
      }
      await waitPodsReady(g, pool, sets * 4, 120_000);
      await waitPdbsSettled(g, pool);
      const a = runAudit(ctx, `${POOL_LABEL}=${pool}`);
      r.estimate = a.estimate;
      r.auditSeconds = a.seconds;
      spares = await createSpareNodes(g, pool, 1, 110);
      r.measured = await interrupt(g, ctx, pool, pool, instances, () => grace);
    } catch (err) {
      r.error = (err as Error).message;
      process.stderr.write(`[audit-estimate] contention failed: ${r.error}\n`);
    } finally {
      await core.deleteNamespace({ name: pool }).catch(() => undefined);
      await deleteNodes(g, [...instances.map((i) => i.privateDnsName), ...spares]);
    }
  }

  const s = (x: number | null | undefined) => (x === null ? "never" : fmt(x, 1, " s"));
  const rows: Cell[][] = [];
  for (const r of results) {
    const e = r.estimate;
    const m = r.measured;
    if (!e || !m) {
      rows.push([r.name, "failed", r.error?.slice(0, 100) ?? ""]);
      continue;
    }
    const line = (what: string, est: string, meas: string) => rows.push([r.name, what, est, meas]);
    line("pods on the interrupted nodes", String(e.pods.evict), String(m.pods));
    line("gone within the 120 s notice", String(e.pods.clean + e.pods.cut), String(m.goneInTime));
    line("of which cut short of their grace", String(e.pods.cut), String(m.cut));
    line("still there at the deadline", String(e.pods.left), String(m.left));
    line("last eviction", s(e.lastEvictionSeconds), s(m.lastEvictionSeconds));
    line("every pod gone", s(e.drainedSeconds), s(m.drainedSeconds));
    line("API requests (handler)", String(e.apiRequests), String(m.apiRequests));
    line(
      "notice to cordon (model: 2 s + 1/25 s a node)",
      `${fmt(2, 1, " s")} – ${fmt(2 + (e.nodes.length - 1) / 25, 1, " s")}`,
      `p50 ${fmt(m.cordonP50Seconds, 1, " s")}, max ${fmt(m.cordonMaxSeconds, 1, " s")}`,
    );
  }
  const table = markdownTable(["scenario", "figure", "audit estimate", "measured"], rows);
  const described = results.map(
    (r) =>
      `- ${r.name}: ${r.description}${r.auditSeconds ? `; the audit took ${fmt(r.auditSeconds, 1, " s")}` : ""}`,
  );
  return { table: `${described.join("\n")}\n\n${table}`, results: { scenarios: results } };
});

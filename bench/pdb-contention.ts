// Drain under PDB contention: one node (queue mode) holding S StatefulSets of
// R pods, each with a PDB allowing one disruption at a time, and pods whose
// termination takes their whole grace period G (close to the 2-minute notice).
// A StatefulSet recreates a pod only once the old one is gone, so each PDB
// frees up again only after G seconds: evictions per set are serialized.
// Theoretical maximum before the deadline D = 120 s, per set:
//   evictions started:             min(R, ceil(D / G))  (at 0, G, 2G, ...)
//   pods gone, with full grace:    min(R, floor(D / G))
// These are the limits when every pod gets its whole grace period. A handler
// that shortens grace periods to fit the deadline can evict and finish more
// pods, at the cost of shorter shutdowns: the table shows how many pods were
// cut short and the shortest grace given.
// Usage: node bench/pdb-contention.ts [--sets 3] [--replicas 4] [--grace 50]
//        [--handlers nthd,nth] [--source] [--no-write]
import { CoreV1Api } from "@kubernetes/client-node";
import { benchArgs, intOption } from "./lib/args.ts";
import { awsClients, createQueue, deleteQueue, sendSpotWarnings } from "./lib/aws.ts";
import {
  createNamespace,
  createPdb,
  createStatefulSet,
  deleteNodes,
  waitPdbsSettled,
  waitPodsReady,
} from "./lib/cluster.ts";
import { createInstanceNodes, createSpareNodes } from "./lib/fleet.ts";
import { pollUntil } from "./lib/ground.ts";
import { type HandlerName, launchHandler, type RunningHandler } from "./lib/handlers.ts";
import { type InterruptionOutcome, interruptionOutcome } from "./lib/outcome.ts";
import { benchSession } from "./lib/session.ts";
import { type Cell, fmt, markdownTable, ms, seconds } from "./lib/table.ts";
import { type PodFate, watchCordons, watchPods } from "./lib/watch.ts";

const USAGE =
  "usage: node bench/pdb-contention.ts [--sets S] [--replicas R] [--grace G] [--handlers nthd,nth] [--source] [--no-write]";
const values = benchArgs(USAGE, {
  sets: { type: "string", default: "3" },
  replicas: { type: "string", default: "4" },
  grace: { type: "string", default: "50" },
});
const sets = intOption(values, "sets");
const replicas = intOption(values, "replicas");
const graceSeconds = intOption(values, "grace");
const DEADLINE_S = 120;

const theoreticalEvicted = sets * Math.min(replicas, Math.ceil(DEADLINE_S / graceSeconds));
const theoreticalGoneFullGrace = sets * Math.min(replicas, Math.floor(DEADLINE_S / graceSeconds));

interface HandlerRun {
  outcome?: InterruptionOutcome;
  /** Per pod: seconds from the notice to eviction and to gone. */
  timeline?: { pod: string; evictedS?: number; goneS?: number }[];
  firstEvictionMs?: number;
  /** Pods gone before the deadline that got less than their grace period (1 s tolerance). */
  cutShort?: number;
  /** Shortest time between eviction and gone, in seconds (the grace actually given). */
  shortestGraceS?: number;
  error?: string;
}

await benchSession("pdb-contention", values, async ({ g, ctx, handlers }) => {
  const { sqs, ec2 } = awsClients(g.state.motoUrl);
  const core = g.kc.makeApiClient(CoreV1Api);
  const runs: Partial<Record<HandlerName, HandlerRun>> = {};
  for (const h of handlers) {
    const r: HandlerRun = {};
    runs[h] = r;
    const pool = `pdb-${h}`;
    const namespace = pool;
    const [instance] = await createInstanceNodes(g, ec2, pool, 1, 110);
    if (instance === undefined) throw new Error("no instance launched");
    const nodeName = instance.privateDnsName;
    await createNamespace(g, namespace);
    for (let s = 0; s < sets; s++) {
      const app = `set-${s}`;
      await createStatefulSet(
        g,
        namespace,
        { app, pool, graceSeconds, useFullGrace: true },
        replicas,
      );
      await createPdb(g, namespace, app, 1);
    }
    await waitPodsReady(g, namespace, sets * replicas, 120_000);
    const spares = await createSpareNodes(g, pool, 1, 110);
    await waitPdbsSettled(g, namespace);
    const queueUrl = await createQueue(sqs, `nthd-bench-${pool}`);
    const cordons = await watchCordons(g.kc, `nthd-bench/pool=${pool}`);
    const pods = await watchPods(g, namespace, new Set([nodeName]));
    let running: RunningHandler | undefined;
    try {
      running = await launchHandler(h, ctx, { mode: "queue", queueUrl }, pool);
      const eventTime = Date.now();
      const sentAt = await sendSpotWarnings(sqs, queueUrl, [instance.instanceId]);
      const deadline = eventTime + DEADLINE_S * 1000;
      process.stderr.write(`[pdb] ${h}: notice sent; observing until the deadline\n`);
      // Observe until every pod is gone or the deadline (plus a little) has passed.
      await pollUntil(
        "all pods gone",
        () => ([...pods.pods.values()].every((p) => p.goneAt !== undefined) ? true : undefined),
        deadline + 5000 - Date.now(),
        500,
      ).catch(() => undefined);
      r.outcome = interruptionOutcome({
        sentAt,
        nodeOfInstance: new Map([[instance.instanceId, nodeName]]),
        cordonedAt: cordons.cordonedAt,
        pods: pods.pods,
        deadline,
      });
      const notice = Math.min(...sentAt.values());
      const rel = (t: number | undefined) =>
        t === undefined ? undefined : Math.round((t - notice) / 100) / 10;
      const fates: PodFate[] = [...pods.pods.values()];
      r.timeline = fates
        .map((f) => ({ pod: f.name, evictedS: rel(f.evictedAt), goneS: rel(f.goneAt) }))
        .sort((a, b) => (a.evictedS ?? 1e9) - (b.evictedS ?? 1e9));
      const evictions = fates.flatMap((f) => (f.evictedAt === undefined ? [] : [f.evictedAt]));
      r.firstEvictionMs = evictions.length > 0 ? Math.min(...evictions) - notice : undefined;
      // kwok deletes a pod when its grace period (as given in the eviction) ends.
      const given = fates.flatMap((f) =>
        f.evictedAt !== undefined && f.goneAt !== undefined && f.goneAt <= deadline
          ? [(f.goneAt - f.evictedAt) / 1000]
          : [],
      );
      r.cutShort = given.filter((s) => s < graceSeconds - 1).length;
      r.shortestGraceS = given.length > 0 ? Math.min(...given) : undefined;
    } catch (err) {
      r.error = (err as Error).message;
      process.stderr.write(`[pdb] ${h} failed: ${r.error}\n`);
    } finally {
      await running?.stop();
      cordons.stop();
      pods.stop();
      await deleteQueue(sqs, queueUrl);
      await core.deleteNamespace({ name: namespace }).catch(() => undefined);
      await deleteNodes(g, [nodeName, ...spares]);
    }
  }

  const rows: Cell[][] = Object.entries(runs).map(([h, r]) => {
    const o = r.outcome;
    if (o === undefined) return [h, `failed: ${r.error?.slice(0, 80)}`];
    return [
      h,
      o.pods,
      `${o.evictedBeforeDeadline} / ${theoreticalEvicted}`,
      `${o.goneBeforeDeadline} / ${theoreticalGoneFullGrace}`,
      `${r.cutShort ?? "n/a"} (shortest ${fmt(r.shortestGraceS, 1, " s")})`,
      ms(r.firstEvictionMs),
      seconds(o.allCordonedMs),
    ];
  });
  const table = markdownTable(
    [
      "handler",
      "pods",
      "evicted before deadline / max at full grace",
      "gone before deadline / max at full grace",
      `cut short of ${graceSeconds} s grace`,
      "first eviction",
      "cordoned after",
    ],
    rows,
  );
  return {
    table,
    results: {
      sets,
      replicas,
      graceSeconds,
      deadlineSeconds: DEADLINE_S,
      theoreticalEvicted,
      theoreticalGoneFullGrace,
      runs,
    },
  };
});

/**
 * Queue mode's periodic drain audit (NTHD_AUDIT_INTERVAL_SECONDS, off by
 * default): every interval, the audit `nthd audit` runs, against a Spot
 * notice, exported as nthd_audit_* metrics, so a dashboard and an alert show
 * which pools have nodes that would not drain in time before a notice proves it.
 *
 * Its cost is bounded: nodes come from the informer queue mode already keeps;
 * pods are listed in pages of 500 through the client's rate limiter like any
 * drain traffic; no audit starts while drains run (the API budget and the CPU
 * are theirs); and the work yields to the event loop between nodes so the
 * queue consumer is never held up for long. Figures at 1,000 nodes and
 * 10,000 pods are in docs/audit.md.
 */
import { setTimeout as sleep, setImmediate as yieldToLoop } from "node:timers/promises";
import type { Logger } from "pino";
import type { Config } from "../config/index.ts";
import {
  AUDIT_DEFAULTS,
  auditNode,
  auditTogether,
  type NodeVerdict,
  prepareAudit,
  type TogetherEstimate,
  togetherGroups,
} from "../drain/audit.ts";
import { readAuditSnapshot } from "../drain/audit-read.ts";
import { slimNode } from "../drain/audit-snapshot.ts";
import { planSettingsOf } from "../drain/context.ts";
import { parseLabelSelector, selectorMatches } from "../drain/selector.ts";
import { errorMessage, NthdError } from "../errors.ts";
import type { KubeClient } from "../kube/client.ts";
import type { NodeIndex } from "../kube/node-index.ts";
import type { Pool } from "../observe/labels.ts";
import { type AuditFigures, countAuditRun, setAuditFigures } from "../observe/metrics.ts";

/** Spot's two-minute warning: the notice the periodic audit measures against. */
const NOTICE_SECONDS = 120;
/** The first audit comes soon after start-up, so the metrics are there minutes after a deploy. */
const FIRST_DELAY_SECONDS = 15;
/** The next try after an audit put off because drains were running. */
const RETRY_SECONDS = 60;
/** Nodes audited between two yields to the event loop. */
const NODES_PER_SLICE = 25;
/** Series of nthd_audit_blocking_pdb_pods at most. */
export const MAX_PDB_SERIES = 50;

export interface AuditMetricsDeps {
  readonly kube: Pick<KubeClient, "listPage">;
  readonly nodes: Pick<NodeIndex, "nodes">;
  /** True while the engine has work in progress: no audit then. */
  readonly busy: () => boolean;
  readonly config: Config;
  readonly log: Logger;
  readonly signal: AbortSignal;
  readonly clock?: () => Date;
  /** Seconds before the first audit (tests shorten it). */
  readonly firstDelaySeconds?: number;
}

/** Runs audits until `signal` aborts; never rejects. Throws at once on a bad node selector. */
export function startAuditMetrics(d: AuditMetricsDeps): Promise<void> {
  const parsed = parseLabelSelector(d.config.auditNodeSelector);
  if (!parsed.ok) {
    throw new NthdError(
      "CONFIG_INVALID",
      `invalid setting NTHD_AUDIT_NODE_SELECTOR=${JSON.stringify(d.config.auditNodeSelector)}: ${parsed.message}`,
    );
  }
  const selector = parsed.selector;
  const log = d.log.child({ part: "audit" });
  return (async () => {
    let wait = d.firstDelaySeconds ?? FIRST_DELAY_SECONDS;
    while (!d.signal.aborted) {
      try {
        await sleep(wait * 1000, undefined, { signal: d.signal });
      } catch {
        return;
      }
      if (d.busy()) {
        countAuditRun("skipped");
        log.debug("drains running; audit put off");
        wait = Math.min(RETRY_SECONDS, d.config.auditIntervalSeconds);
        continue;
      }
      const started = performance.now();
      try {
        const nodes = d.nodes
          .nodes()
          .filter((n) => selectorMatches(selector, n.metadata?.labels ?? {}))
          .map(slimNode);
        const figures = await auditOnce(d, nodes);
        const seconds = (performance.now() - started) / 1000;
        setAuditFigures({ ...figures, finishedAt: (d.clock ?? (() => new Date()))(), seconds });
        countAuditRun("ok");
        log.info(
          { nodes: nodes.length, atRisk: figures.pools.reduce((n, p) => n + p.atRisk, 0), seconds },
          "drain audit done",
        );
      } catch (err) {
        if (d.signal.aborted) return;
        countAuditRun("error");
        log.warn({ err: errorMessage(err) }, "drain audit failed");
      }
      wait = d.config.auditIntervalSeconds;
    }
  })();
}

async function auditOnce(
  d: AuditMetricsDeps,
  nodes: ReturnType<typeof slimNode>[],
): Promise<Omit<AuditFigures, "finishedAt" | "seconds">> {
  const snapshot = await readAuditSnapshot(d.kube, { nodes, lane: "normal", signal: d.signal });
  const c = d.config;
  const prepared = prepareAudit(snapshot, {
    noticeSeconds: NOTICE_SECONDS,
    settings: planSettingsOf(c),
    model: {
      startSeconds: AUDIT_DEFAULTS.startSeconds,
      cordonsPerSecond: AUDIT_DEFAULTS.cordonsPerSecond,
      maxConcurrentDrains: c.maxConcurrentDrains,
      qps: c.kubeApiQps,
      burst: c.kubeApiBurst,
    },
    podStartupSeconds: AUDIT_DEFAULTS.podStartupSeconds,
    now: (d.clock ?? (() => new Date()))(),
  });
  const verdicts: NodeVerdict[] = [];
  for (const [i, node] of snapshot.nodes.entries()) {
    verdicts.push(auditNode(prepared, node));
    if (i % NODES_PER_SLICE === NODES_PER_SLICE - 1) await yieldToLoop();
    d.signal.throwIfAborted();
  }
  const zones: TogetherEstimate[] = [];
  for (const group of togetherGroups(snapshot.nodes, "spot-zone")) {
    zones.push(auditTogether(prepared, "spot-zone", group));
    await yieldToLoop();
  }
  return summarizeAudit(verdicts, zones);
}

/** The metrics' figures from verdicts and zone estimates. Pure. */
export function summarizeAudit(
  verdicts: readonly NodeVerdict[],
  zones: readonly TogetherEstimate[],
): Omit<AuditFigures, "finishedAt" | "seconds"> {
  const pools = new Map<string, { pool: Pool; nodes: number; atRisk: number }>();
  const pdbPods = new Map<string, number>();
  for (const v of verdicts) {
    const key = `${v.pool.instanceType}\u0000${v.pool.availabilityZone}\u0000${v.pool.capacityType}`;
    const entry = pools.get(key) ?? { pool: v.pool, nodes: 0, atRisk: 0 };
    pools.set(key, entry);
    entry.nodes++;
    if (v.verdict === "at-risk") entry.atRisk++;
    for (const b of v.blockers) {
      if (b.code !== "pdb-no-headroom" && b.code !== "pdb-too-slow") continue;
      pdbPods.set(b.object, (pdbPods.get(b.object) ?? 0) + b.pods.length);
    }
  }
  const blocking = [...pdbPods]
    .map(([object, pods]) => {
      const [namespace = "", name = ""] = object.replace(/^PodDisruptionBudget /, "").split("/");
      return { namespace, name, pods };
    })
    .sort(
      (a, b) =>
        b.pods - a.pods || `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`),
    );
  return {
    pools: [...pools.values()],
    blockingPdbs: blocking.slice(0, MAX_PDB_SERIES),
    blockingPdbCount: blocking.length,
    zones: zones.map((z) => ({ zone: z.zone ?? "unknown", podsLate: z.pods.cut + z.pods.left })),
  };
}

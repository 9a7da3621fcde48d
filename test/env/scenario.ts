// The fault scenarios' common ending: what happened to each notice, read
// from the cluster and from nthd's own metrics, printed as one line
// (`scenario: notices=N handled=N lost=0 doubled=0 dlq=0 restarts=0`).
import { CoreV1Api } from "@kubernetes/client-node";
import { kubeConfig } from "./ground.ts";
import { metricSum, type NthdProcess, scrapeMetrics } from "./nthd-process.ts";

export interface ScenarioCount {
  /** Notices the peers announced. */
  readonly notices: number;
  /** Notices whose node ended drained (nthd/state=drained) or their message deleted. */
  readonly handled: number;
  /** Notices acted on more than once (a second drain of the same node). */
  readonly doubled: number;
  /** Messages that ended in the dead-letter queue (IMDS mode has none). */
  readonly dlq: number;
  /** Times the nthd process exited during the scenario. */
  readonly restarts: number;
}

export function scenarioLine(name: string, c: ScenarioCount): string {
  const lost = c.notices - c.handled;
  return `scenario: notices=${c.notices} handled=${c.handled} lost=${lost} doubled=${c.doubled} dlq=${c.dlq} restarts=${c.restarts} (${name})`;
}

/** Prints the line where the test output shows it, and returns it. */
export function printScenario(name: string, c: ScenarioCount): string {
  const line = scenarioLine(name, c);
  process.stdout.write(`${line}\n`);
  return line;
}

/**
 * One IMDS-mode node's outcome: handled when nthd's state label says
 * drained; doubled when nthd counted more than one completed drain or
 * evicted more pods than the node had (`pods`).
 */
export async function imdsNodeOutcome(
  node: string,
  nthd: NthdProcess,
  metricsPort: number,
  pods = 2,
): Promise<ScenarioCount> {
  const n = await kubeConfig().makeApiClient(CoreV1Api).readNode({ name: node });
  const handled = n.metadata?.labels?.["nthd/state"] === "drained" ? 1 : 0;
  const metrics = await scrapeMetrics(metricsPort);
  // Only finished drains: a notice handed over while the API server was away
  // ends as a failed attempt (nothing reached the node) and is tried again.
  const drains = metricSum(metrics, "nthd_drains_total", { outcome: "completed" });
  const evicted = metricSum(metrics, "nthd_pods_evicted_total");
  return {
    notices: 1,
    handled,
    // A second drain of the node, or a pod evicted twice.
    doubled: Math.max(0, drains - 1) + Math.max(0, evicted - pods),
    dlq: 0,
    restarts: nthd.child.exitCode === null ? 0 : 1,
  };
}

import { createHash } from "node:crypto";
import { API_SERVER_RETRY } from "../async/backoff.ts";
import { retryUntil } from "../async/retry.ts";
import { createAwsClients } from "../aws/clients.ts";
import { replicasFrom } from "../drain/replicas.ts";
import { errorMessage, NthdError } from "../errors.ts";
import { leaseApi } from "../kube/leases.ts";
import { createNodeIndex, type NodeIndex } from "../kube/node-index.ts";
import { createReplicaLease, leaseNamespace, replicaLeaseName } from "../kube/replica-lease.ts";
import type { Logger } from "../observe/log.ts";
import { readiness } from "../observe/readiness.ts";
import { startQueueSource } from "../sources/queue/consumer.ts";
import { createLifecycleActions } from "../sources/queue/lifecycle-actions.ts";
import { createLifecycleDuties } from "../sources/queue/lifecycle-duties.ts";
import { nodeLookupFrom } from "../sources/queue/resolve.ts";
import { checkPermissions } from "./aws-permissions.ts";
import { collectAllGarbage } from "./collect-garbage.ts";
import type { ModeContext } from "./context.ts";
import { quietCollector } from "./quiet-collector.ts";

/** When start-up's garbage is collected: after the first receive and EC2 priming. */
const STARTUP_GC_DELAY_MS = 5000;
/** How long after the last notice, or the end of its work, memory is collected (quiet-collector.ts). */
const QUIET_GC_MS = 30_000;

/**
 * Queue mode: one Deployment (one or more replicas) consumes the SQS queue
 * that EventBridge rules and Auto Scaling hooks feed, and drains whichever
 * node an event names. Imported only in queue mode, so IMDS mode never loads
 * the AWS SDK.
 *
 * Replicas share the work through the cluster: each holds a Lease, and the
 * record nthd writes on a node names the replica that owns the node's work
 * (src/drain/ownership.ts). On shutdown the order matters: the source stops
 * and hands its messages back, the engine stops its work, the lifecycle
 * duties end, and only then is the Lease deleted, so the others adopt the
 * work at once and never while this replica still acts on it.
 */
export async function runQueueMode(ctx: ModeContext): Promise<void> {
  const { config } = ctx.loaded;
  if (config.queueUrl === "") {
    throw new NthdError("CONFIG_INVALID", "queue-url: required in queue mode (QUEUE_URL)");
  }
  const log = ctx.log.child({ source: "queue" });
  const aws = createAwsClients(config);
  const permissions = await checkPermissions(aws, config.queueUrl, log);

  const nodes = createNodeIndex(ctx.kube, {
    onError: (err) => log.warn({ err: errorMessage(err) }, "node watch failed; restarting"),
  });
  const lease = createReplicaLease({
    api: leaseApi(ctx.kube, leaseNamespace(config.podNamespace)),
    name: replicaLeaseName(config.podName),
    // Replicas reading the same queue share its work (and the drain budget).
    group: createHash("sha256").update(config.queueUrl).digest("hex").slice(0, 16),
    durationSeconds: config.leaseDurationSeconds,
    log,
  });
  const duties = createLifecycleDuties({
    lifecycle: createLifecycleActions({ autoscaling: aws.autoscaling, log }),
    config,
    log,
    signal: ctx.signal,
  });
  let leased = false;
  // Shutdown also ends a start-up still waiting for the API server.
  const stopIndex = () => void nodes.stop();
  ctx.signal.addEventListener("abort", stopIndex, { once: true });
  // Ends the periodic audit with the mode, however the mode ends.
  const stopAudit = new AbortController();
  const quiet = quietCollector({ quietMs: QUIET_GC_MS, collect: collectAllGarbage });
  let audit: { done: Promise<void> } | undefined;
  try {
    await nodes.start();
    ctx.engine.useNodeCache(nodes);
    // The API server may go away again between these steps; each is retried
    // rather than ending the process (see retryUntil for why).
    const started = await untilDone(
      async () => {
        await lease.start();
        return true;
      },
      "taking the replica lease",
      log,
      ctx.signal,
    );
    if (started === undefined) return;
    leased = true;
    ctx.engine.useReplicas(replicasFrom(lease));
    ctx.engine.onDuty(duties.handle);
    readiness.set("kube", true);
    // Work whose owner is gone (or that was this pod's before a restart) goes
    // on here; lifecycle actions recorded with it are handed to `duties`.
    const resumed = await untilDone(
      () => ctx.engine.resume(),
      "resuming recorded work",
      log,
      ctx.signal,
    );
    if (resumed === undefined) return;
    if (resumed.length > 0) {
      const lifecycle = resumed.filter((r) => r.notice.needsCompletion).length;
      log.info({ notices: resumed.length, lifecycle }, "resumed recorded work");
    }

    readiness.set("source", true);
    audit = await startAudit(ctx, nodes, log, stopAudit.signal);
    // After the consumer's first receive and the first priming of EC2 facts.
    setTimeout(collectAllGarbage, STARTUP_GC_DELAY_MS).unref();
    await startQueueSource({
      config,
      sqs: aws.sqs,
      ec2: aws.ec2,
      autoscaling: aws.autoscaling,
      handle: (notice, nodeName) => {
        quiet.touch();
        const receipt = ctx.handle(notice, nodeName);
        // The work's garbage is collected once it is over (done never rejects).
        void receipt.done.then(quiet.touch);
        return receipt;
      },
      resolver: nodeLookupFrom(nodes),
      clusterInstanceIds: () => nodes.instanceIds(),
      // Any answer, even "no such node", proves the API server is reachable;
      // the urgent lane, so the probe never waits behind evictions.
      kubeProbe: (signal) =>
        ctx.kube.getNode(config.nodeName || "nthd-api-health-probe", { signal, lane: "urgent" }),
      log,
      signal: ctx.signal,
      denied: permissions.denied,
      onDenied: permissions.refused,
    });
  } finally {
    quiet.stop();
    stopAudit.abort();
    await audit?.done;
    await ctx.engine.close();
    await duties.settled();
    if (leased) await lease.release();
    ctx.signal.removeEventListener("abort", stopIndex);
    await nodes.stop();
    for (const client of [aws.sqs, aws.ec2, aws.autoscaling]) client.destroy();
  }
}

/** Kubernetes calls start-up cannot do without, retried with a jittered back-off until they work. */
function untilDone<T>(
  attempt: () => Promise<T>,
  what: string,
  log: Logger,
  signal: AbortSignal,
): Promise<T | undefined> {
  return retryUntil(attempt, {
    backoff: API_SERVER_RETRY,
    signal,
    onFailure: (err, tries, waitMs) =>
      log.warn({ err: errorMessage(err), tries, retryInMs: waitMs }, `${what} failed; retrying`),
  });
}

/** The periodic drain audit, when NTHD_AUDIT_INTERVAL_SECONDS asks for it (its code is loaded only then). */
async function startAudit(
  ctx: ModeContext,
  nodes: NodeIndex,
  log: Logger,
  stop: AbortSignal,
): Promise<{ done: Promise<void> } | undefined> {
  const { config } = ctx.loaded;
  if (config.auditIntervalSeconds === 0) return undefined;
  const { startAuditMetrics } = await import("./audit-metrics.ts");
  const done = startAuditMetrics({
    kube: ctx.kube,
    nodes,
    busy: () => ctx.engine.active().length > 0,
    config,
    log,
    signal: AbortSignal.any([ctx.signal, stop]),
  });
  return { done };
}

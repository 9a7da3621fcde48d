import { createAwsClients } from "../aws/clients.ts";
import { errorMessage, NthdError } from "../errors.ts";
import { createNodeIndex, type NodeIndex } from "../kube/node-index.ts";
import type { Logger } from "../observe/log.ts";
import { readiness } from "../observe/readiness.ts";
import { startQueueSource } from "../sources/queue/consumer.ts";
import { nodeLookupFrom } from "../sources/queue/resolve.ts";
import { checkPermissions } from "./aws-permissions.ts";
import type { ModeContext } from "./context.ts";

/**
 * Queue mode: one Deployment (one or more replicas) consumes the SQS queue
 * that EventBridge rules and Auto Scaling hooks feed, and drains whichever
 * node an event names. Imported only in queue mode, so IMDS mode never loads
 * the AWS SDK.
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
  await nodes.start();
  // Ends the periodic audit with the mode, however the mode ends.
  const stopAudit = new AbortController();
  let audit: { done: Promise<void> } | undefined;
  ctx.engine.useNodeCache(nodes);
  readiness.set("kube", true);
  try {
    // Drains an earlier replica had started go on. Lifecycle actions need no
    // help here: their messages stay in the queue until completed, so they
    // come back to whichever replica is running.
    const resumed = await ctx.engine.resume();
    if (resumed.length > 0) log.info({ notices: resumed.length }, "resumed recorded work");

    readiness.set("source", true);
    audit = await startAudit(ctx, nodes, log, stopAudit.signal);
    await startQueueSource({
      config,
      sqs: aws.sqs,
      ec2: aws.ec2,
      autoscaling: aws.autoscaling,
      handle: ctx.handle,
      resolver: nodeLookupFrom(nodes),
      clusterInstanceIds: () => nodes.instanceIds(),
      log,
      signal: ctx.signal,
      denied: permissions.denied,
      onDenied: permissions.refused,
    });
  } finally {
    stopAudit.abort();
    await audit?.done;
    await nodes.stop();
    for (const client of [aws.sqs, aws.ec2, aws.autoscaling]) client.destroy();
  }
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

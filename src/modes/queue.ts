import { createAwsClients } from "../aws/clients.ts";
import { errorMessage, NthdError } from "../errors.ts";
import { createNodeIndex } from "../kube/node-index.ts";
import { readiness } from "../observe/readiness.ts";
import { startQueueSource } from "../sources/queue/consumer.ts";
import { nodeLookupFrom } from "../sources/queue/resolve.ts";
import type { ModeContext } from "./context.ts";
import { collectStartupGarbage } from "./startup-gc.ts";

/** When start-up's garbage is collected: after the first receive and EC2 priming. */
const STARTUP_GC_DELAY_MS = 5000;

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

  const nodes = createNodeIndex(ctx.kube, {
    onError: (err) => log.warn({ err: errorMessage(err) }, "node watch failed; restarting"),
  });
  // Shutdown also ends a start-up still waiting for the API server.
  const stopIndex = () => void nodes.stop();
  ctx.signal.addEventListener("abort", stopIndex, { once: true });
  try {
    await nodes.start();
    ctx.engine.useNodeCache(nodes);
    readiness.set("kube", true);
    // Drains an earlier replica had started go on. Lifecycle actions need no
    // help here: their messages stay in the queue until completed, so they
    // come back to whichever replica is running.
    const resumed = await ctx.engine.resume();
    if (resumed.length > 0) log.info({ notices: resumed.length }, "resumed recorded work");

    readiness.set("source", true);
    // After the consumer's first receive and the first priming of EC2 facts.
    setTimeout(collectStartupGarbage, STARTUP_GC_DELAY_MS).unref();
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
    });
  } finally {
    ctx.signal.removeEventListener("abort", stopIndex);
    await nodes.stop();
    for (const client of [aws.sqs, aws.ec2, aws.autoscaling]) client.destroy();
  }
}

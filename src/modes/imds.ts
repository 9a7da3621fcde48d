import { NthdError } from "../errors.ts";
import { readiness } from "../observe/readiness.ts";
import { createImdsClient } from "../sources/imds/client.ts";
import { readInstanceFacts } from "../sources/imds/facts.ts";
import { startImdsSource } from "../sources/imds/poller.ts";
import type { ModeContext } from "./context.ts";
import { collectStartupGarbage } from "./startup-gc.ts";

/**
 * IMDS mode: this pod watches its own instance's metadata and drains its own
 * node. Start-up checks both ends before the first poll: the node exists in
 * the API server, and IMDS answers with an instance id.
 */
export async function runImdsMode(ctx: ModeContext): Promise<void> {
  const { config } = ctx.loaded;
  const nodeName = config.nodeName;
  const log = ctx.log.child({ node: nodeName });

  const node = await ctx.kube.getNode(nodeName, { signal: ctx.signal });
  if (node === undefined) {
    throw new NthdError(
      "KUBE_NODE_NOT_FOUND",
      `node ${nodeName} (NODE_NAME) does not exist in the cluster: set NODE_NAME from the downward API spec.nodeName`,
    );
  }
  readiness.set("kube", true);

  const client = createImdsClient(config);
  const facts = await readInstanceFacts(client, ctx.signal);
  log.info(
    { instanceId: facts.instanceId, instanceType: facts.instanceType },
    "instance identified",
  );

  // Finish what an earlier nthd on this node had started (cordon, drain).
  const resumed = await ctx.engine.resume({ nodeName });
  if (resumed.length > 0) log.info({ notices: resumed.length }, "resumed recorded work");

  readiness.set("source", true);
  setImmediate(collectStartupGarbage);
  await startImdsSource({
    client,
    config,
    instanceId: facts.instanceId,
    facts,
    log,
    signal: ctx.signal,
    nodeName,
    handle: ctx.handle,
  });
  await client.close();
}

import { errorMessage, NthdError } from "../errors.ts";
import { readiness } from "../observe/readiness.ts";
import { createImdsClient } from "../sources/imds/client.ts";
import { readInstanceFacts } from "../sources/imds/facts.ts";
import { startImdsSource } from "../sources/imds/poller.ts";
import type { ModeContext } from "./context.ts";
import { DEFAULT_UPTIME_FILE, readUptimeSeconds } from "./uptime.ts";

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

  // A node aws-node-termination-handler cordoned for a scheduled reboot is given back
  // once the host has rebooted: the handler that starts after the reboot does it.
  const uptimeFile = config.uptimeFromFile || DEFAULT_UPTIME_FILE;
  try {
    await ctx.engine.afterReboot(nodeName, await readUptimeSeconds(uptimeFile));
  } catch (err) {
    log.warn({ file: uptimeFile, err: errorMessage(err) }, "cannot read the host's uptime");
  }

  // Finish what an earlier nthd on this node had started (cordon, drain).
  const resumed = await ctx.engine.resume({ nodeName });
  if (resumed.length > 0) log.info({ notices: resumed.length }, "resumed recorded work");

  readiness.set("source", true);
  setImmediate(collectStartupGarbage);
  // One MonitorError Event per monitor and distinct error, as the poller logs them.
  const lastError = new Map<string, string>();
  await startImdsSource({
    client,
    config,
    instanceId: facts.instanceId,
    facts,
    log,
    signal: ctx.signal,
    nodeName,
    handle: ctx.handle,
    onError: (monitor, err) => {
      const text = errorMessage(err);
      if (lastError.get(monitor) === text) return;
      lastError.set(monitor, text);
      ctx.engine.monitorError(nodeName, `${monitor} monitor: ${text}`);
    },
  });
  await client.close();
}

/**
 * One full collection once start-up is over. Module loading, parsing and the
 * start-up requests leave megabytes of garbage, and a daemon that then
 * allocates as little as an IMDS poller may not run a major collection for
 * tens of seconds, so its memory stays at the start-up peak until then.
 * "last-resort" is V8's collect-all-available-garbage: full collections that
 * also compact and hand freed pages back (about 10 ms here, once). The
 * DaemonSet runs node with --expose-gc (charts/nthd/files/imds-node-flags.txt)
 * for this call alone; without the flag it does nothing.
 */
function collectStartupGarbage(): void {
  (globalThis as { gc?: (options: object) => void }).gc?.({ type: "major", flavor: "last-resort" });
}

import { API_SERVER_RETRY } from "../async/backoff.ts";
import { Nudge } from "../async/nudge.ts";
import { retryUntil } from "../async/retry.ts";
import { errorMessage, isNthdError, NthdError } from "../errors.ts";
import type { Logger } from "../observe/log.ts";
import { readiness } from "../observe/readiness.ts";
import { createImdsClient, type MetadataReader } from "../sources/imds/client.ts";
import { type InstanceFacts, readInstanceFacts } from "../sources/imds/facts.ts";
import { startImdsSource } from "../sources/imds/poller.ts";
import { staleAfterMs, startAnswerWatchdog } from "./answer-watchdog.ts";
import { collectAllGarbage } from "./collect-garbage.ts";
import type { ModeContext } from "./context.ts";
import { afterResume } from "./resume-gate.ts";
import { DEFAULT_UPTIME_FILE, readUptimeSeconds } from "./uptime.ts";

/** A failure logged again at warn level at most this often; between, at debug. */
const RELOG_MS = 60_000;

/**
 * IMDS mode: this pod watches its own instance's metadata and drains its own
 * node. It never exits for an outage: a handler that exits is restarted by
 * CrashLoopBackOff, whose back-off can outlast a two-minute Spot warning.
 * Instead it reports not ready and keeps trying, both ends at once:
 *
 * - IMDS, for the instance id every notice carries, retried at most one poll
 *   interval apart (IMDS is the instance's own: retries cost nobody else),
 *   after which polling starts at once;
 * - the API server, for the node, retried with a longer jittered back-off.
 *   Polling does not wait for it: a notice found before the API server
 *   answers is handed to the engine again on every poll until it is
 *   recorded, so it is handled as soon as both answer.
 *
 * Only a configuration error stops it (exit 2): a bad kubeconfig, or a
 * NODE_NAME that names no node of the cluster.
 */
export async function runImdsMode(ctx: ModeContext): Promise<void> {
  const { config } = ctx.loaded;
  const nodeName = config.nodeName;
  const log = ctx.log.child({ node: nodeName });
  const client = createImdsClient(config);
  const life = new AbortController();
  const signal = AbortSignal.any([ctx.signal, life.signal]);
  let fatal: unknown;
  const stopFor = (err: unknown) => {
    fatal ??= err;
    life.abort(err);
  };

  // The API side runs beside everything below; a configuration error ends the mode.
  // Settles once the recorded work was taken back, or the first try at it failed.
  let triedResume = () => {};
  const resumeTried = new Promise<void>((resolve) => {
    triedResume = resolve;
  });
  // A notice held for the resume wakes the API side's retry (resume-gate.ts).
  const apiWake = new Nudge();
  const apiSide = nodeThenResume(ctx, nodeName, log, signal, triedResume, apiWake)
    .catch(stopFor)
    .finally(triedResume);

  readiness.set("source", false, "waiting for the instance metadata service");
  const facts = await waitForInstance(client, config.imdsPollIntervalMs, log, signal);
  if (facts !== undefined) {
    log.info(
      { instanceId: facts.instanceId, instanceType: facts.instanceType },
      "instance identified",
    );
    readiness.set("source", true);
    setImmediate(collectAllGarbage);
    const watchdog = startAnswerWatchdog({
      staleAfterMs: staleAfterMs(config.imdsPollIntervalMs),
      checkEveryMs: config.imdsPollIntervalMs,
      signal,
      onStale: (ms) =>
        readiness.set(
          "source",
          false,
          `instance metadata service not answering for ${Math.round(ms / 1000)} s`,
        ),
      onFresh: () => readiness.set("source", true),
    });
    // One MonitorError Event per monitor and distinct error, as the poller logs them.
    const lastError = new Map<string, string>();
    await startImdsSource({
      client,
      config,
      instanceId: facts.instanceId,
      facts,
      log,
      signal,
      nodeName,
      onAnswer: watchdog.answered,
      handle: afterResume(ctx.handle, resumeTried, config.imdsPollIntervalMs, () =>
        apiWake.nudge(),
      ),
      onError: (monitor, err) => {
        const text = errorMessage(err);
        if (lastError.get(monitor) === text) return;
        lastError.set(monitor, text);
        ctx.engine.monitorError(nodeName, `${monitor} monitor: ${text}`);
      },
    });
  }
  life.abort();
  await apiSide;
  await client.close();
  if (fatal !== undefined) throw fatal;
}

/** The instance facts, retried until IMDS answers; undefined once `signal` aborts. */
async function waitForInstance(
  client: MetadataReader,
  pollIntervalMs: number,
  log: Logger,
  signal: AbortSignal,
): Promise<InstanceFacts | undefined> {
  const relog = relogger(log, "instance metadata service not answering; retrying");
  const facts = await retryUntil(() => readInstanceFacts(client, signal), {
    // Never more than a poll interval apart: once IMDS answers, polling
    // starts within one interval, as if it had been polling all along.
    backoff: { baseMs: Math.min(250, pollIntervalMs), capMs: pollIntervalMs },
    signal,
    onFailure: (err, tries) => {
      readiness.set("source", false, `instance metadata service: ${errorMessage(err)}`);
      relog(err, tries);
    },
  });
  if (facts !== undefined && relog.failed()) log.info("instance metadata service answers");
  return facts;
}

/**
 * Checks that NODE_NAME is a node of the cluster, then finishes what an
 * earlier nthd on this node had started. Retries while the API server is
 * unreachable; throws CONFIG_INVALID when the node does not exist.
 */
async function nodeThenResume(
  ctx: ModeContext,
  nodeName: string,
  log: Logger,
  signal: AbortSignal,
  triedResume: () => void,
  wake: Nudge,
): Promise<void> {
  const relog = relogger(log, "API server not answering; retrying");
  const options = {
    backoff: API_SERVER_RETRY,
    signal,
    wake,
    fatal: (err: unknown) => isNthdError(err, "CONFIG_INVALID"),
    onFailure: (err: unknown, tries: number) => relog(err, tries),
  };
  const found = await retryUntil(async () => {
    if ((await ctx.kube.getNode(nodeName, { signal })) !== undefined) return true;
    throw new NthdError(
      "CONFIG_INVALID",
      `node ${nodeName} (NODE_NAME) does not exist in the cluster: set NODE_NAME from the downward API spec.nodeName`,
    );
  }, options);
  if (found === undefined) return;
  if (relog.failed()) log.info("API server answers; node found");
  // A node aws-node-termination-handler cordoned for a scheduled reboot is given back
  // once the host has rebooted: the handler that starts after the reboot does it.
  const uptimeFile = ctx.loaded.config.uptimeFromFile || DEFAULT_UPTIME_FILE;
  try {
    await ctx.engine.afterReboot(nodeName, await readUptimeSeconds(uptimeFile));
  } catch (err) {
    log.warn({ file: uptimeFile, err: errorMessage(err) }, "cannot read the host's uptime");
  }
  // Finish what an earlier nthd on this node had started (cordon, drain).
  // New notices wait for this (see resume-gate.ts), but not for a resume that
  // keeps failing: a first failure lets them through, the resume goes on retrying.
  const resumed = await retryUntil(() => ctx.engine.resume({ nodeName }), {
    ...options,
    onFailure: (err: unknown, tries: number) => {
      triedResume();
      relog(err, tries);
    },
  });
  triedResume();
  if (resumed !== undefined && resumed.length > 0) {
    log.info({ notices: resumed.length }, "resumed recorded work");
  }
}

/**
 * Logs a retried failure at warn the first time, when its text changes and
 * at most once a minute; at debug in between.
 */
function relogger(log: Logger, msg: string) {
  let last: string | undefined;
  let loggedAt = 0;
  let failures = 0;
  const fn = (err: unknown, tries: number) => {
    failures++;
    const text = errorMessage(err);
    const now = Date.now();
    if (text !== last || now - loggedAt >= RELOG_MS) {
      log.warn({ err: text, tries }, msg);
      last = text;
      loggedAt = now;
    } else log.debug({ err: text, tries }, msg);
  };
  return Object.assign(fn, { failed: () => failures > 0 });
}

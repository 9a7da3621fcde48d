import type { LoadedConfig } from "./config/index.ts";
import { createDrainEngine } from "./drain/engine.ts";
import { errorMessage, isNthdError } from "./errors.ts";
import { createKubeClient } from "./kube/client.ts";
import type { ModeContext } from "./modes/context.ts";
import { createNoticeHandler } from "./modes/notice-handler.ts";
import { watchApiHealth } from "./observe/api-health.ts";
import { createLogger } from "./observe/log.ts";
import {
  discardMetrics,
  enableActionsNodeMetric,
  initializeSeries,
  loadMetrics,
  setBuildInfo,
} from "./observe/metrics.ts";
import { readiness } from "./observe/readiness.ts";
import { listenersFromConfig, type ObserveServer, startObserveServer } from "./observe/server.ts";
import { VERSION } from "./version.ts";

/** A probe read from the API server's cache answers in milliseconds; 4 s is an outage. */
const API_PROBE_TIMEOUT_MS = 4_000;

/**
 * Runs the configured mode until SIGTERM/SIGINT. Each mode is imported
 * lazily, so IMDS mode never loads the AWS SDK. Returns the exit code.
 */
export async function runDaemon(loaded: LoadedConfig): Promise<number> {
  const { config, mode } = loaded;
  const log = createLogger(config).child({ mode });
  // prom-client is loaded only for a process that serves /metrics.
  let metrics: Awaited<ReturnType<typeof loadMetrics>> | undefined;
  if (config.enablePrometheusServer) metrics = await loadMetrics();
  else discardMetrics();
  enableActionsNodeMetric(config.enableActionsNodeMetric);
  if (metrics) initializeSeries(mode);
  for (const name of loaded.deprecatedUsed)
    log.warn({ setting: name }, "deprecated setting name used");
  setBuildInfo(VERSION, mode);
  readiness.expect("config", "kube", "source");
  readiness.set("config", true);
  if (config.kubernetesServiceHost)
    process.env.KUBERNETES_SERVICE_HOST = config.kubernetesServiceHost;
  if (config.kubernetesServicePort)
    process.env.KUBERNETES_SERVICE_PORT = config.kubernetesServicePort;

  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    log.info({ signal }, "stopping");
    stop.abort(new Error(`received ${signal}`));
  };
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);

  let server: ObserveServer | undefined;
  const listeners = listenersFromConfig(config);
  try {
    if (listeners.length > 0) {
      metrics?.enableProcessMetrics();
      server = await startObserveServer({
        bindAddress: config.serverBindAddress,
        listeners,
        livenessPath: config.probesServerEndpoint,
        ...(metrics ? { registry: metrics.registry } : {}),
        readiness,
        log,
      });
    }
    // The webhook brings the whole undici client (proxy agent included): load it only when used.
    const webhook =
      config.webhookUrl === ""
        ? undefined
        : await (await import("./observe/webhook.ts")).webhookFromConfig(config, log);
    const kube = createKubeClient({
      kubeconfigPath: config.kubeconfig,
      qps: config.kubeApiQps,
      burst: config.kubeApiBurst,
      requestTimeoutMs: config.kubeApiTimeoutSeconds * 1000,
      watchIdleTimeoutMs: config.kubeWatchIdleTimeoutSeconds * 1000,
    });
    const engine = createDrainEngine({ kube, config, log, webhook });
    const handle = createNoticeHandler({ engine, log });
    const context: ModeContext = { loaded, kube, engine, handle, log, signal: stop.signal };
    log.info({ version: VERSION, dryRun: config.dryRun }, "nthd starting");
    // Any answer, even "no such node", proves the API server is reachable.
    const probeNode = config.nodeName || "nthd-api-health-probe";
    const healthStop = new AbortController();
    const health = watchApiHealth({
      contact: kube.contact,
      probe: (signal) => kube.probe(probeNode, { signal, timeoutMs: API_PROBE_TIMEOUT_MS }),
      readiness,
      idleMs: config.apiProbeIdleSeconds * 1000,
      log,
      signal: AbortSignal.any([stop.signal, healthStop.signal]),
    });
    try {
      if (mode === "imds") await (await import("./modes/imds.ts")).runImdsMode(context);
      else await (await import("./modes/queue.ts")).runQueueMode(context);
    } finally {
      healthStop.abort();
      await health;
      await engine.close();
      await webhook?.close();
    }
    return 0;
  } catch (err) {
    if (stop.signal.aborted) return 0;
    const code = isNthdError(err) ? err.code : "FATAL";
    log.fatal({ code, err }, errorMessage(err));
    return isNthdError(err, "CONFIG_INVALID") ? 2 : 1;
  } finally {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
    await server?.close();
  }
}

import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import type { Config } from "../config/index.ts";
import { errorMessage, NthdError } from "../errors.ts";
import type { Logger } from "./log.ts";
import type { Readiness } from "./readiness.ts";

/** What one listener serves: metrics, probes, or both when the ports are equal. */
export interface ListenerPlan {
  readonly port: number;
  readonly metrics: boolean;
  readonly probes: boolean;
}

export interface ObserveServerOptions {
  readonly bindAddress: string;
  readonly listeners: readonly ListenerPlan[];
  /** Extra liveness path (NTH's PROBES_SERVER_ENDPOINT), served like /healthz. */
  readonly livenessPath: string;
  /** Needed when a listener serves metrics (loaded only then, see metrics.ts). */
  readonly registry?: Registry;
  readonly readiness: Readiness;
  readonly log?: Logger;
  /** /healthz fails when the event loop has not ticked for this long. Default 10 000. */
  readonly maxLoopStallMs?: number;
}

export interface ObserveServer {
  /** The bound address of each listener, in plan order (port 0 resolves here). */
  readonly addresses: readonly (AddressInfo & { metrics: boolean; probes: boolean })[];
  close(): Promise<void>;
}

/**
 * Listener plan from the settings. NTH ran metrics and probes on separate
 * ports (9092, 8080); one listener serves both when the ports are equal.
 */
export function listenersFromConfig(
  c: Pick<
    Config,
    "enablePrometheusServer" | "prometheusServerPort" | "enableProbesServer" | "probesServerPort"
  >,
): ListenerPlan[] {
  const plans: ListenerPlan[] = [];
  if (c.enablePrometheusServer)
    plans.push({ port: c.prometheusServerPort, metrics: true, probes: false });
  if (c.enableProbesServer) {
    const same = plans.find((p) => p.port === c.probesServerPort);
    if (same) plans[0] = { ...same, probes: true };
    else plans.push({ port: c.probesServerPort, metrics: false, probes: true });
  }
  return plans;
}

const TICK_MS = 1000;

// node:http is taken as its CommonJS object, not through `import`: an ESM
// import of it reads every export, including the lazy WebSocket, CloseEvent
// and MessageEvent getters, and those load Node's own copy of undici, which
// nthd never uses (15 MiB of RSS in a bare process, 2 to 4 MiB in nthd's).
const { createServer } = process.getBuiltinModule("node:http");

/** Starts every planned listener; rejects (closing any already open) if one cannot bind. */
export async function startObserveServer(opts: ObserveServerOptions): Promise<ObserveServer> {
  // Liveness = the event loop keeps turning. A blocked loop cannot answer at
  // all; a loop starved for seconds answers late, and this catches that too.
  let lastTick = Date.now();
  const ticker = setInterval(() => {
    lastTick = Date.now();
  }, TICK_MS);
  ticker.unref();
  const maxStall = opts.maxLoopStallMs ?? 10_000;
  const alive = () => Date.now() - lastTick <= maxStall;

  const servers: Server[] = [];
  const addresses: ObserveServer["addresses"][number][] = [];
  const close = async () => {
    clearInterval(ticker);
    await Promise.all(servers.map(closeServer));
  };
  try {
    for (const plan of opts.listeners) {
      const server = createServer((req, res) => {
        handle(req, res, plan, opts, alive).catch((err: unknown) => {
          opts.log?.error({ err, path: req.url }, "observability request failed");
          if (!res.headersSent) send(res, 500, "internal error\n");
        });
      });
      // Scrapes and probes are tiny; short limits keep a slow client from holding sockets.
      server.requestTimeout = 10_000;
      server.headersTimeout = 5_000;
      servers.push(server);
      const address = await listen(server, plan.port, opts.bindAddress);
      addresses.push({ ...address, metrics: plan.metrics, probes: plan.probes });
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { addresses, close };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  plan: ListenerPlan,
  opts: ObserveServerOptions,
  alive: () => boolean,
): Promise<void> {
  const path = (req.url ?? "/").split("?")[0] ?? "/";
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("allow", "GET, HEAD");
    return send(res, 405, "method not allowed\n");
  }
  if (plan.metrics && path === "/metrics" && opts.registry) {
    const body = await opts.registry.metrics();
    return send(res, 200, body, opts.registry.contentType);
  }
  if (plan.probes && (path === "/healthz" || path === opts.livenessPath)) {
    return alive() ? send(res, 200, "ok\n") : send(res, 503, "event loop stalled\n");
  }
  if (plan.probes && path === "/readyz") {
    const report = opts.readiness.report();
    return send(res, report.ready ? 200 : 503, `${JSON.stringify(report)}\n`, "application/json");
  }
  send(res, 404, "not found\n");
}

function send(
  res: ServerResponse,
  status: number,
  body: string,
  type = "text/plain; charset=utf-8",
) {
  res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
  res.end(res.req.method === "HEAD" ? undefined : body);
}

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) =>
      reject(
        new NthdError("CONFIG_INVALID", `listening on ${host}:${port}: ${errorMessage(err)}`, {
          cause: err,
        }),
      );
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** Stops accepting, lets in-flight responses finish, then drops idle keep-alive sockets. */
function closeServer(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), 2000);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}

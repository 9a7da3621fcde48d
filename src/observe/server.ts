import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import { type Backoff, backoffDelay } from "../async/backoff.ts";
import { sleep } from "../async/sleep.ts";
import type { Config } from "../config/index.ts";
import { errorMessage } from "../errors.ts";
import type { ListenerKind } from "./labels.ts";
import type { Logger } from "./log.ts";
import { countListenerBindFailure } from "./metrics.ts";
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

/** A listener that is listening: its address and what it serves. */
export type BoundListener = AddressInfo & { metrics: boolean; probes: boolean };

export interface ObserveServer {
  /**
   * The bound address of each planned listener, in plan order (port 0
   * resolves here); undefined for one that could not bind (yet: it retries).
   */
  readonly addresses: readonly (BoundListener | undefined)[];
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

/** Retrying a port that is taken: soon at first, then once a minute. */
const BIND_RETRY: Backoff = { baseMs: 1_000, capMs: 60_000 };

/**
 * Starts every planned listener. A listener that cannot bind (its port is
 * taken by another agent on the host network, the address is not this
 * host's) never stops nthd: a termination handler that exits leaves the node
 * unprotected, so it logs the error, counts it
 * (nthd_listener_bind_failures_total) and keeps trying in the background
 * with back-off while the handler goes on protecting the node. Resolves once
 * every listener has bound or failed its first attempt.
 */
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
  const stop = new AbortController();

  const servers: Server[] = [];
  const addresses: (BoundListener | undefined)[] = opts.listeners.map(() => undefined);
  const retries: Promise<void>[] = [];
  const attempt = async (plan: ListenerPlan, index: number, tries: number): Promise<boolean> => {
    const server = createServer((req, res) => {
      handle(req, res, plan, opts, alive).catch((err: unknown) => {
        opts.log?.error({ err, path: req.url }, "observability request failed");
        if (!res.headersSent) send(res, 500, "internal error\n");
      });
    });
    // Scrapes and probes are tiny; short limits keep a slow client from holding sockets.
    server.requestTimeout = 10_000;
    server.headersTimeout = 5_000;
    try {
      const address = await listen(server, plan.port, opts.bindAddress);
      servers.push(server);
      addresses[index] = { ...address, metrics: plan.metrics, probes: plan.probes };
      if (tries > 1) {
        opts.log?.info(
          { listener: listenerName(plan), port: address.port, tries },
          "listening now",
        );
      }
      return true;
    } catch (err) {
      countListenerBindFailure(listenerName(plan));
      const fields = {
        listener: listenerName(plan),
        address: `${opts.bindAddress}:${plan.port}`,
        err: errorMessage(err),
      };
      if (tries === 1) {
        opts.log?.error(
          fields,
          "cannot listen; nthd goes on protecting the node without this listener and keeps trying",
        );
      } else opts.log?.debug(fields, "cannot listen yet");
      return false;
    }
  };
  const keepTrying = async (plan: ListenerPlan, index: number) => {
    for (let tries = 2; ; tries++) {
      if (!(await sleep(backoffDelay(BIND_RETRY, tries - 1, Math.random()), stop.signal))) return;
      if (await attempt(plan, index, tries)) return;
    }
  };
  await Promise.all(
    opts.listeners.map(async (plan, index) => {
      if (!(await attempt(plan, index, 1))) retries.push(keepTrying(plan, index));
    }),
  );
  return {
    addresses,
    async close() {
      stop.abort();
      clearInterval(ticker);
      await Promise.all(retries);
      await Promise.all(servers.map(closeServer));
    },
  };
}

/** The listener's label value: what it serves. */
function listenerName(plan: ListenerPlan): ListenerKind {
  if (plan.metrics && plan.probes) return "metrics-and-probes";
  return plan.metrics ? "metrics" : "probes";
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
    const onError = (err: Error) => reject(err);
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

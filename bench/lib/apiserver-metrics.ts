// Counts the API requests the handler made, from the API server's own metrics.
// Flow control (APF) classifies every request by who made it: requests of a
// ServiceAccount outside kube-system go to the "service-accounts" flow schema,
// while the ground's controllers, scheduler and kwok use an admin certificate
// (exempt). The bench's handler is the only ServiceAccount client, so the
// difference of the counters before and after a scenario is its request count.

import { readFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import type { BenchGround } from "./ground.ts";

export const HANDLER_FLOW_SCHEMA = "service-accounts";

export interface RequestCounts {
  /** Requests admitted by flow control (watches count once, when they start). */
  readonly dispatched: number;
  /** Requests other than watches that finished (flow control's "regular" type). */
  readonly regular: number;
  /** Requests flow control turned away with 429 (server-side throttling). */
  readonly rejected: number;
}

/**
 * GET `path` from the ground's API server as its admin, the body as text. Plain
 * node:https, no compression: the generated client took minutes to read a
 * 10,000-pod list that this reads in about a second.
 */
export function adminGet(g: BenchGround, path: string, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: g.apiserverPort,
        path,
        headers: { accept: "application/json" },
        ca: readFileSync(join(g.pki, "ca.crt")),
        cert: readFileSync(join(g.pki, "admin.crt")),
        key: readFileSync(join(g.pki, "admin.key")),
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (d: Buffer) => chunks.push(d));
        res.on("end", () => {
          const body = Buffer.concat(chunks).toString("utf8");
          if (res.statusCode === 200) resolve(body);
          else reject(new Error(`${path}: ${res.statusCode} ${body.slice(0, 200)}`));
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error(`${path} timed out`)));
    req.end();
  });
}

const scrape = (g: BenchGround) => adminGet(g, "/metrics", 10_000);

/** Sum of every sample of `metric` whose labels include all of `match`. */
export function sumMetric(text: string, metric: string, match: Record<string, string>): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${metric}{`)) continue;
    const close = line.lastIndexOf("}");
    const labels = line.slice(metric.length + 1, close);
    const ok = Object.entries(match).every(([k, v]) => labels.includes(`${k}="${v}"`));
    if (ok)
      sum += Number(
        line
          .slice(close + 1)
          .trim()
          .split(" ")[0],
      );
  }
  return sum;
}

export async function handlerRequestCounts(g: BenchGround): Promise<RequestCounts> {
  const text = await scrape(g);
  const fs = { flow_schema: HANDLER_FLOW_SCHEMA };
  const exec = "apiserver_flowcontrol_request_execution_seconds_count";
  return {
    dispatched: sumMetric(text, "apiserver_flowcontrol_dispatched_requests_total", fs),
    regular: sumMetric(text, exec, { ...fs, type: "regular" }),
    rejected: sumMetric(text, "apiserver_flowcontrol_rejected_requests_total", fs),
  };
}

export function diffCounts(before: RequestCounts, after: RequestCounts): RequestCounts {
  return {
    dispatched: after.dispatched - before.dispatched,
    regular: after.regular - before.regular,
    rejected: after.rejected - before.rejected,
  };
}

/**
 * The handler's requests by kind ("patch nodes", "create pods/eviction",
 * "update leases", ...) between two instants, from the API server's audit
 * log (the ground audits every request of the bench's handler identity).
 * Watches count once, like the flow-control counters.
 */
export function handlerRequestKinds(
  g: BenchGround,
  fromMs: number,
  toMs: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  let text = "";
  try {
    text = readFileSync(g.state.auditLog, "utf8");
  } catch {
    return out;
  }
  for (const line of text.split("\n")) {
    if (!line.includes(HANDLER_USER)) continue;
    const e = JSON.parse(line) as {
      stage?: string;
      verb?: string;
      requestReceivedTimestamp?: string;
      user?: { username?: string };
      objectRef?: { resource?: string; subresource?: string };
    };
    if (e.user?.username !== HANDLER_USER) continue;
    // A watch is logged when it starts (ResponseStarted) and ends; count it once.
    if (e.stage !== (e.verb === "watch" ? "ResponseStarted" : "ResponseComplete")) continue;
    const at = Date.parse(e.requestReceivedTimestamp ?? "");
    if (!(at >= fromMs && at <= toMs)) continue;
    const ref = e.objectRef ?? {};
    const kind = `${e.verb} ${ref.resource ?? "?"}${ref.subresource ? `/${ref.subresource}` : ""}`;
    out[kind] = (out[kind] ?? 0) + 1;
  }
  return out;
}

const HANDLER_USER = "system:serviceaccount:nthd-bench-system:termination-handler";

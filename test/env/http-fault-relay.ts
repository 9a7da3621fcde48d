// An HTTP relay in front of a real peer (the metadata emulator) that
// answers chosen requests itself with a fault status, a given number of
// times, and forwards everything else unchanged: what a peer that fails
// some calls looks like to nthd. The answers nthd acts on still come from
// the peer behind it.
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface FaultRule {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  /** How many matching requests get the fault; later ones are forwarded. */
  times: number;
}

export interface HttpFaultRelay {
  readonly url: string;
  /** Adds a rule; rules are tried in order. */
  fail(rule: FaultRule): void;
  /** "METHOD /path STATUS" for every request, faulted or forwarded. */
  readonly log: string[];
  close(): Promise<void>;
}

export async function startHttpFaultRelay(targetUrl: string): Promise<HttpFaultRelay> {
  const target = new URL(targetUrl);
  const rules: FaultRule[] = [];
  const log: string[] = [];
  const server: Server = createServer((req, res) => {
    const line = `${req.method} ${req.url}`;
    const rule = rules.find((r) => r.times > 0 && r.method === req.method && r.path === req.url);
    if (rule) {
      rule.times--;
      log.push(`${line} ${rule.status}`);
      req.resume();
      res.writeHead(rule.status, { "content-type": "text/plain" }).end("injected fault\n");
      return;
    }
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        log.push(`${line} ${answer.statusCode}`);
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => {
      log.push(`${line} 502`);
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    fail: (rule) => rules.push(rule),
    log,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

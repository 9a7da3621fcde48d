// HTTP-level faults: a loopback reverse proxy in front of one real peer
// (moto, the metadata emulator, or kube-apiserver with TLS terminated here
// using the ground's certificates) that, for the requests a rule matches,
// answers a status of its own (500, 503, 429 with Retry-After...), hangs,
// delays, resets the connection, or lets a batch call through with some of
// its entries failed. Everything else is passed through unchanged and
// streamed (watches work). Rules are matched by AWS operation (the JSON
// protocol's X-Amz-Target or the query protocol's Action=) or by method and
// path, so a test can fail only DeleteMessageBatch, or only node PATCHes.
import {
  createServer as createHttpServer,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import {
  createServer as createHttpsServer,
  Agent as HttpsAgent,
  request as httpsRequest,
} from "node:https";
import type { AddressInfo, Socket } from "node:net";

export type HttpFault =
  /** Answer this instead of the peer. */
  | {
      readonly kind: "status";
      readonly status: number;
      readonly body?: string;
      readonly headers?: Readonly<Record<string, string>>;
    }
  /** Never answer (the client's timeout decides). */
  | { readonly kind: "hang" }
  /** Forward after `ms`. */
  | { readonly kind: "delay"; readonly ms: number }
  /** Drop the client's connection without an answer. */
  | { readonly kind: "reset" }
  /**
   * An SQS batch call (JSON protocol): only the even-numbered entries go to
   * the peer; the others come back in `Failed` with `code`, as SQS reports a
   * partial failure.
   */
  | { readonly kind: "partial-batch"; readonly code?: string };

export interface HttpMatch {
  /** AWS operation, e.g. "DeleteMessageBatch", "DescribeInstances". */
  readonly operation?: string;
  readonly method?: string;
  readonly path?: RegExp;
}

export interface HttpRule {
  readonly match: HttpMatch;
  readonly fault: HttpFault;
  /** Apply to this many requests, then pass the rest (default: every one). */
  readonly times?: number;
}

export interface HttpFaultProxy {
  readonly url: string;
  readonly port: number;
  /** Adds a rule (first added, first matched); returns its removal. */
  add(rule: HttpRule): () => void;
  /** Removes every rule; hung requests are released (their connections dropped). */
  clear(): void;
  /** Requests seen for an operation (or "METHOD path" when not AWS), faulted or not. */
  seen(operation: string): number;
  /** Why passing a request on to the peer failed (each such client connection was dropped). */
  readonly upstreamErrors: readonly string[];
  /** Requests a rule answered, for one operation or (none given) in all. */
  faulted(operation?: string): number;
  close(): Promise<void>;
}

export interface TlsMaterial {
  /** Served to clients (the ground's apiserver certificate fits: it names 127.0.0.1). */
  readonly cert: string;
  readonly key: string;
  /** To verify the peer, and the client certificate the proxy presents to it. */
  readonly ca: string;
  readonly clientCert?: string;
  readonly clientKey?: string;
}

/** The AWS operation of a request, if it is an AWS call. */
function operationOf(req: IncomingMessage, body: Buffer): string | undefined {
  const target = req.headers["x-amz-target"];
  if (typeof target === "string") return target.split(".").pop();
  const type = req.headers["content-type"] ?? "";
  if (type.includes("x-www-form-urlencoded")) {
    return new URLSearchParams(body.toString("utf8")).get("Action") ?? undefined;
  }
  return undefined;
}

function matches(m: HttpMatch, req: IncomingMessage, op: string | undefined): boolean {
  if (m.operation !== undefined && m.operation !== op) return false;
  if (m.method !== undefined && m.method !== req.method) return false;
  if (m.path !== undefined && !m.path.test(req.url ?? "")) return false;
  return true;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function startHttpFaultProxy(
  targetUrl: string,
  opts: { tls?: TlsMaterial } = {},
): Promise<HttpFaultProxy> {
  const target = new URL(targetUrl);
  const secure = target.protocol === "https:";
  const agent = secure
    ? new HttpsAgent({
        keepAlive: true,
        ca: opts.tls?.ca,
        ...(opts.tls?.clientCert ? { cert: opts.tls.clientCert, key: opts.tls.clientKey } : {}),
      })
    : new HttpAgent({ keepAlive: true });
  const rules: { rule: HttpRule; left: number }[] = [];
  const seen = new Map<string, number>();
  const faulted = new Map<string, number>();
  const hung = new Set<ServerResponse>();
  const upstreamErrors: string[] = [];
  const sockets = new Set<Socket>();
  const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

  const forward = (
    req: IncomingMessage,
    body: Buffer,
    onAnswer: (status: number, headers: IncomingMessage["headers"], res: IncomingMessage) => void,
    onError: (err: Error) => void,
  ) => {
    const headers = { ...req.headers, host: target.host, "content-length": String(body.length) };
    delete headers["transfer-encoding"];
    const send = secure ? httpsRequest : httpRequest;
    const up = send(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers,
        agent,
      },
      (res) => onAnswer(res.statusCode ?? 502, res.headers, res),
    );
    up.on("error", onError);
    up.end(body);
  };

  const upstreamFailed = (req: IncomingMessage, res: ServerResponse) => (err: Error) => {
    upstreamErrors.push(`${new Date().toISOString()} ${req.method} ${req.url}: ${err.message}`);
    res.socket?.destroy();
  };

  const pass = (req: IncomingMessage, res: ServerResponse, body: Buffer) =>
    forward(
      req,
      body,
      (status, headers, upRes) => {
        res.writeHead(status, headers);
        upRes.pipe(res);
        res.on("close", () => upRes.destroy());
      },
      upstreamFailed(req, res),
    );

  const partialBatch = (req: IncomingMessage, res: ServerResponse, body: Buffer, code: string) => {
    const input = JSON.parse(body.toString("utf8")) as { Entries?: { Id: string }[] };
    const entries = input.Entries ?? [];
    const kept = entries.filter((_, i) => i % 2 === 0);
    const dropped = entries.filter((_, i) => i % 2 === 1);
    const sent = Buffer.from(JSON.stringify({ ...input, Entries: kept }));
    forward(
      req,
      sent,
      (status, headers, upRes) => {
        void readBody(upRes).then((raw) => {
          const out = JSON.parse(raw.toString("utf8") || "{}") as { Failed?: unknown[] };
          out.Failed = [
            ...(out.Failed ?? []),
            ...dropped.map((e) => ({
              Id: e.Id,
              Code: code,
              SenderFault: false,
              Message: "injected",
            })),
          ];
          const text = JSON.stringify(out);
          res.writeHead(status, { ...headers, "content-length": String(Buffer.byteLength(text)) });
          res.end(text);
        });
      },
      upstreamFailed(req, res),
    );
  };

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    void readBody(req).then((body) => {
      const op = operationOf(req, body) ?? `${req.method} ${(req.url ?? "").split("?")[0]}`;
      bump(seen, op);
      const hit = rules.find(
        (r) => r.left > 0 && matches(r.rule.match, req, operationOf(req, body)),
      );
      if (hit === undefined) return pass(req, res, body);
      hit.left--;
      bump(faulted, op);
      const fault = hit.rule.fault;
      switch (fault.kind) {
        case "status":
          res.writeHead(fault.status, { "content-type": "application/json", ...fault.headers });
          res.end(fault.body ?? "");
          return;
        case "hang":
          hung.add(res);
          res.on("close", () => hung.delete(res));
          return;
        case "delay":
          setTimeout(() => pass(req, res, body), fault.ms);
          return;
        case "reset":
          req.socket.destroy();
          return;
        case "partial-batch":
          partialBatch(req, res, body, fault.code ?? "InternalError");
          return;
      }
    });
  };

  const server: Server = opts.tls
    ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, handler)
    : createHttpServer(handler);
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("secureConnection", () => {});
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `${opts.tls ? "https" : "http"}://127.0.0.1:${port}`,
    add(rule) {
      const entry = { rule, left: rule.times ?? Number.POSITIVE_INFINITY };
      rules.push(entry);
      return () => {
        const i = rules.indexOf(entry);
        if (i >= 0) rules.splice(i, 1);
      };
    },
    clear() {
      rules.length = 0;
      for (const res of hung) res.socket?.destroy();
      hung.clear();
    },
    upstreamErrors,
    seen: (op) => seen.get(op) ?? 0,
    faulted: (op) =>
      op === undefined ? [...faulted.values()].reduce((a, b) => a + b, 0) : (faulted.get(op) ?? 0),
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      agent.destroy();
      await closed;
    },
  };
}

/** An SQS (AWS JSON protocol) error body and headers. */
export function awsJsonError(code: string, status: number): HttpFault {
  return {
    kind: "status",
    status,
    body: JSON.stringify({ __type: `com.amazonaws.sqs#${code}`, message: `injected ${code}` }),
    headers: {
      "content-type": "application/x-amz-json-1.0",
      "x-amzn-query-error": `${code};${status >= 500 ? "Receiver" : "Sender"}`,
    },
  };
}

/** An EC2 or Auto Scaling (query protocol) error body. */
export function awsQueryError(code: string, status: number): HttpFault {
  return {
    kind: "status",
    status,
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>injected ${code}</Message></Error></Errors><RequestID>00000000-0000-0000-0000-000000000000</RequestID></Response>`,
    headers: { "content-type": "text/xml" },
  };
}

/** A Kubernetes Status answer. */
export function kubeStatus(status: number, reason: string, retryAfterSeconds?: number): HttpFault {
  return {
    kind: "status",
    status,
    body: JSON.stringify({
      kind: "Status",
      apiVersion: "v1",
      status: "Failure",
      message: `injected ${reason}`,
      reason,
      code: status,
      ...(retryAfterSeconds !== undefined ? { details: { retryAfterSeconds } } : {}),
    }),
    headers: retryAfterSeconds !== undefined ? { "retry-after": String(retryAfterSeconds) } : {},
  };
}

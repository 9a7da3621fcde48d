/**
 * HTTP to the API server: one undici pool (keep-alive, the connection's TLS
 * material), JSON in and out, bearer tokens re-read from their file, and
 * every non-2xx answer turned into a KubeApiError carrying the Status body.
 * No rate limiting here: client.ts puts the limiter in front of each call.
 */
import type { Readable } from "node:stream";
import { errorMessage, NthdError } from "../errors.ts";
import { readTextFileCapped } from "../files.ts";
import { readBodyText, readCapped } from "../http/body.ts";
import { createHttpPool } from "../http/pool.ts";
import { VERSION } from "../version.ts";
import { KubeApiError } from "./api-error.ts";
import type { Auth, Connection } from "./connection.ts";

/** client-go re-reads token files this often; bound tokens are renewed well before expiry. */
const TOKEN_REREAD_MS = 60_000;

/**
 * Longest JSON answer read. Lists of a large cluster are legitimate, so the
 * client pages them (client.ts asks for 500 objects at a time, as client-go's
 * reflector does): a page of 500 nodes is a few MiB up to about 20 MiB. A
 * larger answer is not one nthd asked for.
 */
export const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
/** An error answer is a Status object of a few hundred bytes. */
const MAX_ERROR_BODY_BYTES = 1024 * 1024;

export interface KubeRequest {
  readonly method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  /** API path, e.g. `/api/v1/nodes/n1`; any path prefix of the server URL is added. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  /** Sent as JSON. */
  readonly body?: unknown;
  /** Default application/json; merge patches say application/merge-patch+json. */
  readonly contentType?: string;
  readonly signal: AbortSignal;
  /** Longest to wait for the response headers (and, unless bodyTimeoutMs, between body chunks). */
  readonly timeoutMs: number;
  /** Longest silence between body chunks; watches allow more than the headers timeout. */
  readonly bodyTimeoutMs?: number;
  /** Largest JSON answer read (default MAX_RESPONSE_BYTES); past it the call fails with BODY_TOO_LARGE. */
  readonly maxResponseBytes?: number;
}

export interface Transport {
  /** The parsed JSON answer; throws KubeApiError on a non-2xx status. */
  json<T>(req: KubeRequest): Promise<T>;
  /** The open response body (2xx only), for watches. */
  stream(req: KubeRequest): Promise<Readable>;
  close(): Promise<void>;
  readonly source: string;
}

export function createTransport(conn: Connection): Transport {
  const url = new URL(conn.server);
  const prefix = url.pathname.replace(/\/+$/, "");
  const pool = createHttpPool(url.origin, {
    // Idle connections are kept for the next call; watches hold one each.
    keepAliveTimeout: 60_000,
    keepAliveMaxTimeout: 600_000,
    connect: {
      ...(conn.ca !== undefined ? { ca: conn.ca } : {}),
      ...(conn.cert !== undefined ? { cert: conn.cert } : {}),
      ...(conn.key !== undefined ? { key: conn.key } : {}),
      ...(conn.tlsServerName !== undefined ? { servername: conn.tlsServerName } : {}),
      rejectUnauthorized: !conn.insecureSkipTlsVerify,
    },
  });
  const credentials = createCredentials(conn.auth);

  async function send(req: KubeRequest) {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) query.set(k, `${v}`);
    const qs = query.size > 0 ? `?${query}` : "";
    for (let attempt = 1; ; attempt++) {
      const headers: Record<string, string> = {
        accept: "application/json",
        "user-agent": `nthd/${VERSION}`,
      };
      const authorization = credentials.header();
      if (authorization) headers.authorization = authorization;
      if (req.body !== undefined) headers["content-type"] = req.contentType ?? "application/json";
      const res = await pool.request({
        method: req.method,
        path: `${prefix}${req.path}${qs}`,
        headers,
        ...(req.body !== undefined ? { body: JSON.stringify(req.body) } : {}),
        signal: req.signal,
        headersTimeout: req.timeoutMs,
        bodyTimeout: req.bodyTimeoutMs ?? req.timeoutMs,
      });
      if (res.statusCode >= 200 && res.statusCode < 300) return res;
      const text = await readCapped(res.body, {
        maxBytes: MAX_ERROR_BODY_BYTES,
        what: `${req.method} ${req.path}`,
        source: "kube-api",
      }).then(
        (r) => r.bytes.toString("utf8"),
        () => "",
      );
      // A rotated token file may hold a newer token than the one just refused.
      if (res.statusCode === 401 && attempt === 1 && credentials.reload()) continue;
      throw new KubeApiError(res.statusCode, parseBody(text), res.headers);
    }
  }

  return {
    source: conn.source,
    async json<T>(req: KubeRequest): Promise<T> {
      const res = await send(req);
      const text = await readBodyText(res.body, {
        maxBytes: req.maxResponseBytes ?? MAX_RESPONSE_BYTES,
        what: `response to ${req.method} ${req.path}`,
        source: "kube-api",
        declaredLength: res.headers["content-length"],
      });
      return (text === "" ? {} : JSON.parse(text)) as T;
    },
    async stream(req) {
      return (await send(req)).body;
    },
    async close() {
      await pool.close();
    },
  };
}

function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

interface Credentials {
  /** The Authorization header value, if any. */
  header(): string | undefined;
  /** Re-reads a token file now; true when the token changed (worth one retry). */
  reload(): boolean;
}

function createCredentials(auth: Auth): Credentials {
  switch (auth.kind) {
    case "none":
      return { header: () => undefined, reload: () => false };
    case "token":
      return { header: () => `Bearer ${auth.token}`, reload: () => false };
    case "basic": {
      const value = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}`;
      return { header: () => value, reload: () => false };
    }
    case "token-file": {
      let token: string | undefined;
      let readAt = 0;
      const read = (): boolean => {
        readAt = Date.now();
        let next: string;
        try {
          next = readTextFileCapped(auth.path).trim();
        } catch (err) {
          // Keep the last good token: a rotation replaces the file atomically,
          // so a failed read is a passing problem unless there never was one.
          if (token !== undefined) return false;
          throw new NthdError(
            "CONFIG_INVALID",
            `cannot read the bearer token file ${auth.path}: ${errorMessage(err)}`,
            { cause: err },
          );
        }
        const changed = next !== token;
        if (next !== "") token = next;
        return changed;
      };
      return {
        header() {
          if (token === undefined || Date.now() - readAt >= TOKEN_REREAD_MS) read();
          return token === undefined ? undefined : `Bearer ${token}`;
        },
        reload: read,
      };
    }
  }
}

/**
 * IMDSv2 client: one keep-alive connection pool to the metadata service, a
 * session token reused until shortly before it expires, short timeouts and a
 * few retries. IMDS mode runs on every node, so this stays on undici alone.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { errorMessage, isNthdError, NthdError } from "../../errors.ts";
import { readBodyText } from "../../http/body.ts";
import { createHttpPool, type HttpPool } from "../../http/pool.ts";
import {
  backoffMs,
  classifyStatus,
  MAX_IMDS_BODY_BYTES,
  readTokenResponse,
  TOKEN_HEADER,
  TOKEN_PATH,
  TOKEN_TTL_HEADER,
  tokenRefreshAt,
} from "./protocol.ts";

/** The usual reason a pod gets no answer from IMDS, said where it is seen. */
export const UNREACHABLE_HINT =
  "On EC2 the usual cause is an IMDSv2 response hop limit of 1 while the pod uses pod networking: " +
  "run nthd with hostNetwork: true, or raise the instance metadata hop limit to 2 " +
  "(launch template MetadataOptions.HttpPutResponseHopLimit).";

/** After IMDSv2 failed and v1 is allowed, ask for a token again only this often. */
const V1_RECHECK_MS = 300_000;

export type ImdsAnswer = { found: true; body: string } | { found: false; status: number };

/** What the poller and start-up need; tests and `nthd explain` may pass their own. */
export interface MetadataReader {
  /** GET `/latest/meta-data/...`-style path. Throws NthdError IMDS_UNREACHABLE / IMDS_BAD_RESPONSE. */
  get(path: string, signal?: AbortSignal): Promise<ImdsAnswer>;
}

export interface ImdsClientOptions {
  /** Base URL, e.g. http://169.254.169.254 (setting metadataUrl). */
  readonly baseUrl: string;
  /** Attempts per request, including the first (setting metadataTries). */
  readonly tries: number;
  /** Lifetime asked for each session token (setting imdsTokenTtlSeconds). */
  readonly tokenTtlSeconds: number;
  /** Use IMDSv1 when no token can be had (setting imdsAllowV1Fallback). */
  readonly allowV1Fallback: boolean;
  /** Per-attempt timeout. Default 1500 ms: IMDS answers in a few ms when reachable. */
  readonly requestTimeoutMs?: number;
  /** First backoff step. Default 100 ms, doubling, capped at 1 s. */
  readonly backoffBaseMs?: number;
  /** Milliseconds since the epoch; tests move time to expire tokens. */
  readonly clock?: () => number;
  readonly onV1Fallback?: (reason: string) => void;
}

interface Token {
  readonly value: string;
  readonly refreshAt: number;
}

type Exchange = { status: number; headers: Record<string, unknown>; body: string | undefined };

export class ImdsClient implements MetadataReader {
  /** Counters for logs, metrics and tests. */
  readonly stats = { requests: 0, tokenFetches: 0, retries: 0 };

  readonly #opts: Required<Omit<ImdsClientOptions, "onV1Fallback">> &
    Pick<ImdsClientOptions, "onV1Fallback">;
  readonly #pool: HttpPool;
  readonly #prefix: string;
  #token: Token | undefined;
  #tokenInFlight: Promise<Token> | undefined;
  #v1Until = 0;

  constructor(opts: ImdsClientOptions) {
    this.#opts = { requestTimeoutMs: 1500, backoffBaseMs: 100, clock: Date.now, ...opts };
    const url = new URL(opts.baseUrl);
    this.#prefix = url.pathname.replace(/\/+$/, "");
    const timeout = this.#opts.requestTimeoutMs;
    // Four monitors poll at once; keep-alive saves a TCP handshake per poll.
    this.#pool = createHttpPool(url.origin, {
      connections: 4,
      keepAliveTimeout: 30_000,
      connectTimeout: timeout,
      headersTimeout: timeout,
      bodyTimeout: timeout,
    });
  }

  get baseUrl(): string {
    return this.#opts.baseUrl;
  }

  async get(path: string, signal?: AbortSignal): Promise<ImdsAnswer> {
    let tokenRenewed = false;
    for (let attempt = 1; ; attempt++) {
      const token = await this.#currentToken(signal);
      const headers: Record<string, string> = token ? { [TOKEN_HEADER]: token.value } : {};
      const res = await this.#attempt("GET", path, headers, attempt, signal);
      if (res === "again") continue;
      const verdict = classifyStatus(res.status);
      if (verdict === "ok") return { found: true, body: res.body ?? "" };
      if (verdict === "absent") return { found: false, status: res.status };
      if (verdict === "token-rejected" && !tokenRenewed) {
        // Expired or revoked early (IMDS restarted): one fresh token, not counted as a try.
        tokenRenewed = true;
        if (token) this.#token = undefined;
        else this.#v1Until = 0;
        attempt--;
        continue;
      }
      if (verdict === "retry" && attempt < this.#opts.tries) {
        await this.#backoff(attempt + 1, signal);
        continue;
      }
      throw new NthdError(
        "IMDS_BAD_RESPONSE",
        `instance metadata GET ${path} answered ${res.status}` +
          (verdict === "token-rejected" ? " even with a fresh token (IMDSv2 required?)" : ""),
        { context: { path, status: res.status, reason: "http-status" } },
      );
    }
  }

  /** Closes the connection pool. */
  async close(): Promise<void> {
    await this.#pool.close();
  }

  /** One HTTP exchange; network failures are retried here until tries run out. */
  async #attempt(
    method: "GET" | "PUT",
    path: string,
    headers: Record<string, string>,
    attempt: number,
    signal: AbortSignal | undefined,
  ): Promise<Exchange | "again"> {
    try {
      return await this.#send(method, path, headers, signal);
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      // An oversized body is an answer, not a network failure: no retry.
      if (isNthdError(err, "BODY_TOO_LARGE")) {
        throw new NthdError("IMDS_BAD_RESPONSE", `instance metadata ${err.message}`, {
          cause: err,
          context: { path, reason: "bad-response" },
        });
      }
      if (attempt >= this.#opts.tries) {
        throw new NthdError(
          "IMDS_UNREACHABLE",
          `no answer from the instance metadata service at ${this.#opts.baseUrl} ` +
            `(${method} ${path}, ${this.#opts.tries} tries): ${errorMessage(err)}. ${UNREACHABLE_HINT}`,
          { cause: err, context: { path, tries: this.#opts.tries, reason: failureReason(err) } },
        );
      }
      await this.#backoff(attempt + 1, signal);
      return "again";
    }
  }

  async #send(
    method: "GET" | "PUT",
    path: string,
    headers: Record<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<Exchange> {
    this.stats.requests++;
    const timeout = AbortSignal.timeout(this.#opts.requestTimeoutMs);
    const res = await this.#pool.request({
      method,
      path: this.#prefix + path,
      headers,
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    // Only a 200 body is read; error pages are drained unread (they are HTML).
    if (res.statusCode !== 200) {
      await res.body.dump();
      return { status: res.statusCode, headers: res.headers, body: undefined };
    }
    const body = await readBodyText(res.body, {
      maxBytes: MAX_IMDS_BODY_BYTES,
      what: `${method} ${path}`,
      source: "imds",
      declaredLength: res.headers["content-length"],
    });
    return { status: res.statusCode, headers: res.headers, body };
  }

  async #backoff(nextTry: number, signal: AbortSignal | undefined): Promise<void> {
    this.stats.retries++;
    const ms = backoffMs(nextTry, this.#opts.backoffBaseMs, 1000, Math.random());
    await sleep(ms, undefined, signal ? { signal } : {});
  }

  /** The token to send, or undefined to go without (IMDSv1 fallback). */
  async #currentToken(signal: AbortSignal | undefined): Promise<Token | undefined> {
    const now = this.#opts.clock();
    if (this.#token && now < this.#token.refreshAt) return this.#token;
    if (this.#v1Until > now) return undefined;
    // Monitors poll together: they share one token request.
    this.#tokenInFlight ??= this.#fetchToken(signal).finally(() => {
      this.#tokenInFlight = undefined;
    });
    try {
      this.#token = await this.#tokenInFlight;
      return this.#token;
    } catch (err) {
      if (signal?.aborted || !this.#opts.allowV1Fallback) throw err;
      this.#v1Until = now + V1_RECHECK_MS;
      this.#opts.onV1Fallback?.(errorMessage(err));
      return undefined;
    }
  }

  async #fetchToken(signal: AbortSignal | undefined): Promise<Token> {
    const requested = this.#opts.tokenTtlSeconds;
    for (let attempt = 1; ; attempt++) {
      const headers = { [TOKEN_TTL_HEADER]: String(requested) };
      const res = await this.#attempt("PUT", TOKEN_PATH, headers, attempt, signal);
      if (res === "again") continue;
      this.stats.tokenFetches++;
      const ttlHeader = res.headers[TOKEN_TTL_HEADER];
      const verdict = readTokenResponse(
        res.status,
        typeof ttlHeader === "string" ? ttlHeader : undefined,
        res.body ?? "",
        requested,
      );
      if (verdict.kind === "token") {
        const fetchedAt = this.#opts.clock();
        return { value: verdict.value, refreshAt: tokenRefreshAt(fetchedAt, verdict.ttlSeconds) };
      }
      if (verdict.kind === "retry" && attempt < this.#opts.tries) {
        await this.#backoff(attempt + 1, signal);
        continue;
      }
      throw new NthdError(
        "IMDS_BAD_RESPONSE",
        `no IMDSv2 session token from ${this.#opts.baseUrl}: ${verdict.reason}` +
          (this.#opts.allowV1Fallback ? "" : " (IMDSv1 fallback is off: imds-allow-v1-fallback)"),
        { context: { path: TOKEN_PATH, status: res.status, reason: "http-status" } },
      );
    }
  }
}

/** Why a request got no answer: the label the error metric uses. */
export type ImdsFailureReason = "timeout" | "connection" | "http-status" | "bad-response";

function failureReason(err: unknown): ImdsFailureReason {
  const e = err as { name?: unknown; code?: unknown } | null;
  const name = typeof e?.name === "string" ? e.name : "";
  const code = typeof e?.code === "string" ? e.code : "";
  return name === "TimeoutError" || name.endsWith("TimeoutError") || code.endsWith("_TIMEOUT")
    ? "timeout"
    : "connection";
}

/** The reason label for any error this client throws (bad-response for anything else). */
export function imdsFailureReason(err: unknown): ImdsFailureReason {
  const reason = err instanceof NthdError ? err.context.reason : undefined;
  return reason === "timeout" || reason === "connection" || reason === "http-status"
    ? reason
    : "bad-response";
}

/** Whether the error came from the token request rather than the item itself. */
export function isTokenFailure(err: unknown): boolean {
  return err instanceof NthdError && err.context.path === TOKEN_PATH;
}

/** Builds the client from nthd's settings. */
export function createImdsClient(
  config: {
    readonly metadataUrl: string;
    readonly metadataTries: number;
    readonly imdsTokenTtlSeconds: number;
    readonly imdsAllowV1Fallback: boolean;
  },
  extra: Omit<ImdsClientOptions, "baseUrl" | "tries" | "tokenTtlSeconds" | "allowV1Fallback"> = {},
): ImdsClient {
  return new ImdsClient({
    baseUrl: config.metadataUrl,
    tries: config.metadataTries,
    tokenTtlSeconds: config.imdsTokenTtlSeconds,
    allowV1Fallback: config.imdsAllowV1Fallback,
    ...extra,
  });
}

/**
 * Classifies what the API server (or the network) answered, so callers branch
 * on a small set of kinds instead of status codes and message text.
 * https://kubernetes.io/docs/reference/using-api/api-concepts/#api-status-codes
 */
import { type ErrorCode, NthdError } from "../errors.ts";

/**
 * The API server answered with a status outside 2xx. `body` is the parsed
 * Status object when the answer was JSON, else the raw text; a watch ERROR
 * event becomes one of these too, with the Status object it carried.
 */
export class KubeApiError extends Error {
  readonly status: number;
  readonly body: unknown;
  /** Response headers, names in lower case. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;

  constructor(
    status: number,
    body: unknown,
    headers: Readonly<Record<string, string | string[] | undefined>> = {},
  ) {
    const message =
      typeof body === "object" && body !== null && typeof (body as StatusBody).message === "string"
        ? ((body as StatusBody).message as string)
        : `HTTP ${status}`;
    super(message);
    this.name = "KubeApiError";
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

export type KubeErrorKind =
  | "not-found" // 404
  | "conflict" // 409: resourceVersion or uid precondition failed
  | "too-many-requests" // 429: API priority and fairness, or a PDB refusing an eviction
  | "forbidden" // 401/403: RBAC; retrying will not help
  | "invalid" // 400/422: the request itself is wrong
  | "server" // 5xx: may pass
  | "network" // no HTTP answer at all
  | "other";

export interface KubeErrorInfo {
  readonly kind: KubeErrorKind;
  readonly status: number | undefined;
  /** The Status object's message when there is one, else the error's. */
  readonly message: string;
  /** The Status object's reason (e.g. "TooManyRequests", "NotFound"). */
  readonly reason: string | undefined;
  readonly retryable: boolean;
  /** Seconds from a Retry-After header, when given. */
  readonly retryAfterSeconds: number | undefined;
}

interface StatusBody {
  message?: unknown;
  reason?: unknown;
  details?: { causes?: Array<{ message?: unknown }> };
}

function statusBody(body: unknown): StatusBody | undefined {
  if (typeof body === "string") {
    try {
      const parsed: unknown = JSON.parse(body);
      return typeof parsed === "object" && parsed !== null ? (parsed as StatusBody) : undefined;
    } catch {
      return { message: body };
    }
  }
  return typeof body === "object" && body !== null ? (body as StatusBody) : undefined;
}

export function classifyKubeError(err: unknown): KubeErrorInfo {
  // Our own wrapper: classify what it wraps.
  if (err instanceof NthdError && err.cause !== undefined) return classifyKubeError(err.cause);
  if (err instanceof KubeApiError) {
    const status = err.status;
    const body = statusBody(err.body);
    // A PDB refusal says which budget and how many healthy pods only in details.causes.
    const causes = (body?.details?.causes ?? [])
      .map((c) => c.message)
      .filter((m): m is string => typeof m === "string" && m !== "");
    const base =
      typeof body?.message === "string" && body.message !== "" ? body.message : err.message;
    const message = causes.length > 0 ? `${base} ${causes.join("; ")}` : base;
    const reason = typeof body?.reason === "string" ? body.reason : undefined;
    const retryAfterRaw = err.headers["retry-after"];
    const retryAfter =
      typeof retryAfterRaw === "string" && retryAfterRaw !== "" ? Number(retryAfterRaw) : undefined;
    const kind = kindOf(status);
    return {
      kind,
      status,
      message,
      reason,
      retryable: kind === "too-many-requests" || kind === "server" || kind === "conflict",
      retryAfterSeconds: Number.isFinite(retryAfter) ? retryAfter : undefined,
    };
  }
  const message = err instanceof Error ? err.message : String(err);
  // Connection failures (ECONNREFUSED, resets, TLS) surface as system or undici
  // errors with a string code; a request timeout as a TimeoutError. Either may pass.
  const network =
    err instanceof TypeError ||
    (err instanceof Error && "code" in err && typeof err.code === "string") ||
    (err instanceof Error && err.name === "TimeoutError");
  return {
    kind: network ? "network" : "other",
    status: undefined,
    message:
      err instanceof Error && err.cause instanceof Error
        ? `${message}: ${err.cause.message}`
        : message,
    reason: undefined,
    retryable: network,
    retryAfterSeconds: undefined,
  };
}

function kindOf(status: number): KubeErrorKind {
  if (status === 404) return "not-found";
  if (status === 409) return "conflict";
  if (status === 429) return "too-many-requests";
  if (status === 401 || status === 403) return "forbidden";
  if (status === 400 || status === 422) return "invalid";
  if (status >= 500) return "server";
  return "other";
}

/** Wraps an API failure as an NthdError with a short context prefix. */
export function kubeError(context: string, err: unknown, code: ErrorCode = "KUBE_API"): NthdError {
  if (err instanceof NthdError) return err;
  const info = classifyKubeError(err);
  const status = info.status === undefined ? info.kind : `HTTP ${info.status}`;
  return new NthdError(code, `${context}: ${status}: ${info.message}`, {
    cause: err,
    context: {
      status: info.status,
      kind: info.kind,
      reason: info.reason,
      retryAfterSeconds: info.retryAfterSeconds,
    },
  });
}

/**
 * --prefer-stable: how often nthd saw each instance type interrupted, read
 * from Prometheus (nthd_interruptions_total, labelled by pool). The query
 * counts Spot interruption warnings only: rebalance recommendations and
 * maintenance events say little about how deep a pool is.
 * https://prometheus.io/docs/prometheus/latest/querying/api/#instant-queries
 */

export function interruptionQuery(days: number, zones: readonly string[] = []): string {
  const zoneMatch =
    zones.length > 0
      ? `,availability_zone=~"${zones.map((z) => z.replace(/[^a-z0-9-]/g, "")).join("|")}"`
      : "";
  return `sum by (instance_type) (increase(nthd_interruptions_total{kind="spot-interruption"${zoneMatch}}[${days}d]))`;
}

export type VectorResult =
  | { readonly ok: true; readonly counts: ReadonlyMap<string, number> }
  | { readonly ok: false; readonly error: string };

/** A Prometheus instant-query answer → count per instance_type. Never throws. */
export function parseInterruptionVector(body: unknown): VectorResult {
  if (typeof body !== "object" || body === null)
    return { ok: false, error: "answer is not a JSON object" };
  const b = body as {
    status?: unknown;
    error?: unknown;
    data?: { resultType?: unknown; result?: unknown };
  };
  if (b.status !== "success") {
    return {
      ok: false,
      error: `query failed: ${typeof b.error === "string" ? b.error : JSON.stringify(b.status)}`,
    };
  }
  if (b.data?.resultType !== "vector" || !Array.isArray(b.data.result)) {
    return {
      ok: false,
      error: `expected a vector result, got ${JSON.stringify(b.data?.resultType)}`,
    };
  }
  const counts = new Map<string, number>();
  for (const sample of b.data.result as unknown[]) {
    const s = sample as { metric?: { instance_type?: unknown }; value?: unknown };
    const type = s.metric?.instance_type;
    const value = Array.isArray(s.value) ? Number(s.value[1]) : Number.NaN;
    // Samples without an instance type (pools nthd could not attribute) or with
    // NaN values (a counter reset over an empty range) carry no ranking signal.
    if (typeof type !== "string" || type === "" || !Number.isFinite(value)) continue;
    counts.set(type, (counts.get(type) ?? 0) + value);
  }
  return { ok: true, counts };
}

export interface FetchOptions {
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

/** Runs the query against `baseUrl`'s /api/v1/query; rejects with a message naming the URL. */
export async function fetchInterruptions(
  baseUrl: string,
  days: number,
  zones: readonly string[],
  opts: FetchOptions = {},
): Promise<ReadonlyMap<string, number>> {
  const url = new URL("api/v1/query", baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`);
  url.searchParams.set("query", interruptionQuery(days, zones));
  const res = await (opts.fetch ?? fetch)(url, {
    signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
  });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${url.origin}: HTTP ${res.status}, not JSON: ${text.slice(0, 120)}`);
  }
  const parsed = parseInterruptionVector(body);
  if (!parsed.ok) throw new Error(`${url.origin}: ${parsed.error}`);
  return parsed.counts;
}

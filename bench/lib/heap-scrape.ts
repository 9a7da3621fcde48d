// Reads nthd's own view of its memory from its /metrics (prom-client's default
// collectors): the heap V8 has committed, the part of it live objects use, and
// the memory of ArrayBuffers and Buffers outside it. Beside the RSS the kernel
// reports, they tell a growing JavaScript heap from growth outside it (native
// allocations, code, thread stacks).

export interface HeapSample {
  /** Milliseconds since the process was spawned (as Sample.tMs). */
  readonly tMs: number;
  /** V8's committed heap (nodejs_heap_size_total_bytes). */
  readonly heapTotalBytes: number;
  /** Of it, what objects use (nodejs_heap_size_used_bytes). */
  readonly heapUsedBytes: number;
  /** ArrayBuffers, Buffers and other memory V8 is told about (nodejs_external_memory_bytes). */
  readonly externalBytes: number;
}

/** The value of an unlabelled sample `name` in Prometheus text, or undefined. */
export function metricValue(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  if (m?.[1] === undefined) return undefined;
  const v = Number(m[1]);
  return Number.isFinite(v) ? v : undefined;
}

/** Scrapes `url` once; undefined when it does not answer or lacks the figures. */
export async function scrapeHeap(url: string, tMs: number): Promise<HeapSample | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) return undefined;
    const text = await res.text();
    const heapTotalBytes = metricValue(text, "nodejs_heap_size_total_bytes");
    const heapUsedBytes = metricValue(text, "nodejs_heap_size_used_bytes");
    const externalBytes = metricValue(text, "nodejs_external_memory_bytes");
    if (
      heapTotalBytes === undefined ||
      heapUsedBytes === undefined ||
      externalBytes === undefined
    ) {
      return undefined;
    }
    return { tMs, heapTotalBytes, heapUsedBytes, externalBytes };
  } catch {
    return undefined;
  }
}

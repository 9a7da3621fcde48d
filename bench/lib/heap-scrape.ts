// Reads nthd's own view of its memory from its /metrics (prom-client's default
// collectors): the heap V8 has committed, the part of it live objects use, and
// the memory of ArrayBuffers and Buffers outside it. Beside the RSS the kernel
// reports, they tell a growing JavaScript heap from growth outside it (native
// allocations, code, thread stacks).
import { metricSum, scrapeMetrics } from "../../test/env/nthd-process.ts";

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

/** Scrapes nthd's /metrics on `port` once; undefined when it does not answer or lacks the figures. */
export async function scrapeHeap(port: number, tMs: number): Promise<HeapSample | undefined> {
  const text = await scrapeMetrics(port).catch(() => undefined);
  if (text === undefined) return undefined;
  // One collector writes all three; a V8 heap is never empty, so 0 means absent.
  const heapTotalBytes = metricSum(text, "nodejs_heap_size_total_bytes");
  if (heapTotalBytes === 0) return undefined;
  return {
    tMs,
    heapTotalBytes,
    heapUsedBytes: metricSum(text, "nodejs_heap_size_used_bytes"),
    externalBytes: metricSum(text, "nodejs_external_memory_bytes"),
  };
}

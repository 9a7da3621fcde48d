// The memory limit the chart gives each mode by default
// (charts/nthd/values.yaml: queueResources / imdsResources), so a bench can
// run nthd inside exactly that limit, with the heap flag the chart derives;
// and the malloc arena cap it sets (mallocArenaMax), which changes the RSS.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { load } from "js-yaml";
import { parseQuantity } from "./cgroup.ts";
import { repoRoot } from "./results.ts";

type Resources = { limits?: { memory?: string | number } } | undefined;

function chartValues(root: string): Record<string, unknown> | undefined {
  return load(readFileSync(join(root, "charts", "nthd", "values.yaml"), "utf8")) as
    | Record<string, unknown>
    | undefined;
}

/** The chart's MALLOC_ARENA_MAX in the tree at `root`, or undefined when it sets none. */
export function chartMallocArenaMax(root: string): string | undefined {
  const value = chartValues(root)?.mallocArenaMax;
  return value === undefined || value === null ? undefined : String(value);
}

/**
 * The MALLOC_ARENA_MAX nthd runs with in a bench: the chart's, unless
 * BENCH_NTHD_MALLOC_ARENA_MAX overrides it (bench/lib/handlers.ts passes
 * BENCH_NTHD_* through). Printed and recorded with results, since it moves RSS.
 */
export function benchMallocArenaMax(root: string): string {
  return (
    process.env.BENCH_NTHD_MALLOC_ARENA_MAX ?? chartMallocArenaMax(root) ?? "(glibc's default)"
  );
}

/** The chart's default memory limit for a mode in the tree at `root`, or undefined when it sets none. */
export function chartMemoryLimitOf(
  mode: "queue" | "imds",
  root: string,
): { bytes: number; text: string } | undefined {
  const limit = (chartValues(root)?.[`${mode}Resources`] as Resources)?.limits?.memory;
  return limit === undefined
    ? undefined
    : { bytes: parseQuantity(String(limit)), text: String(limit) };
}

/** The chart's default memory limit for a mode, in bytes. */
export function chartMemoryLimit(mode: "queue" | "imds"): { bytes: number; text: string } {
  const limit = chartMemoryLimitOf(mode, repoRoot);
  if (limit === undefined) {
    throw new Error(`charts/nthd/values.yaml: no ${mode}Resources.limits.memory`);
  }
  return limit;
}

/** `--cgroup-limit` as bytes: a quantity ("256Mi") or "chart" (the mode's chart default). */
export function cgroupLimitOption(
  raw: unknown,
  mode: "queue" | "imds",
): { bytes: number; text: string } | undefined {
  if (raw === undefined || raw === "") return undefined;
  if (raw === "chart") return chartMemoryLimit(mode);
  return { bytes: parseQuantity(String(raw)), text: String(raw) };
}

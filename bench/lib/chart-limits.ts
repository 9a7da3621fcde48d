// The memory limit the chart gives each mode by default
// (charts/nthd/values.yaml: queueResources / imdsResources), so a bench can
// run nthd inside exactly that limit, with the heap flag the chart derives;
// and the glibc malloc settings it sets (mallocArenaMax, mallocMmapThreshold),
// which change the RSS.
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

/** glibc's variables the chart sets (mallocArenaMax, mallocMmapThreshold) in the tree at `root`. */
export function chartMallocEnv(root: string): Record<string, string> {
  const values = chartValues(root) ?? {};
  const out: Record<string, string> = {};
  for (const [name, key] of [
    ["MALLOC_ARENA_MAX", "mallocArenaMax"],
    ["MALLOC_MMAP_THRESHOLD_", "mallocMmapThreshold"],
  ] as const) {
    const value = values[key];
    if (value !== undefined && value !== null) out[name] = String(value);
  }
  return out;
}

/**
 * glibc's settings nthd runs with in a bench: the chart's, each unless a
 * BENCH_NTHD_ variable overrides it (bench/lib/handlers.ts passes BENCH_NTHD_*
 * through). Printed and recorded with results, since they move RSS.
 */
export function benchMallocEnv(root: string): string {
  const env = chartMallocEnv(root);
  for (const name of ["MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_"]) {
    const override = process.env[`BENCH_NTHD_${name}`];
    if (override !== undefined) env[name] = override;
  }
  const set = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  return set.length === 0 ? "glibc's defaults" : set.join(" ");
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

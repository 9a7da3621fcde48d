/**
 * Instance-type filters: an ordered list of small predicates, each saying why
 * it eliminates a type and naming the flag that set it. Applying them keeps
 * the count after each step, so "nothing matches" can say which filter
 * removed the last candidates instead of a bare "criteria too narrow".
 */
import type { Range } from "./options.ts";
import { type InstanceTypeRecord, memoryPerVcpuGiB } from "./records.ts";

export interface Filter {
  /** The flag (and value) that set this filter, e.g. "--vcpus-to-memory-ratio 1:4". */
  readonly by: string;
  /** Why `r` is eliminated, or undefined to keep it. */
  eliminates(r: InstanceTypeRecord): string | undefined;
}

export interface FilterStep {
  readonly by: string;
  readonly before: number;
  readonly after: number;
}

export type FilterResult =
  | {
      readonly ok: true;
      readonly kept: readonly InstanceTypeRecord[];
      readonly steps: readonly FilterStep[];
    }
  | {
      readonly ok: false;
      readonly steps: readonly FilterStep[];
      /** The filter that left nothing. */
      readonly last: string;
      /** A few of the candidates it removed, with its reason. */
      readonly examples: readonly string[];
    };

export function applyFilters(
  records: readonly InstanceTypeRecord[],
  filters: readonly Filter[],
): FilterResult {
  let current = records;
  const steps: FilterStep[] = [];
  for (const f of filters) {
    const next = current.filter((r) => f.eliminates(r) === undefined);
    steps.push({ by: f.by, before: current.length, after: next.length });
    if (next.length === 0) {
      const examples = current.slice(0, 3).map((r) => `${r.name}: ${f.eliminates(r)}`);
      return { ok: false, steps, last: f.by, examples };
    }
    current = next;
  }
  return { ok: true, kept: current, steps };
}

/** One line for the error: which filter emptied the list, and the funnel that led there. */
export function describeNoMatch(result: Extract<FilterResult, { ok: false }>): string {
  const last = result.steps[result.steps.length - 1];
  const funnel = result.steps.map((s) => `${s.by} (${s.before} → ${s.after})`).join(", ");
  const removed = last === undefined ? 0 : last.before;
  return (
    `no instance type matches: ${result.last} eliminated the last ${removed} candidate${removed === 1 ? "" : "s"}` +
    (result.examples.length > 0 ? ` (${result.examples.join("; ")})` : "") +
    `; filters in order: ${funnel}`
  );
}

// --- predicates ---------------------------------------------------------------

const gib = (mib: number): string => `${Number((mib / 1024).toFixed(2))} GiB`;

function inRange(value: number, range: Range): boolean {
  return (
    (range.min === undefined || value >= range.min) &&
    (range.max === undefined || value <= range.max)
  );
}

function rangeText(range: Range, unit: (n: number) => string): string {
  if (range.min !== undefined && range.min === range.max) return unit(range.min);
  if (range.max === undefined) return `at least ${unit(range.min ?? 0)}`;
  if (range.min === undefined) return `at most ${unit(range.max)}`;
  return `${unit(range.min)} to ${unit(range.max)}`;
}

export const usageClassFilter = (usage: string, by: string): Filter => ({
  by,
  eliminates: (r) =>
    r.usageClasses.some((u) => u === usage) ? undefined : `not offered as ${usage}`,
});

export const architectureFilter = (arch: string, by: string): Filter => ({
  by,
  eliminates: (r) =>
    r.architectures.some((a) => a === arch)
      ? undefined
      : `${r.architectures.join("/") || "other"}, not ${arch}`,
});

export const vcpusFilter = (range: Range, by: string): Filter => ({
  by,
  eliminates: (r) =>
    inRange(r.vcpus, range) ? undefined : `${r.vcpus} vCPUs, wanted ${rangeText(range, String)}`,
});

export const memoryFilter = (range: Range, by: string): Filter => ({
  by,
  eliminates: (r) =>
    inRange(r.memoryMiB, range)
      ? undefined
      : `${gib(r.memoryMiB)}, wanted ${rangeText(range, gib)}`,
});

/**
 * Memory per vCPU equal to the ratio, within half a percent: EC2 sizes are
 * exact multiples (m5.xlarge 16 GiB / 4 vCPUs = 4), so a tolerance only
 * absorbs float noise; c4's 3.75 GiB per vCPU is deliberately not 1:4.
 */
export const ratioFilter = (gibPerVcpu: number, by: string): Filter => ({
  by,
  eliminates: (r) => {
    const actual = memoryPerVcpuGiB(r);
    return Math.abs(actual - gibPerVcpu) <= gibPerVcpu * 0.005
      ? undefined
      : `${r.vcpus} vCPUs with ${gib(r.memoryMiB)} is 1:${Number(actual.toFixed(2))}`;
  },
});

export const gpusFilter = (range: Range, by: string): Filter => ({
  by,
  eliminates: (r) =>
    inRange(r.gpus, range) ? undefined : `${r.gpus} GPUs, wanted ${rangeText(range, String)}`,
});

export const flagFilter = (
  fact: "burstable" | "bareMetal" | "fpga",
  wanted: boolean,
  by: string,
): Filter => {
  const word = { burstable: "burstable", bareMetal: "bare metal", fpga: "has an FPGA" }[fact];
  return {
    by,
    eliminates: (r) => (r[fact] === wanted ? undefined : wanted ? `not ${word}` : word),
  };
};

export const allowListFilter = (re: RegExp, by: string): Filter => ({
  by,
  eliminates: (r) => (re.test(r.name) ? undefined : `name does not match ${re.source}`),
});

export const denyListFilter = (re: RegExp, by: string): Filter => ({
  by,
  eliminates: (r) => (re.test(r.name) ? `name matches ${re.source}` : undefined),
});

/** Only families from the given series at or above a generation (the --flexible set). */
export const familiesFilter = (
  series: readonly string[],
  minGeneration: number,
  by: string,
): Filter => ({
  by,
  eliminates: (r) =>
    series.includes(r.series) && r.generation >= minGeneration
      ? undefined
      : `family ${r.family} is outside ${series.join("/")} generation ${minGeneration}+`,
});

/** Offered in every wanted zone (from DescribeInstanceTypeOfferings). */
export const zonesFilter = (
  zones: readonly string[],
  offered: ReadonlyMap<string, ReadonlySet<string>>,
  by: string,
): Filter => ({
  by,
  eliminates: (r) => {
    const missing = zones.filter((z) => !offered.get(r.name)?.has(z));
    return missing.length === 0 ? undefined : `not offered in ${missing.join(", ")}`;
  },
});

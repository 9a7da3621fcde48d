/**
 * Options → the ordered filter list. The aggregate flags live here:
 * --base-instance-type widens one type's size into ranges, --flexible fills
 * in opinionated defaults for whatever the user left open. Each filter's
 * label names the flag that set it, including defaults a flag implied, so a
 * "no match" error points at what to change.
 */
import {
  allowListFilter,
  architectureFilter,
  denyListFilter,
  type Filter,
  familiesFilter,
  flagFilter,
  gpusFilter,
  memoryFilter,
  ratioFilter,
  usageClassFilter,
  vcpusFilter,
  zonesFilter,
} from "./filters.ts";
import type { Range, SelectOptions } from "./options.ts";
import type { InstanceTypeRecord } from "./records.ts";

/**
 * The --flexible set: general purpose, compute and memory optimized families
 * (the deepest Spot pools), Nitro generations (5+), no GPUs, FPGAs, bare
 * metal or burstable types (CPU credits make node capacity unpredictable
 * under a cluster autoscaler). Sizes default to 4 vCPUs at 1:2, as kOps does.
 */
export const FLEXIBLE = {
  series: ["c", "m", "r"],
  minGeneration: 5,
  architecture: "amd64",
  vcpus: 4,
  memoryPerVcpuGiB: 2,
} as const;

/** --base-instance-type accepts types within these factors of the base's vCPUs and memory. */
export const BASE_LOW = 0.9;
export const BASE_HIGH = 1.2;

export interface Zones {
  readonly zones: readonly string[];
  /** Instance type → zones it is offered in. */
  readonly offered: ReadonlyMap<string, ReadonlySet<string>>;
}

export type FiltersResult = { ok: true; filters: Filter[] } | { ok: false; message: string };

const isSet = (r: Range): boolean => r.min !== undefined || r.max !== undefined;
const rangeFlag = (flag: string, r: Range): string =>
  r.min !== undefined && r.min === r.max
    ? `--${flag} ${r.min}`
    : [
        r.min !== undefined ? `--${flag}-min ${r.min}` : "",
        r.max !== undefined ? `--${flag}-max ${r.max}` : "",
      ]
        .filter((s) => s !== "")
        .join(" ");

export function buildFilters(
  o: SelectOptions,
  records: readonly InstanceTypeRecord[],
  zones?: Zones,
): FiltersResult {
  const filters: Filter[] = [usageClassFilter(o.usageClass, `--usage-class ${o.usageClass}`)];
  let base: InstanceTypeRecord | undefined;
  if (o.baseInstanceType !== undefined) {
    base = records.find((r) => r.name === o.baseInstanceType);
    if (base === undefined) {
      return {
        ok: false,
        message: `--base-instance-type ${o.baseInstanceType}: no such instance type in this region`,
      };
    }
  }
  const baseBy = `--base-instance-type ${o.baseInstanceType}`;
  const flexBy = "--flexible";

  const arch =
    o.cpuArchitecture ?? base?.architectures[0] ?? (o.flexible ? FLEXIBLE.architecture : undefined);
  if (arch !== undefined) {
    const by =
      o.cpuArchitecture !== undefined ? `--cpu-architecture ${arch}` : base ? baseBy : flexBy;
    filters.push(
      architectureFilter(arch, `${by}${by === flexBy || by === baseBy ? ` (${arch})` : ""}`),
    );
  }
  if (base !== undefined) {
    filters.push(
      flagFilter("bareMetal", base.bareMetal, `${baseBy} (bare metal ${base.bareMetal})`),
    );
    filters.push(flagFilter("fpga", base.fpga, `${baseBy} (FPGA ${base.fpga})`));
  } else if (o.flexible) {
    filters.push(flagFilter("bareMetal", false, `${flexBy} (no bare metal)`));
    filters.push(flagFilter("fpga", false, `${flexBy} (no FPGA)`));
  }
  if (isSet(o.gpus)) {
    filters.push(gpusFilter(o.gpus, rangeFlag("gpus", o.gpus)));
  } else if (base !== undefined) {
    filters.push(gpusFilter({ min: base.gpus, max: base.gpus }, `${baseBy} (${base.gpus} GPUs)`));
  } else if (o.flexible) {
    filters.push(gpusFilter({ min: 0, max: 0 }, `${flexBy} (no GPUs)`));
  }
  if (o.burstSupport !== undefined) {
    filters.push(flagFilter("burstable", o.burstSupport, `--burst-support=${o.burstSupport}`));
  } else if (o.flexible) {
    filters.push(flagFilter("burstable", false, `${flexBy} (no burstable types)`));
  }
  if (o.allowList !== undefined) {
    filters.push(allowListFilter(o.allowList, `--allow-list ${o.allowList.source}`));
  } else if (o.flexible) {
    filters.push(
      familiesFilter(
        FLEXIBLE.series,
        FLEXIBLE.minGeneration,
        `${flexBy} (families ${FLEXIBLE.series.join("/")}, generation ${FLEXIBLE.minGeneration}+)`,
      ),
    );
  }
  if (o.denyList !== undefined)
    filters.push(denyListFilter(o.denyList, `--deny-list ${o.denyList.source}`));

  const sized = isSet(o.vcpus) || isSet(o.memoryMiB);
  if (isSet(o.vcpus)) {
    filters.push(vcpusFilter(o.vcpus, rangeFlag("vcpus", o.vcpus)));
  } else if (base !== undefined && !isSet(o.memoryMiB)) {
    const r = { min: Math.floor(base.vcpus * BASE_LOW), max: Math.ceil(base.vcpus * BASE_HIGH) };
    filters.push(vcpusFilter(r, `${baseBy} (${r.min}-${r.max} vCPUs)`));
  } else if (o.flexible && !sized) {
    filters.push(
      vcpusFilter(
        { min: FLEXIBLE.vcpus, max: FLEXIBLE.vcpus },
        `${flexBy} (${FLEXIBLE.vcpus} vCPUs)`,
      ),
    );
  }
  if (isSet(o.memoryMiB)) {
    filters.push(memoryFilter(o.memoryMiB, rangeFlag("memory", o.memoryMiB)));
  } else if (base !== undefined && !isSet(o.vcpus)) {
    const r = {
      min: Math.floor(base.memoryMiB * BASE_LOW),
      max: Math.ceil(base.memoryMiB * BASE_HIGH),
    };
    filters.push(memoryFilter(r, `${baseBy} (${r.min}-${r.max} MiB)`));
  }
  if (o.memoryPerVcpuGiB !== undefined) {
    filters.push(
      ratioFilter(o.memoryPerVcpuGiB, `--vcpus-to-memory-ratio 1:${o.memoryPerVcpuGiB}`),
    );
  } else if (o.flexible && !isSet(o.memoryMiB)) {
    filters.push(
      ratioFilter(
        FLEXIBLE.memoryPerVcpuGiB,
        `${flexBy} (vcpus-to-memory-ratio 1:${FLEXIBLE.memoryPerVcpuGiB})`,
      ),
    );
  }
  if (zones !== undefined && zones.zones.length > 0) {
    filters.push(
      zonesFilter(zones.zones, zones.offered, `--subnets (zones ${zones.zones.join(", ")})`),
    );
  }
  return { ok: true, filters };
}

/**
 * The instance-type record the selector works on: the few facts the filters,
 * grouping and ranking need, normalized from EC2 DescribeInstanceTypes
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_InstanceTypeInfo.html).
 * Pure: no AWS SDK import, so fixtures and unit tests stay cheap.
 */

export const ARCHITECTURES = ["amd64", "arm64"] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

export const USAGE_CLASSES = ["spot", "on-demand"] as const;
export type UsageClass = (typeof USAGE_CLASSES)[number];

export interface InstanceTypeRecord {
  readonly name: string;
  /** The part before the dot: "m5a" in "m5a.xlarge", "c7i-flex" in "c7i-flex.large". */
  readonly family: string;
  /** Leading letters of the family: "m", "c", "mac". */
  readonly series: string;
  /** Digits after the series: 5 in "m5a"; 0 when the name carries none ("u-3tb1"). */
  readonly generation: number;
  readonly vcpus: number;
  readonly memoryMiB: number;
  readonly architectures: readonly Architecture[];
  readonly gpus: number;
  readonly fpga: boolean;
  readonly bareMetal: boolean;
  readonly burstable: boolean;
  readonly usageClasses: readonly UsageClass[];
  /** CPU maker as EC2 reports it ("Intel", "AMD", "AWS"); empty when unknown. */
  readonly manufacturer: string;
}

export interface TypeName {
  readonly family: string;
  readonly series: string;
  readonly generation: number;
}

/** Splits an instance type name; undefined when it is not `family.size`. */
export function parseTypeName(name: string): TypeName | undefined {
  const dot = name.indexOf(".");
  if (dot <= 0 || dot === name.length - 1) return undefined;
  const family = name.slice(0, dot);
  const m = /^([a-z]+)(\d+)?/.exec(family);
  if (m === null) return undefined;
  return { family, series: m[1] as string, generation: m[2] === undefined ? 0 : Number(m[2]) };
}

/** EC2 architecture names → the Kubernetes names users write (kubernetes.io/arch). */
const ARCH_FROM_EC2: Readonly<Record<string, Architecture>> = { x86_64: "amd64", arm64: "arm64" };

/**
 * The shape of an InstanceTypeInfo this module reads (a structural subset of
 * the SDK type, so fixtures saved as JSON fit it too).
 */
export interface InstanceTypeInfoLike {
  InstanceType?: string | undefined;
  SupportedUsageClasses?: readonly string[] | undefined;
  BareMetal?: boolean | undefined;
  BurstablePerformanceSupported?: boolean | undefined;
  ProcessorInfo?: { SupportedArchitectures?: readonly string[]; Manufacturer?: string } | undefined;
  VCpuInfo?: { DefaultVCpus?: number } | undefined;
  MemoryInfo?: { SizeInMiB?: number } | undefined;
  GpuInfo?: { Gpus?: readonly { Count?: number }[] } | undefined;
  FpgaInfo?: unknown;
}

/**
 * One InstanceTypeInfo → record; undefined (never a throw) when a fact the
 * filters depend on is missing, so one odd entry cannot break a selection.
 */
export function fromDescribe(info: InstanceTypeInfoLike): InstanceTypeRecord | undefined {
  const name = info.InstanceType;
  const vcpus = info.VCpuInfo?.DefaultVCpus;
  const memoryMiB = info.MemoryInfo?.SizeInMiB;
  if (name === undefined || vcpus === undefined || memoryMiB === undefined) return undefined;
  if (!(vcpus > 0) || !(memoryMiB > 0)) return undefined;
  const parsed = parseTypeName(name);
  if (parsed === undefined) return undefined;
  const architectures: Architecture[] = [];
  for (const a of info.ProcessorInfo?.SupportedArchitectures ?? []) {
    const k = ARCH_FROM_EC2[a];
    if (k !== undefined && !architectures.includes(k)) architectures.push(k);
  }
  const usageClasses = USAGE_CLASSES.filter((u) => info.SupportedUsageClasses?.includes(u));
  const gpus = (info.GpuInfo?.Gpus ?? []).reduce((n, g) => n + (g.Count ?? 0), 0);
  return {
    name,
    ...parsed,
    vcpus,
    memoryMiB,
    architectures,
    gpus,
    fpga: info.FpgaInfo !== undefined && info.FpgaInfo !== null,
    bareMetal: info.BareMetal === true,
    burstable: info.BurstablePerformanceSupported === true,
    usageClasses,
    manufacturer: info.ProcessorInfo?.Manufacturer ?? "",
  };
}

/** GiB of memory per vCPU, the right-hand side of a 1:N ratio. */
export function memoryPerVcpuGiB(r: InstanceTypeRecord): number {
  return r.memoryMiB / 1024 / r.vcpus;
}

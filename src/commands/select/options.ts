/**
 * Command line of `nthd select`. Flag names follow `kops toolbox
 * instance-selector` where one exists, so its users need not relearn them.
 * Pure: returns options or a message naming the bad flag; never throws.
 */
import { ArgError, bool, collect, int, memory, oneOf, parseRatio, range, regex } from "./flags.ts";
import { ARCHITECTURES, type Architecture, USAGE_CLASSES, type UsageClass } from "./records.ts";

export const OUTPUT_FORMATS = ["kops", "asg", "cloudformation", "eksctl"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Auto Scaling's Spot allocation strategies (MixedInstancesPolicy.InstancesDistribution). */
export const SPOT_STRATEGIES = [
  "price-capacity-optimized",
  "capacity-optimized",
  "capacity-optimized-prioritized",
  "lowest-price",
] as const;
export type SpotStrategy = (typeof SPOT_STRATEGIES)[number];

/** Auto Scaling accepts at most this many instance types in one group. */
export const MAX_TYPES_PER_GROUP = 40;

export interface Range {
  readonly min?: number | undefined;
  readonly max?: number | undefined;
}

export interface SelectOptions {
  readonly name: string;
  readonly vcpus: Range;
  readonly memoryMiB: Range;
  /** GiB of memory per vCPU (the N of --vcpus-to-memory-ratio 1:N). */
  readonly memoryPerVcpuGiB?: number | undefined;
  readonly cpuArchitecture?: Architecture | undefined;
  readonly gpus: Range;
  readonly flexible: boolean;
  readonly baseInstanceType?: string | undefined;
  readonly allowList?: RegExp | undefined;
  readonly denyList?: RegExp | undefined;
  readonly burstSupport?: boolean | undefined;
  readonly usageClass: UsageClass;
  /** Instance types per group, at most MAX_TYPES_PER_GROUP. */
  readonly maxResults: number;
  readonly igCount: number;
  readonly nodeCountMin: number;
  readonly nodeCountMax: number;
  /** As given: zone names, kOps subnet names (utility-<zone>) or subnet ids. */
  readonly subnets: readonly string[];
  readonly clusterAutoscaler: boolean;
  /** Empty when not given; required by the kops and eksctl outputs and by --cluster-autoscaler. */
  readonly clusterName: string;
  readonly output: OutputFormat;
  readonly onDemandBase: number;
  /** Percent of capacity above the base that is on-demand (0 for spot, 100 for on-demand by default). */
  readonly onDemandAboveBase: number;
  readonly spotAllocationStrategy: SpotStrategy;
  readonly managedTag: string;
  readonly launchTemplate: string;
  readonly preferStable: boolean;
  readonly metricsUrl?: string | undefined;
  readonly stableWindowDays: number;
  readonly region: string;
  readonly help: boolean;
}

export const SELECT_USAGE = `usage: nthd select NAME [flags]

Finds EC2 instance types that fit a workload and prints diversified Spot (or
on-demand) instance groups. Only prints: never changes anything in AWS.

Requirements
  --vcpus N | --vcpus-min N | --vcpus-max N
  --memory Q | --memory-min Q | --memory-max Q   Q in MiB, or with a unit: 8GiB, 512MiB
  --vcpus-to-memory-ratio 1:N                    N GiB of memory per vCPU
  --cpu-architecture amd64|arm64
  --gpus N | --gpus-min N | --gpus-max N
  --burst-support[=true|false]                   burstable (t) types only / none
  --usage-class spot|on-demand                   default on-demand
  --allow-list REGEX | --deny-list REGEX         on instance type names
  --base-instance-type TYPE                      types sized like TYPE (vCPUs and memory 0.9x-1.2x)
  --flexible                                     a broad multi-family, multi-generation set
  --subnets A,B                                  zones, kOps subnet names or subnet ids; types
                                                 must be offered in every zone
Groups
  --ig-count N            split the types into N groups with no family in common (default 1)
  --max-results N         instance types per group (default 20, at most ${MAX_TYPES_PER_GROUP})
  --node-count-min N      default 2
  --node-count-max N      default 15
  --on-demand-base N      default 0
  --on-demand-above-base PERCENT   default 0 for spot, 100 for on-demand
  --spot-allocation-strategy S     default price-capacity-optimized
  --cluster-autoscaler    add Cluster Autoscaler auto-discovery tags
  --cluster-name NAME     default $KOPS_CLUSTER_NAME
  --managed-tag KEY       tag queue mode checks (default aws-node-termination-handler/managed)
  --launch-template NAME  for asg and cloudformation output (default NAME)
Ranking
  --prefer-stable --metrics-url URL   rank away from the pools nthd saw interrupted most
  --stable-window-days N              how far back to look (default 14)
Output
  --output kops|asg|cloudformation|eksctl   default kops
  --region REGION                           default $AWS_REGION
  --dry-run                                 accepted for kOps compatibility; select never writes
`;

export type SelectArgsResult =
  | { ok: true; options: SelectOptions }
  | { ok: false; message: string };

type Env = Readonly<Record<string, string | undefined>>;

const VALUE_FLAGS = new Set([
  "vcpus",
  "vcpus-min",
  "vcpus-max",
  "memory",
  "memory-min",
  "memory-max",
  "vcpus-to-memory-ratio",
  "cpu-architecture",
  "gpus",
  "gpus-min",
  "gpus-max",
  "base-instance-type",
  "instance-type-base",
  "allow-list",
  "deny-list",
  "usage-class",
  "max-results",
  "ig-count",
  "node-count-min",
  "node-count-max",
  "subnets",
  "zones",
  "cluster-name",
  "output",
  "on-demand-base",
  "on-demand-above-base",
  "spot-allocation-strategy",
  "managed-tag",
  "launch-template",
  "metrics-url",
  "stable-window-days",
  "region",
]);
const BOOL_FLAGS = new Set([
  "flexible",
  "burst-support",
  "cluster-autoscaler",
  "prefer-stable",
  "dry-run",
  "help",
]);

const NAME_RE = /^[a-z0-9]([-a-z0-9]{0,50}[a-z0-9])?$/;

export function parseSelectArgs(args: readonly string[], env: Env = {}): SelectArgsResult {
  try {
    return { ok: true, options: build(args, env) };
  } catch (err) {
    if (err instanceof ArgError) return { ok: false, message: err.message };
    throw err;
  }
}

function build(args: readonly string[], env: Env): SelectOptions {
  const { values: v, positional } = collect(args, BOOL_FLAGS, VALUE_FLAGS);
  const help = bool(v, "help") === true;
  if (positional.length > 1) throw new ArgError(`one NAME expected, got ${positional.join(" ")}`);
  const name = positional[0] ?? "";
  if (!help && !NAME_RE.test(name)) {
    throw new ArgError(
      name === ""
        ? "NAME (the instance group name) is required"
        : `NAME ${JSON.stringify(name)}: use lowercase letters, digits and dashes (at most 52)`,
    );
  }
  const ratioText = v.get("vcpus-to-memory-ratio");
  const memoryPerVcpuGiB = ratioText === undefined ? undefined : parseRatio(ratioText);
  if (ratioText !== undefined && memoryPerVcpuGiB === undefined) {
    throw new ArgError(
      `--vcpus-to-memory-ratio ${JSON.stringify(ratioText)}: expected vCPUs:GiB such as 1:4`,
    );
  }
  const usageClass = oneOf(v, "usage-class", USAGE_CLASSES) ?? "on-demand";
  const nodeCountMin = int(v, "node-count-min", 0) ?? 2;
  const nodeCountMax = int(v, "node-count-max", 0) ?? 15;
  if (nodeCountMin > nodeCountMax) {
    throw new ArgError(
      `--node-count-min ${nodeCountMin} is above --node-count-max ${nodeCountMax}`,
    );
  }
  const preferStable = bool(v, "prefer-stable") === true;
  const metricsUrl = v.get("metrics-url");
  if (preferStable && metricsUrl === undefined)
    throw new ArgError("--prefer-stable needs --metrics-url");
  if (metricsUrl !== undefined && !/^https?:\/\/[^/]/.test(metricsUrl)) {
    throw new ArgError(`--metrics-url ${JSON.stringify(metricsUrl)}: expected an http(s) URL`);
  }
  const region = v.get("region") ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? "";
  if (!help && region === "") throw new ArgError("no region: set --region or AWS_REGION");
  const output = oneOf(v, "output", OUTPUT_FORMATS) ?? "kops";
  const clusterName = v.get("cluster-name") ?? env.KOPS_CLUSTER_NAME ?? "";
  const clusterAutoscaler = bool(v, "cluster-autoscaler") === true;
  if (
    !help &&
    clusterName === "" &&
    (output === "kops" || output === "eksctl" || clusterAutoscaler)
  ) {
    throw new ArgError(
      `no cluster name: set --cluster-name or KOPS_CLUSTER_NAME (needed by --output ${output}${clusterAutoscaler ? " and --cluster-autoscaler" : ""})`,
    );
  }
  const subnets = (v.get("subnets") ?? v.get("zones") ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  return {
    name,
    vcpus: range(int(v, "vcpus", 1), int(v, "vcpus-min", 1), int(v, "vcpus-max", 1), "vcpus"),
    memoryMiB: range(
      memory(v, "memory"),
      memory(v, "memory-min"),
      memory(v, "memory-max"),
      "memory",
    ),
    memoryPerVcpuGiB,
    cpuArchitecture: oneOf(v, "cpu-architecture", ARCHITECTURES, {
      x86_64: "amd64",
      aarch64: "arm64",
    }),
    gpus: range(int(v, "gpus", 0), int(v, "gpus-min", 0), int(v, "gpus-max", 0), "gpus"),
    flexible: bool(v, "flexible") === true,
    baseInstanceType: v.get("base-instance-type") ?? v.get("instance-type-base"),
    allowList: regex(v, "allow-list"),
    denyList: regex(v, "deny-list"),
    burstSupport: bool(v, "burst-support"),
    usageClass,
    maxResults: int(v, "max-results", 1, MAX_TYPES_PER_GROUP) ?? 20,
    igCount: int(v, "ig-count", 1, 20) ?? 1,
    nodeCountMin,
    nodeCountMax,
    subnets,
    clusterAutoscaler,
    clusterName,
    output,
    onDemandBase: int(v, "on-demand-base", 0) ?? 0,
    onDemandAboveBase: int(v, "on-demand-above-base", 0, 100) ?? (usageClass === "spot" ? 0 : 100),
    spotAllocationStrategy:
      oneOf(v, "spot-allocation-strategy", SPOT_STRATEGIES) ?? "price-capacity-optimized",
    managedTag: v.get("managed-tag") ?? "aws-node-termination-handler/managed",
    launchTemplate: v.get("launch-template") ?? name,
    preferStable,
    metricsUrl,
    stableWindowDays: int(v, "stable-window-days", 1, 365) ?? 14,
    region,
    help,
  };
}

/**
 * Command line of `nthd select`. Flag names follow `kops toolbox
 * instance-selector` where one exists, so its users need not relearn them.
 * Pure: returns options or a message naming the bad flag; never throws.
 */
import { type CommandLineSpec, type OptionSpec, parseCommandLine } from "../../config/index.ts";
import { ArgError, bool, int, memory, oneOf, parseRatio, range, regex } from "./flags.ts";
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

const s = (value: string, help: string, aliases?: string[]): OptionSpec => ({
  type: "string",
  value,
  help,
  ...(aliases ? { aliases } : {}),
});
const b = (help: string): OptionSpec => ({ type: "boolean", help });

export const SELECT_LINE: CommandLineSpec = {
  name: "nthd select",
  synopsis: ["nthd select NAME [options]"],
  description: `Finds EC2 instance types that fit a workload and prints diversified Spot (or
on-demand) instance groups for the instance group NAME. Only reads: never
changes anything in AWS. Option names follow kops toolbox instance-selector.`,
  options: {
    vcpus: s("N", "exactly N vCPUs (--vcpus-min/--vcpus-max bound one side)"),
    "vcpus-min": s("N", "at least N vCPUs"),
    "vcpus-max": s("N", "at most N vCPUs"),
    memory: s("Q", "memory, in MiB or with a unit: 8GiB, 512MiB"),
    "memory-min": s("Q", "at least this much memory"),
    "memory-max": s("Q", "at most this much memory"),
    "vcpus-to-memory-ratio": s("1:N", "N GiB of memory per vCPU"),
    "cpu-architecture": s("ARCH", "amd64 or arm64"),
    gpus: s("N", "exactly N GPUs"),
    "gpus-min": s("N", "at least N GPUs"),
    "gpus-max": s("N", "at most N GPUs"),
    "burst-support": b("burstable (t) types only; --no-burst-support: none"),
    "usage-class": s("CLASS", "spot or on-demand (default on-demand)"),
    "allow-list": s("REGEX", "only instance types whose name matches"),
    "deny-list": s("REGEX", "no instance type whose name matches"),
    "base-instance-type": s("TYPE", "types sized like TYPE (vCPUs and memory 0.9x-1.2x)", [
      "instance-type-base",
    ]),
    flexible: b("a broad multi-family, multi-generation set"),
    subnets: s(
      "A,B",
      "zones, kOps subnet names or subnet ids; types must be offered in every zone",
      ["zones"],
    ),
    "ig-count": s("N", "split the types into N groups with no family in common (default 1)"),
    "max-results": s("N", `instance types per group (default 20, at most ${MAX_TYPES_PER_GROUP})`),
    "node-count-min": s("N", "default 2"),
    "node-count-max": s("N", "default 15"),
    "on-demand-base": s("N", "default 0"),
    "on-demand-above-base": s("PERCENT", "default 0 for spot, 100 for on-demand"),
    "spot-allocation-strategy": s(
      "STRATEGY",
      `${SPOT_STRATEGIES.join(", ")} (default price-capacity-optimized)`,
    ),
    "cluster-autoscaler": b("add Cluster Autoscaler auto-discovery tags"),
    "cluster-name": s("NAME", "default $KOPS_CLUSTER_NAME"),
    "managed-tag": s("KEY", "tag queue mode checks (default aws-node-termination-handler/managed)"),
    "launch-template": s("NAME", "for asg and cloudformation output (default NAME)"),
    "prefer-stable": b("rank away from the pools nthd saw interrupted most (needs --metrics-url)"),
    "metrics-url": s("URL", "Prometheus that scrapes nthd, for --prefer-stable"),
    "stable-window-days": s("N", "how far back to look (default 14)"),
    output: s("FORMAT", `${OUTPUT_FORMATS.join(", ")} (default kops)`),
    region: s("REGION", "default $AWS_REGION"),
    "dry-run": b("accepted for kOps compatibility; select never writes"),
  },
  allowPositionals: true,
  notes: "The manifest goes to standard output; a summary and notes to standard error.",
  exitCodes: {
    0: "printed",
    1: "a read failed",
    2: "bad options or impossible requirements",
  },
};

export type SelectArgsResult =
  | { ok: true; options: SelectOptions }
  | { ok: false; message: string };

type Env = Readonly<Record<string, string | undefined>>;

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
  const parsed = parseCommandLine(SELECT_LINE, args);
  if (!parsed.ok) throw new ArgError(parsed.message);
  // The typed readers in flags.ts work on text: booleans as "true"/"false".
  const v = new Map<string, string>();
  for (const [name, value] of Object.entries(parsed.values)) {
    if (value !== undefined) v.set(name, String(value));
  }
  const positional = parsed.positionals;
  const help = parsed.help;
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
  const subnets = (v.get("subnets") ?? "")
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
    baseInstanceType: v.get("base-instance-type"),
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

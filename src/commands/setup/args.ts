/**
 * Command lines of `nthd setup` and `nthd teardown`. Pure: returns the
 * options or a usage message naming the bad option. Each command has its own
 * spec, so each prints its own usage and refuses the other's options.
 */
import { type CommandLineSpec, type ParsedLine, parseCommandLine } from "../../config/index.ts";
import { DEFAULT_MANAGED_TAG, validateClusterName } from "./names.ts";
import type { SetupOptions } from "./state.ts";

export interface SetupArgs extends SetupOptions {
  readonly region: string;
  readonly dryRun: boolean;
  readonly output: "plan" | "cloudformation";
  readonly help: boolean;
}

const EXIT_CODES = {
  0: "done, or nothing to do",
  1: "AWS refused or failed (the message names the IAM action when it was a permission)",
  2: "bad usage",
} as const;

const COMMON = {
  "cluster-name": {
    type: "string",
    value: "NAME",
    help: "cluster name (names the queue and the rules)",
  },
  region: {
    type: "string",
    value: "REGION",
    help: "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION)",
  },
  "dry-run": { type: "boolean", help: "print the plan, change nothing" },
} as const;

export const SETUP_LINE: CommandLineSpec = {
  name: "nthd setup",
  synopsis: ["nthd setup --cluster-name NAME [options]"],
  description: `Creates or updates, idempotently, what queue mode needs in AWS: the queue
<NAME with dots as dashes>-nth, its policy, EventBridge rules <NAME>-<Event>,
and optionally lifecycle hooks and the managed tag on Auto Scaling groups.
Everything it creates carries the tag nthd.io/cluster=<NAME>.`,
  options: {
    ...COMMON,
    rebalance: { type: "boolean", help: "also route rebalance recommendations" },
    dlq: { type: "boolean", help: "add a dead-letter queue <queue>-dlq with a redrive policy" },
    asg: {
      type: "string",
      multiple: true,
      value: "NAME",
      help: "Auto Scaling group to get the terminate hook and the managed tag (repeatable)",
    },
    "managed-tag": {
      type: "string",
      value: "KEY",
      help: `tag key put on those groups (default ${DEFAULT_MANAGED_TAG})`,
    },
    "heartbeat-timeout": {
      type: "string",
      value: "SECONDS",
      help: "lifecycle hook heartbeat timeout, 30..7200 (default 300)",
    },
    output: {
      type: "string",
      value: "cloudformation",
      help: "print an equivalent CloudFormation template instead (no AWS calls)",
    },
  },
  notes: "Endpoint for tests: AWS_ENDPOINT or AWS_ENDPOINT_URL.",
  exitCodes: EXIT_CODES,
};

export const TEARDOWN_LINE: CommandLineSpec = {
  name: "nthd teardown",
  synopsis: ["nthd teardown --cluster-name NAME [--region REGION] [--dry-run]"],
  description: `Removes what \`nthd setup\` created for the cluster: only resources that carry
the tag nthd.io/cluster=<NAME> (and the hooks and group tags setup recorded
adding). Anything else, even with the same names, is left alone.`,
  options: COMMON,
  notes: "Endpoint for tests: AWS_ENDPOINT or AWS_ENDPOINT_URL.",
  exitCodes: EXIT_CODES,
};

export type ParsedArgs = { ok: true; args: SetupArgs } | { ok: false; message: string };

type Env = Readonly<Record<string, string | undefined>>;

export function parseSetupArgs(argv: readonly string[], env: Env, teardown = false): ParsedArgs {
  const parsed = parseCommandLine(teardown ? TEARDOWN_LINE : SETUP_LINE, argv);
  if (!parsed.ok) return parsed;
  const built = build(parsed, env);
  if (!built.ok || built.args.help) return built;
  const { cluster, region, output } = built.args;
  if (cluster === "") return { ok: false, message: "--cluster-name is required" };
  try {
    validateClusterName(cluster);
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
  if (region === "" && output !== "cloudformation") {
    return { ok: false, message: "no region: pass --region or set AWS_REGION" };
  }
  return built;
}

function build(parsed: ParsedLine, env: Env): ParsedArgs {
  const v = parsed.values;
  const text = (name: string) => v[name] as string | undefined;
  const managedTag = text("managed-tag") ?? DEFAULT_MANAGED_TAG;
  if (managedTag === "") return { ok: false, message: "--managed-tag needs a tag key" };
  const rawTimeout = text("heartbeat-timeout") ?? "300";
  const timeout = Number(rawTimeout);
  // AWS accepts 30..7200 seconds for a hook's heartbeat timeout.
  if (!/^\d+$/.test(rawTimeout) || timeout < 30 || timeout > 7200) {
    return {
      ok: false,
      message: `--heartbeat-timeout ${JSON.stringify(rawTimeout)}: use an integer 30..7200`,
    };
  }
  const output = text("output");
  if (output !== undefined && output !== "cloudformation") {
    return {
      ok: false,
      message: `--output ${JSON.stringify(output)}: the only format is cloudformation`,
    };
  }
  const groups = [...new Set((v.asg as string[] | undefined) ?? [])];
  if (groups.some((g) => g === "")) return { ok: false, message: "--asg needs a group name" };
  return {
    ok: true,
    args: {
      cluster: text("cluster-name") ?? "",
      region: text("region") ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION || ""),
      rebalance: v.rebalance === true,
      deadLetterQueue: v.dlq === true,
      groups,
      managedTag,
      heartbeatTimeoutSeconds: timeout,
      dryRun: v["dry-run"] === true,
      output: output === "cloudformation" ? "cloudformation" : "plan",
      help: parsed.help,
    },
  };
}

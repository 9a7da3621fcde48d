/**
 * Command-line arguments of `nthd setup` and `nthd teardown`. Pure: returns
 * the options or a usage message naming the bad flag.
 */
import { DEFAULT_MANAGED_TAG, validateClusterName } from "./names.ts";
import type { SetupOptions } from "./state.ts";

export interface SetupArgs extends SetupOptions {
  readonly region: string;
  readonly dryRun: boolean;
  readonly output: "plan" | "cloudformation";
  readonly help: boolean;
}

export const SETUP_USAGE = `Usage: nthd setup --cluster-name NAME [options]
       nthd teardown --cluster-name NAME [--region R] [--dry-run]

Creates or updates, idempotently, what queue mode needs in AWS: the queue
<NAME with dots as dashes>-nth, its policy, EventBridge rules <NAME>-<Event>,
and optionally lifecycle hooks and the managed tag on Auto Scaling groups.
Teardown removes only what carries the tag nthd.io/cluster=<NAME>.

Options:
  --cluster-name NAME        cluster name (names the queue and the rules)
  --region R                 AWS region (default: AWS_REGION, AWS_DEFAULT_REGION)
  --rebalance                also route rebalance recommendations
  --dlq                      add a dead-letter queue <queue>-dlq with a redrive policy
  --asg NAME                 Auto Scaling group to get the terminate hook and the managed tag (repeatable)
  --managed-tag KEY          tag key put on those groups (default ${DEFAULT_MANAGED_TAG})
  --heartbeat-timeout SECS   lifecycle hook heartbeat timeout, 30..7200 (default 300)
  --dry-run                  print the plan, change nothing
  --output cloudformation    print an equivalent CloudFormation template (no AWS calls)
  --help

Endpoint for tests: AWS_ENDPOINT or AWS_ENDPOINT_URL.
`;

export type ParsedArgs = { ok: true; args: SetupArgs } | { ok: false; message: string };

type Env = Readonly<Record<string, string | undefined>>;

export function parseSetupArgs(argv: readonly string[], env: Env, teardown = false): ParsedArgs {
  let cluster: string | undefined;
  let region = env.AWS_REGION || env.AWS_DEFAULT_REGION || "";
  let rebalance = false;
  let deadLetterQueue = false;
  const groups: string[] = [];
  let managedTag = DEFAULT_MANAGED_TAG;
  let heartbeatTimeoutSeconds = 300;
  let dryRun = false;
  let output: SetupArgs["output"] = "plan";
  let help = false;
  const setupOnly = new Set([
    "--rebalance",
    "--dlq",
    "--asg",
    "--managed-tag",
    "--heartbeat-timeout",
    "--output",
  ]);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.indexOf("=");
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const value = (): string | undefined => (eq !== -1 ? arg.slice(eq + 1) : argv[++i]);
    if (teardown && setupOnly.has(flag)) return { ok: false, message: `${flag} is a setup flag` };
    switch (flag) {
      case "--cluster-name":
        cluster = value();
        break;
      case "--region":
        region = value() ?? "";
        break;
      case "--rebalance":
        rebalance = true;
        break;
      case "--dlq":
        deadLetterQueue = true;
        break;
      case "--asg": {
        const g = value();
        if (!g) return { ok: false, message: "--asg needs a group name" };
        if (!groups.includes(g)) groups.push(g);
        break;
      }
      case "--managed-tag":
        managedTag = value() ?? "";
        if (managedTag === "") return { ok: false, message: "--managed-tag needs a tag key" };
        break;
      case "--heartbeat-timeout": {
        const raw = value() ?? "";
        const n = Number(raw);
        // AWS accepts 30..7200 seconds for a hook's heartbeat timeout.
        if (!/^\d+$/.test(raw) || n < 30 || n > 7200) {
          return {
            ok: false,
            message: `--heartbeat-timeout ${JSON.stringify(raw)}: use an integer 30..7200`,
          };
        }
        heartbeatTimeoutSeconds = n;
        break;
      }
      case "--dry-run":
        dryRun = true;
        break;
      case "--output": {
        const o = value();
        if (o !== "cloudformation") {
          return {
            ok: false,
            message: `--output ${JSON.stringify(o ?? "")}: the only format is cloudformation`,
          };
        }
        output = "cloudformation";
        break;
      }
      case "--help":
      case "-h":
        help = true;
        break;
      default:
        return { ok: false, message: `unknown argument ${arg}` };
    }
  }
  const parsed = (clusterName: string): ParsedArgs => ({
    ok: true,
    args: {
      cluster: clusterName,
      region,
      rebalance,
      deadLetterQueue,
      groups,
      managedTag,
      heartbeatTimeoutSeconds,
      dryRun,
      output,
      help,
    },
  });
  // --help needs no cluster name: it only prints the usage.
  if (help) return parsed("");
  if (cluster === undefined || cluster === "")
    return { ok: false, message: "--cluster-name is required" };
  try {
    validateClusterName(cluster);
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
  if (region === "" && output !== "cloudformation") {
    return { ok: false, message: "no region: pass --region or set AWS_REGION" };
  }
  return parsed(cluster);
}

import { NthdError } from "../errors.ts";
import { type Config, type Mode, SETTINGS, type SettingKey } from "./settings.ts";
import type { SettingSpec } from "./types.ts";

export interface LoadedConfig {
  readonly config: Config;
  /** Resolved mode (explicit --mode, or derived from ENABLE_SQS_TERMINATION_DRAINING). */
  readonly mode: Mode;
  /** Positional arguments left after the flags (subcommand arguments). */
  readonly positionals: readonly string[];
  /** Deprecated names that were used, so start-up can warn about them. */
  readonly deprecatedUsed: readonly string[];
}

type Env = Readonly<Record<string, string | undefined>>;

const KEYS = Object.keys(SETTINGS) as SettingKey[];
const FLAG_TO_KEY = new Map<string, SettingKey>();
for (const key of KEYS) {
  const spec: SettingSpec = SETTINGS[key];
  FLAG_TO_KEY.set(spec.flag, key);
  for (const alias of spec.deprecatedFlags ?? []) FLAG_TO_KEY.set(alias, key);
}

function fail(message: string): never {
  throw new NthdError("CONFIG_INVALID", message);
}

/** Splits `--flag=value`, `--flag value` and bare boolean `--flag`. */
function readFlags(argv: readonly string[]) {
  const flags = new Map<string, { name: string; value: string }>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("--")) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const key = FLAG_TO_KEY.get(name);
    if (key === undefined) throw new NthdError("USAGE", `unknown flag --${name} (see --help)`);
    let value: string;
    if (eq !== -1) value = arg.slice(eq + 1);
    else if (SETTINGS[key].allowed === "true|false" && !isValueNext(argv[i + 1])) value = "true";
    else if (argv[i + 1] !== undefined) value = argv[++i] as string;
    else throw new NthdError("USAGE", `flag --${name} needs a value (${SETTINGS[key].allowed})`);
    const main = SETTINGS[key].flag;
    // A deprecated alias never overrides the main flag.
    if (name !== main && flags.has(main)) continue;
    flags.set(main, { name, value });
  }
  return { flags, positionals };
}

function isValueNext(next: string | undefined): boolean {
  return next !== undefined && /^(true|false|1|0|t|f|yes|no|on|off)$/i.test(next);
}

/**
 * Resolves every setting: flag, then environment (preferred name, then
 * aliases), then default. An empty string counts as unset, as in NTH.
 * Throws NthdError CONFIG_INVALID naming the setting, the value and what is allowed.
 */
export function loadConfig(argv: readonly string[], env: Env): LoadedConfig {
  const { flags, positionals } = readFlags(argv);
  const config: Record<string, unknown> = {};
  const deprecatedUsed: string[] = [];
  for (const key of KEYS) {
    const spec: SettingSpec = SETTINGS[key];
    let raw: string | undefined;
    let origin = "";
    const flag = flags.get(spec.flag);
    if (flag !== undefined && flag.value !== "") {
      raw = flag.value;
      origin = `--${flag.name}`;
      if (flag.name !== spec.flag) deprecatedUsed.push(origin);
    } else {
      for (const [index, name] of spec.env.entries()) {
        const value = env[name];
        if (value !== undefined && value !== "") {
          raw = value;
          origin = name;
          if (index > 0) deprecatedUsed.push(name);
          break;
        }
      }
    }
    if (raw === undefined) {
      config[key] = spec.default;
      continue;
    }
    const parsed = spec.parse(raw);
    if (!parsed.ok) fail(`invalid setting ${origin}=${JSON.stringify(raw)}: ${parsed.message}`);
    config[key] = parsed.value;
  }
  const typed = config as Config;
  const mode: Mode = typed.mode ?? (typed.enableSqsTerminationDraining ? "queue" : "imds");
  validateTogether(typed, mode);
  return { config: typed, mode, positionals, deprecatedUsed };
}

/** Rules that involve more than one setting. */
function validateTogether(c: Config, mode: Mode): void {
  if (mode === "imds" && c.nodeName === "") {
    fail(
      'invalid setting NODE_NAME="": required in IMDS mode (set it from the downward API spec.nodeName)',
    );
  }
  if (mode === "queue") {
    if (c.queueUrl === "") fail('invalid setting QUEUE_URL="": required in queue mode');
    if (c.sqsMsgVisibilityTimeoutSeconds > 119) {
      fail(
        `invalid setting SQS_MSG_VISIBILITY_TIMEOUT_SEC=${c.sqsMsgVisibilityTimeoutSeconds}: expected a whole number from 1 to 119`,
      );
    }
  }
  const interval = c.heartbeatIntervalSeconds;
  const until = c.heartbeatUntilSeconds;
  if (interval !== -1 && (interval < 30 || interval > 3600)) {
    fail(
      `invalid setting HEARTBEAT_INTERVAL=${interval}: expected -1 or a whole number from 30 to 3600`,
    );
  }
  if (until !== -1 && until < 60) {
    fail(
      `invalid setting HEARTBEAT_UNTIL=${until}: expected -1 or a whole number from 60 to 172800`,
    );
  }
  if ((interval !== -1 || until !== -1) && mode !== "queue") {
    fail("invalid setting HEARTBEAT_INTERVAL/HEARTBEAT_UNTIL: heartbeats apply to queue mode only");
  }
  if (until !== -1 && interval === -1) {
    fail(`invalid setting HEARTBEAT_UNTIL=${until}: needs HEARTBEAT_INTERVAL as well`);
  }
  if (interval !== -1 && until === -1) c.heartbeatUntilSeconds = 172800;
  if (interval !== -1 && interval > c.heartbeatUntilSeconds) {
    fail(
      `invalid setting HEARTBEAT_INTERVAL=${interval}: must not exceed HEARTBEAT_UNTIL=${c.heartbeatUntilSeconds}`,
    );
  }
  if (c.enableRebalanceDraining) c.enableRebalanceMonitoring = true;
}

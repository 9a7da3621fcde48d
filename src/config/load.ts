import { NthdError } from "../errors.ts";
import { allowedText } from "./help.ts";
import { bool } from "./parse-values.ts";
import { CHECKS, type Config, modeOf, SETTINGS, type SettingKey } from "./settings.ts";
import type { AnySetting, Mode } from "./types.ts";

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
  const spec: AnySetting = SETTINGS[key];
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
    const spec: AnySetting = SETTINGS[key];
    let value: string;
    if (eq !== -1) value = arg.slice(eq + 1);
    else if (spec.parse === bool && !isValueNext(argv[i + 1])) value = "true";
    else if (argv[i + 1] !== undefined) value = argv[++i] as string;
    else throw new NthdError("USAGE", `flag --${name} needs a value (${allowedText(spec)})`);
    // A deprecated alias never overrides the main flag.
    if (name !== spec.flag && flags.has(spec.flag)) continue;
    flags.set(spec.flag, { name, value });
  }
  return { flags, positionals };
}

function isValueNext(next: string | undefined): boolean {
  return next !== undefined && /^(true|false|1|0|t|f|yes|no|on|off)$/i.test(next);
}

/** Where a given setting's value came from: the flag or variable used, and the raw text. */
interface Given {
  readonly origin: string;
  readonly raw: string;
}

/**
 * Resolves every setting: flag, then environment (preferred name, then
 * aliases), then default. An empty string counts as unset, as in NTH.
 * Throws NthdError CONFIG_INVALID naming the setting, the value and what is allowed.
 */
export function loadConfig(
  argv: readonly string[],
  env: Env,
  /** false for operator commands that read the drain settings but run no mode (`nthd audit`). */
  opts: { modeRules?: boolean } = {},
): LoadedConfig {
  const { flags, positionals } = readFlags(argv);
  const config: Record<string, unknown> = {};
  const given = new Map<SettingKey, Given>();
  const deprecatedUsed: string[] = [];
  for (const key of KEYS) {
    const spec: AnySetting = SETTINGS[key];
    const isSet = (v: string | undefined): v is string =>
      v !== undefined && v !== "" && v.trim() !== spec.unsetValue;
    let found: Given | undefined;
    const flag = flags.get(spec.flag);
    if (isSet(flag?.value)) {
      found = { origin: `--${flag.name}`, raw: flag.value };
      if (flag.name !== spec.flag) deprecatedUsed.push(found.origin);
    } else {
      for (const [index, name] of spec.env.entries()) {
        const value = env[name];
        if (isSet(value)) {
          found = { origin: name, raw: value };
          if (index > 0) deprecatedUsed.push(name);
          break;
        }
      }
    }
    if (found === undefined) {
      config[key] = spec.default;
      continue;
    }
    const parsed = spec.parse(found.raw);
    if (!parsed.ok) fail(`${describe(found)}: ${parsed.message}`);
    config[key] = parsed.value;
    given.set(key, found);
  }
  const typed = config as Config;
  const mode = modeOf(typed);
  checkTogether(typed, mode, given, opts.modeRules ?? true);
  return { config: typed, mode, positionals, deprecatedUsed };
}

function describe({ origin, raw }: Given): string {
  return `invalid setting ${origin}=${JSON.stringify(raw)}`;
}

/** The table's mode rules (`requiredIn`, `onlyIn`), then its cross-setting CHECKS. */
function checkTogether(
  config: Config,
  mode: Mode,
  given: ReadonlyMap<SettingKey, Given>,
  modeRules: boolean,
): void {
  const named = (key: SettingKey): Given =>
    given.get(key) ?? { origin: SETTINGS[key].env[0] as string, raw: "" };
  for (const key of modeRules ? KEYS : []) {
    const spec: AnySetting = SETTINGS[key];
    const value = config[key];
    if (spec.requiredIn === mode && (value === "" || value === undefined)) {
      fail(`${describe(named(key))}: required in ${mode} mode`);
    }
    const inert = value === spec.default || (spec.inert ?? []).includes(value);
    if (spec.onlyIn !== undefined && spec.onlyIn !== mode && !inert) {
      fail(`${describe(named(key))}: applies to ${spec.onlyIn} mode only`);
    }
  }
  const input = { config, mode, given: new Set(given.keys()) };
  for (const check of CHECKS) {
    if (!check.holds(input)) fail(`${describe(named(check.setting))}: ${check.rule}`);
  }
}

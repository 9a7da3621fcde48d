import { NthdError } from "../errors.ts";
import { type CommandLineSpec, parseCommandLine } from "./argv.ts";
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
  /** --help (or -h) was among the flags. */
  readonly help: boolean;
}

type Env = Readonly<Record<string, string | undefined>>;

const KEYS = Object.keys(SETTINGS) as SettingKey[];

function fail(message: string): never {
  throw new NthdError("CONFIG_INVALID", message);
}

/** The daemon's command line, read by the one parser every command uses (argv.ts). */
const DAEMON_LINE: CommandLineSpec = {
  name: "nthd",
  synopsis: ["nthd [flags]"],
  description: "",
  exitCodes: { 0: "", 1: "", 2: "" },
  allowPositionals: true,
  options: Object.fromEntries(
    KEYS.map((key) => {
      const spec: AnySetting = SETTINGS[key];
      return [
        spec.flag,
        {
          type: spec.parse === bool ? "boolean" : "string",
          help: spec.description,
          ...(spec.deprecatedFlags ? { aliases: spec.deprecatedFlags } : {}),
        },
      ] as const;
    }),
  ),
};

/** Flag values as raw strings by flag name (booleans as "true"/"false"), and the rest. */
function readFlags(argv: readonly string[]) {
  const parsed = parseCommandLine(DAEMON_LINE, argv);
  if (!parsed.ok) {
    const bad = parsed.badBoolean;
    if (bad)
      fail(`invalid setting --${bad.option}=${JSON.stringify(bad.value)}: expected true or false`);
    throw new NthdError("USAGE", parsed.message);
  }
  const flags = new Map<string, { name: string; value: string }>();
  const aliasUsed = new Map(
    parsed.aliasesUsed.map((alias) => {
      const key = KEYS.find((k) => SETTINGS[k].deprecatedFlags?.includes(alias.slice(2)));
      return [key === undefined ? "" : SETTINGS[key].flag, alias.slice(2)] as const;
    }),
  );
  for (const [flag, value] of Object.entries(parsed.values)) {
    if (value === undefined || Array.isArray(value)) continue;
    flags.set(flag, { name: aliasUsed.get(flag) ?? flag, value: String(value) });
  }
  return { flags, positionals: parsed.positionals, help: parsed.help };
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
  const { flags, positionals, help } = readFlags(argv);
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
  return { config: typed, mode, positionals, deprecatedUsed, help };
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

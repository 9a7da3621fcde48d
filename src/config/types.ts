import type { ValueParser } from "./parse-values.ts";

export const MODES = ["imds", "queue"] as const;
export type Mode = (typeof MODES)[number];

/** Where a setting matters; used to group `--help` and the docs reference. */
export type SettingGroup = "general" | "drain" | "imds" | "queue" | "observe" | "webhook";

/**
 * One setting: its names (flag and environment variables), the parser that
 * turns the raw string into its value, its default, the modes it belongs to
 * and its description. `--help`, the docs and start-up validation all read it.
 */
export interface SettingSpec<T> {
  /** Command-line flag without the leading dashes. */
  readonly flag: string;
  /** Environment variables, preferred first; later ones are accepted aliases. */
  readonly env: readonly string[];
  /** Deprecated flags accepted as aliases (used only when the main one is unset). */
  readonly deprecatedFlags?: readonly string[];
  /** Parses and range-checks a raw value; its `accepts` is the allowed text in help and docs. */
  readonly parse: ValueParser<T>;
  /** Used when the setting is unset; checked against the parser's type. */
  readonly default: NoInfer<T>;
  /**
   * Shown instead of the parser's description where that says too little
   * (free text: "path", "host"). Only for the `text` parser.
   */
  readonly hint?: string;
  /** A raw value that counts as unset, like the empty string (NTH's -1 sentinels). */
  readonly unsetValue?: string;
  /** Start-up fails when the setting is empty in this mode. */
  readonly requiredIn?: Mode;
  /** Start-up fails when the setting is given a non-default value in any other mode. */
  readonly onlyIn?: Mode;
  /** Values that switch the setting off, accepted in any mode (NTH's -1 in both modes' charts). */
  readonly inert?: readonly NoInfer<T>[];
  readonly group: SettingGroup;
  readonly description: string;
}

/** A setting of any value type, for code that walks the table. */
export type AnySetting = SettingSpec<unknown>;

/** What a cross-setting check sees: the values, the mode and which settings were given. */
export interface CheckInput<C> {
  readonly config: Readonly<C>;
  readonly mode: Mode;
  /** Settings set by a flag or the environment (not left to their default). */
  readonly given: ReadonlySet<keyof C>;
}

/**
 * A rule between settings. When `holds` is false start-up fails with
 * "invalid setting <name>=<value>: <rule>", naming `setting`.
 */
export interface Check<C> {
  readonly setting: keyof C & string;
  /** What is required, in words; also listed in docs/configuration.md. */
  readonly rule: string;
  readonly holds: (input: CheckInput<C>) => boolean;
}

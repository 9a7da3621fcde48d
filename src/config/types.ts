import type { ValueParser } from "./parse-values.ts";

/** Where a setting matters; used to group `--help` and the docs reference. */
export type SettingGroup = "general" | "drain" | "imds" | "queue" | "observe" | "webhook";

/**
 * One setting: its names (flag and environment variables), the parser that
 * turns the raw string into its value, its default and its description.
 */
export interface SettingSpec<T = unknown> {
  /** Command-line flag without the leading dashes. */
  readonly flag: string;
  /** Environment variables, preferred first; later ones are accepted aliases. */
  readonly env: readonly string[];
  /** Deprecated flags accepted as aliases (used only when the main one is unset). */
  readonly deprecatedFlags?: readonly string[];
  readonly parse: ValueParser<T>;
  readonly default: T;
  /** What `--help` shows for the allowed values, e.g. "integer 1..119". */
  readonly allowed: string;
  readonly group: SettingGroup;
  readonly description: string;
}

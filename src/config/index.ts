// The public entry of configuration: everything outside src/config/ imports from here.
export {
  type CommandLineSpec,
  closest,
  type OptionSpec,
  type ParsedLine,
  parseCommandLine,
  usageError,
  usageText,
} from "./argv.ts";
export { allowedText, configurationReference, helpText } from "./help.ts";
export { type LoadedConfig, loadConfig } from "./load.ts";
export {
  CHECKS,
  type Config,
  LOG_LEVELS,
  modeOf,
  SETTINGS,
  type SettingKey,
  TAINT_EFFECTS,
} from "./settings.ts";
export { type AnySetting, type Check, MODES, type Mode, type SettingSpec } from "./types.ts";

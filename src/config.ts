export { configurationReference, helpText } from "./config/help.ts";
export { type LoadedConfig, loadConfig } from "./config/load.ts";
export { type Config, type Mode, SETTINGS, type SettingKey } from "./config/settings.ts";

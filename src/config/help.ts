import { CHECKS, SETTINGS, type SettingKey } from "./settings.ts";
import type { AnySetting, Mode, SettingGroup } from "./types.ts";

const GROUP_TITLES: Record<SettingGroup, string> = {
  general: "General",
  drain: "Cordon and drain",
  imds: "IMDS mode",
  queue: "Queue mode",
  observe: "Observability",
  webhook: "Webhook",
};

const MODE_TITLES: Record<Mode, string> = { imds: "IMDS mode", queue: "queue mode" };

/** What help, docs and errors show as allowed: the parser's own description, or the hint. */
export function allowedText(spec: AnySetting): string {
  const accepts = spec.hint ?? spec.parse.accepts;
  return spec.unsetValue === undefined ? accepts : `${accepts} (${spec.unsetValue}: default)`;
}

/** The description followed by the table's mode rules, so they are written once. */
function meaning(spec: AnySetting): string {
  const notes = [spec.description];
  if (spec.requiredIn) notes.push(`Required in ${MODE_TITLES[spec.requiredIn]}.`);
  if (spec.onlyIn) notes.push(`${capitalized(MODE_TITLES[spec.onlyIn])} only.`);
  return notes.join(" ");
}

const capitalized = (text: string) => `${text.charAt(0).toUpperCase()}${text.slice(1)}`;

function formatDefault(value: unknown): string {
  if (value === undefined) return "unset";
  if (typeof value === "string") return value === "" ? '""' : value;
  return JSON.stringify(value);
}

function settingsIn(group: SettingGroup): AnySetting[] {
  return (Object.keys(SETTINGS) as SettingKey[])
    .map((key): AnySetting => SETTINGS[key])
    .filter((spec) => spec.group === group);
}

function settingName(key: SettingKey): string {
  return SETTINGS[key].env[0] as string;
}

/**
 * `--help` text, generated from the settings table; the command list and the
 * exit codes come from the caller (src/commands/ owns them).
 */
export function helpText(version: string, commands = "", exitCodes = ""): string {
  const lines = [
    `nthd ${version}: cordons and drains Kubernetes nodes before AWS takes their instances away.`,
    "",
    "Usage: nthd [--mode imds|queue] [flags]   run the handler",
    "       nthd COMMAND [options]            run an operator command",
    "       nthd help [COMMAND]               this overview, or a command's usage",
    "       nthd --version",
  ];
  if (commands) lines.push("", "Commands:", commands);
  if (exitCodes) lines.push("", exitCodes);
  lines.push(
    "",
    "Handler flags. Each can also be set by the environment variable shown (flag wins).",
  );
  for (const group of Object.keys(GROUP_TITLES) as SettingGroup[]) {
    lines.push("", `${GROUP_TITLES[group]}:`);
    for (const spec of settingsIn(group)) {
      const old = spec.deprecatedFlags ?? [];
      const deprecated =
        old.length > 0 ? `  (deprecated: ${old.map((f) => `--${f}`).join(", ")})` : "";
      lines.push(
        `  --${spec.flag} <${allowedText(spec)}>  [${spec.env.join(", ")}]  default ${formatDefault(spec.default)}${deprecated}`,
      );
      lines.push(`      ${meaning(spec)}`);
    }
  }
  lines.push("", "Rules between settings:");
  for (const check of CHECKS) lines.push(`  ${settingName(check.setting)} ${check.rule}.`);
  return `${lines.join("\n")}\n`;
}

/** docs/configuration.md, generated from the same table. */
export function configurationReference(): string {
  const cell = (text: string) => text.replaceAll("|", "\\|");
  const lines = [
    "# Configuration reference",
    "",
    "Generated from `src/config/settings.ts` by `npm run docs:config`; do not edit by hand.",
    "Precedence: command-line flag, then environment variable (first name listed, then its aliases), then default. An empty value counts as unset.",
  ];
  for (const group of Object.keys(GROUP_TITLES) as SettingGroup[]) {
    lines.push(
      "",
      `## ${GROUP_TITLES[group]}`,
      "",
      "| flag | environment | allowed | default | meaning |",
      "|---|---|---|---|---|",
    );
    for (const spec of settingsIn(group)) {
      const envs = spec.env.map((e) => `\`${e}\``).join(", ");
      const flags = [spec.flag, ...(spec.deprecatedFlags ?? [])]
        .map((f) => `\`--${f}\``)
        .join(", ");
      lines.push(
        `| ${flags} | ${envs} | ${cell(allowedText(spec))} | \`${cell(formatDefault(spec.default))}\` | ${meaning(spec)} |`,
      );
    }
  }
  lines.push("", "## Rules between settings", "");
  for (const check of CHECKS) lines.push(`- \`${settingName(check.setting)}\` ${check.rule}.`);
  return `${lines.join("\n")}\n`;
}

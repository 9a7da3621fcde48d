import { SETTINGS, type SettingKey } from "./settings.ts";
import type { SettingGroup, SettingSpec } from "./types.ts";

const GROUP_TITLES: Record<SettingGroup, string> = {
  general: "General",
  drain: "Cordon and drain",
  imds: "IMDS mode",
  queue: "Queue mode",
  observe: "Observability",
  webhook: "Webhook",
};

function formatDefault(value: unknown): string {
  if (value === undefined) return "unset";
  if (typeof value === "string") return value === "" ? '""' : value;
  return JSON.stringify(value);
}

/** `--help` text, generated from the settings table. */
export function helpText(version: string): string {
  const lines = [
    `nthd ${version}: cordons and drains Kubernetes nodes before AWS takes their instances away.`,
    "",
    "Usage: nthd [--mode imds|queue] [flags]",
    "       nthd --help | --version",
    "",
    "Every flag can also be set by the environment variable shown (flag wins).",
  ];
  for (const group of Object.keys(GROUP_TITLES) as SettingGroup[]) {
    lines.push("", `${GROUP_TITLES[group]}:`);
    for (const key of Object.keys(SETTINGS) as SettingKey[]) {
      const spec: SettingSpec = SETTINGS[key];
      if (spec.group !== group) continue;
      lines.push(
        `  --${spec.flag} <${spec.allowed}>  [${spec.env.join(", ")}]  default ${formatDefault(spec.default)}`,
      );
      lines.push(`      ${spec.description}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

/** docs/configuration.md, generated from the same table. */
export function configurationReference(): string {
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
    for (const key of Object.keys(SETTINGS) as SettingKey[]) {
      const spec: SettingSpec = SETTINGS[key];
      if (spec.group !== group) continue;
      const envs = spec.env.map((e) => `\`${e}\``).join(", ");
      const flags = [spec.flag, ...(spec.deprecatedFlags ?? [])]
        .map((f) => `\`--${f}\``)
        .join(", ");
      const def = formatDefault(spec.default).replaceAll("|", "\\|");
      lines.push(
        `| ${flags} | ${envs} | ${spec.allowed.replaceAll("|", "\\|")} | \`${def}\` | ${spec.description} |`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}

/**
 * What the first argument of `nthd` means: a subcommand, `help`, an unknown
 * word (a typo: exit 2 with the list and the nearest command), or the
 * daemon's flags. Pure, so it is unit tested without running anything.
 */
import { closest } from "../config/index.ts";
import { COMMANDS } from "./index.ts";

/** The exit codes every nthd command uses; --help and docs/commands.md list them. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export type Dispatch =
  | { readonly kind: "command"; readonly name: string; readonly args: readonly string[] }
  /** `nthd help`, `nthd --help`: the overview. */
  | { readonly kind: "overview" }
  | { readonly kind: "version" }
  | { readonly kind: "unknown"; readonly word: string; readonly suggestion?: string }
  /** No subcommand: run the handler with these flags. */
  | { readonly kind: "daemon"; readonly args: readonly string[] };

export function dispatch(argv: readonly string[]): Dispatch {
  const [first, ...rest] = argv;
  if (first === undefined) return { kind: "daemon", args: [] };
  if (first === "help") {
    const topic = rest[0];
    if (topic === undefined || topic === "help") return { kind: "overview" };
    if (COMMANDS[topic] !== undefined) return { kind: "command", name: topic, args: ["--help"] };
    return unknown(topic);
  }
  if (COMMANDS[first] !== undefined) return { kind: "command", name: first, args: rest };
  if (first === "--help" || first === "-h") return { kind: "overview" };
  if (first === "--version" || first === "version") return { kind: "version" };
  // The daemon takes no arguments but flags, so a bare word is a command name.
  if (!first.startsWith("-")) return unknown(first);
  return { kind: "daemon", args: argv };
}

function unknown(word: string): Dispatch {
  const suggestion = closest(word, [...Object.keys(COMMANDS), "help"]);
  return { kind: "unknown", word, ...(suggestion ? { suggestion } : {}) };
}

export function commandList(): string {
  const names = [...Object.keys(COMMANDS), "help"];
  const width = Math.max(...names.map((n) => n.length)) + 2;
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`);
  lines.push(`  ${"help".padEnd(width)}help [command]: this overview, or a command's usage`);
  return lines.join("\n");
}

export function unknownCommandText(d: { word: string; suggestion?: string }): string {
  const hint = d.suggestion ? ` Did you mean '${d.suggestion}'?` : "";
  return `nthd: unknown command '${d.word}'.${hint}\n\nCommands:\n${commandList()}\n\nRun 'nthd help' for the handler's flags.\n`;
}

export const EXIT_CODES_TEXT = `Exit status:
  0  done (the handler: stopped by SIGTERM or SIGINT)
  1  failed at run time (a check or an AWS or Kubernetes call failed)
  2  bad usage or configuration (unknown command or option, invalid setting)`;

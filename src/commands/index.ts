/**
 * Subcommands other than the daemon itself. Each is imported only when used,
 * so the daemon never loads their code. A command returns its exit code.
 */
export type Command = (args: readonly string[]) => Promise<number>;

export const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  explain: async () => (await import("./explain/command.ts")).explainCommand,
  select: async () => (await import("./select/command.ts")).selectCommand,
  setup: async () => (await import("./setup/command.ts")).setupCommand,
  teardown: async () => (await import("./setup/command.ts")).teardownCommand,
  doctor: async () => (await import("./doctor/command.ts")).doctorCommand,
  audit: async () => (await import("./audit/command.ts")).auditCommand,
};

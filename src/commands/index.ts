/**
 * Subcommands other than the daemon itself. Each is imported only when used,
 * so the daemon never loads their code. A command returns its exit code;
 * `summary` is its line in `nthd --help` and `nthd help`.
 */
export type Command = (args: readonly string[]) => Promise<number>;

export interface CommandEntry {
  readonly summary: string;
  readonly load: () => Promise<Command>;
}

export const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  explain: {
    summary: "say what nthd would do with an SQS message or metadata body (offline)",
    load: async () => (await import("./explain/command.ts")).explainCommand,
  },
  select: {
    summary: "choose diversified Spot instance types and print instance groups",
    load: async () => (await import("./select/command.ts")).selectCommand,
  },
  setup: {
    summary: "create the queue, rules and hooks queue mode needs in AWS",
    load: async () => (await import("./setup/command.ts")).setupCommand,
  },
  teardown: {
    summary: "remove what setup created for a cluster",
    load: async () => (await import("./setup/command.ts")).teardownCommand,
  },
  doctor: {
    summary: "check a deployment end to end with nthd's own configuration",
    load: async () => (await import("./doctor/command.ts")).doctorCommand,
  },
  audit: {
    summary: "find the nodes that would not drain within a notice, before it comes",
    load: async () => (await import("./audit/command.ts")).auditCommand,
  },
};

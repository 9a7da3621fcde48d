#!/usr/bin/env node
import { COMMANDS } from "./commands/index.ts";
import { helpText, type LoadedConfig, loadConfig } from "./config/index.ts";
import { errorMessage, isNthdError } from "./errors.ts";
import { VERSION } from "./version.ts";

/** Exit codes: 0 done, 1 runtime failure, 2 bad usage or configuration. */
const EXIT_USAGE = 2;

async function main(argv: readonly string[]): Promise<number> {
  const subcommand = argv[0] !== undefined ? COMMANDS[argv[0]] : undefined;
  if (subcommand !== undefined) return (await subcommand())(argv.slice(1));
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(helpText(VERSION));
    return 0;
  }
  if (argv.includes("--version")) {
    process.stdout.write(`nthd ${VERSION}\n`);
    return 0;
  }
  let loaded: LoadedConfig;
  try {
    loaded = loadConfig(argv, process.env);
  } catch (err) {
    if (isNthdError(err, "CONFIG_INVALID") || isNthdError(err, "USAGE")) {
      process.stderr.write(`nthd: ${err.message}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
  const { runDaemon } = await import("./daemon.ts");
  return runDaemon(loaded);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`nthd: fatal: ${errorMessage(err)}\n`);
    process.exitCode = 1;
  },
);

#!/usr/bin/env node
import {
  commandList,
  dispatch,
  EXIT,
  EXIT_CODES_TEXT,
  unknownCommandText,
} from "./commands/dispatch.ts";
import { COMMANDS } from "./commands/index.ts";
import { helpText, type LoadedConfig, loadConfig } from "./config/index.ts";
import { errorMessage, isNthdError } from "./errors.ts";
import { VERSION } from "./version.ts";

async function main(argv: readonly string[]): Promise<number> {
  const d = dispatch(argv);
  switch (d.kind) {
    case "command":
      return (await (COMMANDS[d.name] as (typeof COMMANDS)[string]).load())(d.args);
    case "overview":
      process.stdout.write(helpText(VERSION, commandList(), EXIT_CODES_TEXT));
      return EXIT.ok;
    case "version":
      process.stdout.write(`nthd ${VERSION}\n`);
      return EXIT.ok;
    case "unknown":
      process.stderr.write(unknownCommandText(d));
      return EXIT.usage;
    case "daemon":
      return runHandler(d.args);
    default: {
      const unhandled: never = d;
      return unhandled;
    }
  }
}

async function runHandler(args: readonly string[]): Promise<number> {
  let loaded: LoadedConfig;
  try {
    loaded = loadConfig(args, process.env);
  } catch (err) {
    if (isNthdError(err, "USAGE")) {
      process.stderr.write(`nthd: ${err.message}\nTry 'nthd help' for the handler's flags.\n`);
      return EXIT.usage;
    }
    if (isNthdError(err, "CONFIG_INVALID")) {
      process.stderr.write(`nthd: ${err.message}\n`);
      return EXIT.usage;
    }
    throw err;
  }
  if (loaded.help) {
    process.stdout.write(helpText(VERSION, commandList(), EXIT_CODES_TEXT));
    return EXIT.ok;
  }
  if (loaded.positionals.length > 0) {
    process.stderr.write(`nthd: unexpected argument '${loaded.positionals[0]}' (see nthd help)\n`);
    return EXIT.usage;
  }
  if (loaded.mode === "imds") (await import("./modes/node-flags.ts")).applyImdsNodeFlags();
  const { runDaemon } = await import("./daemon.ts");
  return runDaemon(loaded);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`nthd: fatal: ${errorMessage(err)}\n`);
    process.exitCode = EXIT.failed;
  },
);

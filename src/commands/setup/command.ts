/**
 * `nthd setup` and `nthd teardown`. Exit codes: 0 done (or nothing to do),
 * 1 AWS refused or failed (the message names the IAM action when it was a
 * permission), 2 bad usage.
 */

import { usageError, usageText } from "../../config/index.ts";
import { errorMessage, isNthdError } from "../../errors.ts";
import { parseSetupArgs, SETUP_LINE, type SetupArgs, TEARDOWN_LINE } from "./args.ts";
import { createSetupClients } from "./aws.ts";
import { cloudFormationTemplate } from "./cloudformation.ts";
import type { Action, Plan } from "./plan.ts";
import { runSetup, runTeardown } from "./run.ts";

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

export function setupCommand(argv: readonly string[]): Promise<number> {
  return run("setup", argv);
}

export function teardownCommand(argv: readonly string[]): Promise<number> {
  return run("teardown", argv);
}

async function run(name: "setup" | "teardown", argv: readonly string[]): Promise<number> {
  const line = name === "teardown" ? TEARDOWN_LINE : SETUP_LINE;
  const parsed = parseSetupArgs(argv, process.env, name === "teardown");
  if (!parsed.ok) {
    process.stderr.write(usageError(line, parsed.message));
    return EXIT_USAGE;
  }
  const args = parsed.args;
  if (args.help) {
    process.stdout.write(usageText(line));
    return EXIT_OK;
  }
  if (name === "setup" && args.output === "cloudformation") {
    process.stdout.write(`${JSON.stringify(cloudFormationTemplate(args), null, 2)}\n`);
    return EXIT_OK;
  }
  try {
    return await apply(name, args);
  } catch (err) {
    process.stderr.write(`nthd ${name}: ${errorMessage(err)}\n`);
    return isNthdError(err, "USAGE") || isNthdError(err, "CONFIG_INVALID")
      ? EXIT_USAGE
      : EXIT_FAILED;
  }
}

async function apply(name: "setup" | "teardown", args: SetupArgs): Promise<number> {
  const clients = createSetupClients({
    awsRegion: args.region,
    awsEndpoint: process.env.AWS_ENDPOINT ?? "",
  });
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(
    `nthd ${name}: cluster ${args.cluster}, region ${clients.region}${args.dryRun ? " (dry run: nothing is changed)" : ""}`,
  );
  const result =
    name === "setup"
      ? await runSetup(clients, args, args.dryRun)
      : await runTeardown(clients, args.cluster, args.dryRun);
  out(renderPlan(result.plan));
  if (result.plan.problems.length > 0) {
    for (const p of result.plan.problems) process.stderr.write(`nthd ${name}: ${p}\n`);
    process.stderr.write(`nthd ${name}: nothing was changed\n`);
    return EXIT_FAILED;
  }
  if (name === "setup" && !args.dryRun) {
    if (result.queueUrl !== undefined) {
      out(`\nReady: QUEUE_URL=${result.queueUrl} ENABLE_SQS_TERMINATION_DRAINING=true`);
    }
  }
  return EXIT_OK;
}

const OP_WIDTH = 7;

/** One line per action, then a count per operation. */
export function renderPlan(plan: Plan): string {
  const width = Math.max(0, ...plan.actions.map((a) => label(a).length));
  const lines = plan.actions.map(
    (a) => `  ${a.op.padEnd(OP_WIDTH)} ${label(a).padEnd(width)}  ${a.reason}`,
  );
  const count = (op: Action["op"]) => plan.actions.filter((a) => a.op === op).length;
  lines.push(
    `${count("create")} to create, ${count("update")} to update, ${count("delete")} to delete, ${count("leave")} unchanged`,
  );
  return lines.join("\n");
}

function label(a: Action): string {
  return `${a.type} ${a.name}`;
}

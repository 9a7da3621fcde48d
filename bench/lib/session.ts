// What every bench script does around its scenario: start the ground, create
// the handler's identity, find out which handlers can run here, and report.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { handlerList } from "./args.ts";
import { type BenchGround, withGround } from "./ground.ts";
import {
  HANDLERS,
  type HandlerContext,
  type HandlerName,
  NTH_VERSION,
  unavailableReason,
} from "./handlers.ts";
import { createHandlerIdentity } from "./identity.ts";
import { type MachineFacts, machineFacts, machineLine, writeResults } from "./results.ts";

export interface Session {
  readonly g: BenchGround;
  readonly ctx: HandlerContext;
  /** Handlers asked for that can run here, in the order asked. */
  readonly handlers: readonly HandlerName[];
  /** Handlers asked for that cannot run here, with the reason. */
  readonly skipped: Readonly<Record<string, string>>;
  readonly machine: MachineFacts;
}

export async function benchSession(
  name: string,
  values: Record<string, unknown>,
  body: (s: Session) => Promise<{ table: string; results: Record<string, unknown> }>,
): Promise<void> {
  const asked = handlerList(values, HANDLERS);
  const fromSource = Boolean(values.source);
  const beforeDir = typeof values.before === "string" ? values.before : undefined;
  const skipped: Record<string, string> = {};
  const handlers = asked.filter((h) => {
    const reason = unavailableReason(h, fromSource, beforeDir);
    if (reason !== undefined) skipped[h] = reason;
    return reason === undefined;
  });
  for (const [h, why] of Object.entries(skipped)) {
    process.stderr.write(`[bench] skipping ${h}: ${why}\n`);
  }
  await withGround(async (g) => {
    const logDir = mkdtempSync(join(tmpdir(), `nthd-bench-${name}-`));
    process.stderr.write(`[bench] process logs in ${logDir}\n`);
    const identity = await createHandlerIdentity(g, logDir);
    const machine = machineFacts(g.state.kubeVersion);
    const ctx: HandlerContext = { g, identity, logDir, fromSource, beforeDir };
    const { table, results } = await body({ g, ctx, handlers, skipped, machine });
    process.stdout.write(`\n## ${name}\n\n${table}\n\n`);
    process.stdout.write(`Machine: ${machineLine(machine)}\n`);
    process.stdout.write(
      `nthd ${machine.nthdVersion} (${fromSource ? "src/main.ts" : "dist/nthd.mjs"}), aws-node-termination-handler ${NTH_VERSION}\n`,
    );
    if (Object.keys(skipped).length > 0) {
      process.stdout.write(
        `Not run: ${Object.entries(skipped)
          .map(([h, w]) => `${h} (${w})`)
          .join("; ")}\n`,
      );
    }
    if (!values["no-write"]) {
      const path = writeResults(name, {
        machine,
        nthVersion: NTH_VERSION,
        nthdEntry: fromSource ? "src/main.ts" : "dist/nthd.mjs",
        options: values,
        skipped,
        ...results,
      });
      process.stdout.write(`Results: ${path}\n`);
    }
  });
}

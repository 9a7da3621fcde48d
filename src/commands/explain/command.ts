/**
 * `nthd explain`: read message bodies from files or stdin, print what nthd
 * would do with each. Exit 0 when every input was classified, 2 on a usage
 * error (bad flag, unreadable file). A malformed body is a classification
 * ("keep"), not a failure.
 */
import { open } from "node:fs/promises";
import { usageError, usageText } from "../../config/index.ts";
import { errorMessage } from "../../errors.ts";
import { MAX_BODY_BYTES } from "../../sources/queue/parse.ts";
import { EXPLAIN_LINE, type ExplainOptions, parseExplainArgs } from "./args.ts";
import { type Classification, classify } from "./classify.ts";

const EXIT_OK = 0;
const EXIT_USAGE = 2;

type Input =
  | { ok: true; body: string }
  | { ok: false; tooBig: number }
  | { ok: false; error: string };

export async function explainCommand(args: readonly string[]): Promise<number> {
  const parsed = parseExplainArgs(args);
  if (!parsed.ok) {
    process.stderr.write(usageError(EXPLAIN_LINE, parsed.message));
    return EXIT_USAGE;
  }
  const options = parsed.options;
  if (options.help) {
    process.stdout.write(usageText(EXPLAIN_LINE));
    return EXIT_OK;
  }
  let exit = EXIT_OK;
  for (const file of options.files) {
    const input = await readInput(file);
    if (!input.ok && "error" in input) {
      process.stderr.write(`nthd explain: cannot read ${file}: ${input.error}\n`);
      exit = EXIT_USAGE;
      continue;
    }
    const result: Classification = input.ok
      ? classify(options.source, input.body, {
          receivedAt: new Date(),
          instanceId: options.instanceId,
        })
      : tooBig(input.tooBig);
    process.stdout.write(render(file, options, result));
  }
  return exit;
}

/** Reads at most one byte past the limit: a huge file is reported, not loaded. */
async function readInput(file: string): Promise<Input> {
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    const stream =
      file === "-"
        ? process.stdin
        : (await open(file, "r")).createReadStream({ end: MAX_BODY_BYTES });
    for await (const chunk of stream) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      chunks.push(buf);
      total += buf.length;
      if (total > MAX_BODY_BYTES) {
        if (file !== "-") stream.destroy();
        return { ok: false, tooBig: total };
      }
    }
    return { ok: true, body: Buffer.concat(chunks).toString("utf8") };
  } catch (err) {
    return { ok: false, error: errorMessage(err) };
  }
}

function tooBig(bytes: number): Classification {
  return {
    disposition: "keep",
    kinds: [],
    instanceIds: [],
    action: null,
    deadline: null,
    reason: `input is more than ${MAX_BODY_BYTES} bytes (read ${bytes}), over the SQS message maximum (the message would be left for the dead-letter queue)`,
    description: null,
    warnings: [],
    notices: [],
  };
}

function render(file: string, options: ExplainOptions, c: Classification): string {
  if (options.json) {
    return `${JSON.stringify({ file, source: options.source, ...c })}\n`;
  }
  const lines = [`${file}: ${c.disposition}`];
  if (c.kinds.length > 0) lines.push(`  kinds:     ${c.kinds.join(", ")}`);
  if (c.instanceIds.length > 0) lines.push(`  instances: ${c.instanceIds.join(", ")}`);
  if (c.action !== null) lines.push(`  action:    ${c.action}`);
  if (c.deadline !== null) lines.push(`  deadline:  ${c.deadline}`);
  lines.push(`  reason:    ${c.reason}`);
  return `${lines.join("\n")}\n`;
}

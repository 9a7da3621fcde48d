// Command-line options shared by the bench scripts (node:util parseArgs).
import { parseArgs } from "node:util";

export type OptionSpec = Record<string, { type: "string" | "boolean"; default?: string | boolean }>;

/**
 * Parses argv with the given options plus the common ones; a bad option stops
 * the script with a usage line instead of a stack trace.
 */
export function benchArgs<T extends OptionSpec>(
  usage: string,
  options: T,
  argv: readonly string[] = process.argv.slice(2),
): Record<string, string | boolean | undefined> {
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        ...options,
        help: { type: "boolean", default: false },
        handlers: { type: "string", default: "nthd,nth" },
        source: { type: "boolean", default: false },
        before: { type: "string" },
        "no-write": { type: "boolean", default: false },
      },
      strict: true,
      allowPositionals: false,
    });
    const parsed = values as Record<string, string | boolean | undefined>;
    if (parsed.help) {
      process.stdout.write(`${usage}\n`);
      process.exit(0);
    }
    return parsed;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${usage}\n`);
    process.exit(2);
  }
}

/** A positive integer option, or exit with a message naming it. */
export function intOption(values: Record<string, unknown>, name: string, min = 1): number {
  const raw = values[name];
  const n = typeof raw === "string" ? Number(raw) : Number.NaN;
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`--${name} must be an integer >= ${min} (got ${String(raw)})\n`);
    process.exit(2);
  }
  return n;
}

/** The comma-separated --handlers list, checked against the known ones. */
export function handlerList<K extends string>(
  values: Record<string, unknown>,
  known: readonly K[],
): K[] {
  const raw = String(values.handlers ?? "");
  const list = raw
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  for (const h of list) {
    if (!known.includes(h as K)) {
      process.stderr.write(`--handlers: unknown handler "${h}" (known: ${known.join(", ")})\n`);
      process.exit(2);
    }
  }
  return list as K[];
}

/**
 * Command line of `nthd explain`. Kept apart from the command so it is unit
 * tested without reading files.
 */
import { type CommandLineSpec, parseCommandLine } from "../../config/index.ts";
import { EXPLAIN_SOURCES, type ExplainSource } from "./classify.ts";

export const EXPLAIN_LINE: CommandLineSpec = {
  name: "nthd explain",
  synopsis: ["nthd explain [options] FILE...", "nthd explain [options] - < message.json"],
  description: `Reads each FILE (or "-" for standard input) as one SQS message body
(--source sqs, the default) or one instance metadata response body, and
prints what nthd would do with it: notice kinds, instance ids, action,
deadline, disposition (handle | ignore-delete | keep) and the reason.
Never contacts AWS or Kubernetes.`,
  options: {
    source: {
      type: "string",
      value: "SOURCE",
      help: `what the input is: ${EXPLAIN_SOURCES.join(", ")} (default sqs)`,
    },
    json: { type: "boolean", help: "one JSON object per input, one per line" },
    "instance-id": {
      type: "string",
      value: "ID",
      help: 'instance the IMDS bodies belong to (they do not say; default "this-instance")',
    },
  },
  allowPositionals: true,
  exitCodes: {
    0: "every input was classified (a malformed body is a classification: keep)",
    1: "not used",
    2: "bad usage, or an input could not be read",
  },
};

export interface ExplainOptions {
  readonly source: ExplainSource;
  readonly json: boolean;
  readonly instanceId: string;
  readonly files: readonly string[];
  readonly help: boolean;
}

export type ArgsResult = { ok: true; options: ExplainOptions } | { ok: false; message: string };

export function parseExplainArgs(args: readonly string[]): ArgsResult {
  const parsed = parseCommandLine(EXPLAIN_LINE, args);
  if (!parsed.ok) return parsed;
  const { values, positionals: files, help } = parsed;
  const rawSource = (values.source as string | undefined) ?? "sqs";
  const source = EXPLAIN_SOURCES.find((s) => s === rawSource);
  if (source === undefined) {
    return {
      ok: false,
      message: `--source ${JSON.stringify(rawSource)} is not one of ${EXPLAIN_SOURCES.join(", ")}`,
    };
  }
  const instanceId = (values["instance-id"] as string | undefined) ?? "this-instance";
  if (instanceId === "") return { ok: false, message: "option --instance-id needs a value" };
  if (!help && files.length === 0) return { ok: false, message: "no input: give FILE... or -" };
  return {
    ok: true,
    options: { source, json: values.json === true, instanceId, files, help },
  };
}

/**
 * Command line of `nthd explain`. Kept apart from the command so it is unit
 * tested without reading files.
 */
import { EXPLAIN_SOURCES, type ExplainSource } from "./classify.ts";

export const EXPLAIN_USAGE = `usage: nthd explain [--source ${EXPLAIN_SOURCES.join("|")}] [--json] [--instance-id ID] FILE...

Reads each FILE (or "-" for standard input) as one SQS message body
(--source sqs, the default) or one instance metadata response body, and
prints what nthd would do with it: notice kinds, instance ids, action,
deadline, disposition (handle | ignore-delete | keep) and the reason.
Never contacts AWS or Kubernetes.

  --source S        what the input is (default sqs)
  --json            one JSON object per input, one per line
  --instance-id ID  instance the IMDS bodies belong to (they do not say; default "${"this-instance"}")
`;

export interface ExplainOptions {
  readonly source: ExplainSource;
  readonly json: boolean;
  readonly instanceId: string;
  readonly files: readonly string[];
  readonly help: boolean;
}

export type ArgsResult = { ok: true; options: ExplainOptions } | { ok: false; message: string };

export function parseExplainArgs(args: readonly string[]): ArgsResult {
  let source: ExplainSource = "sqs";
  let json = false;
  let help = false;
  let instanceId = "this-instance";
  const files: string[] = [];
  let flagsDone = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (flagsDone || arg === "-" || !arg.startsWith("-")) {
      files.push(arg);
      continue;
    }
    if (arg === "--") {
      flagsDone = true;
      continue;
    }
    const [flag, inline] = arg.includes("=") ? splitOnce(arg) : [arg, undefined];
    if (flag === "--json" && inline === undefined) {
      json = true;
    } else if ((flag === "--help" || flag === "-h") && inline === undefined) {
      help = true;
    } else if (flag === "--source" || flag === "--instance-id") {
      const value = inline ?? args[++i];
      if (value === undefined || value === "")
        return { ok: false, message: `${flag} needs a value` };
      if (flag === "--instance-id") {
        instanceId = value;
      } else {
        const known = EXPLAIN_SOURCES.find((s) => s === value);
        if (known === undefined) {
          return {
            ok: false,
            message: `--source ${JSON.stringify(value)} is not one of ${EXPLAIN_SOURCES.join(", ")}`,
          };
        }
        source = known;
      }
    } else {
      return { ok: false, message: `unknown flag ${JSON.stringify(arg)}` };
    }
  }
  if (!help && files.length === 0) return { ok: false, message: "no input: give FILE... or -" };
  return { ok: true, options: { source, json, instanceId, files, help } };
}

function splitOnce(arg: string): [string, string] {
  const at = arg.indexOf("=");
  return [arg.slice(0, at), arg.slice(at + 1)];
}

/**
 * One doctor check result. `fix` says what to change when it is not a pass;
 * `fail` makes the exit code non-zero, `warn` does not.
 */
import { errorMessage } from "../../errors.ts";

export const CHECK_STATUSES = ["pass", "warn", "fail", "skip"] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

export interface CheckResult {
  /** Stable identifier for automation, e.g. "rule:c1-SpotInterruption". */
  readonly id: string;
  readonly title: string;
  readonly status: CheckStatus;
  readonly detail: string;
  readonly fix?: string;
}

export function pass(id: string, title: string, detail: string): CheckResult {
  return { id, title, status: "pass", detail };
}

export function fail(id: string, title: string, detail: string, fix: string): CheckResult {
  return { id, title, status: "fail", detail, fix };
}

/** A check whose call threw: it fails with the error's message, after `context` when given. */
export function errored(
  id: string,
  title: string,
  err: unknown,
  fix: string,
  context?: string,
): CheckResult {
  const message = errorMessage(err);
  return fail(id, title, context === undefined ? message : `${context}: ${message}`, fix);
}

export function warn(id: string, title: string, detail: string, fix: string): CheckResult {
  return { id, title, status: "warn", detail, fix };
}

export function skip(id: string, title: string, detail: string): CheckResult {
  return { id, title, status: "skip", detail };
}

export function failed(results: readonly CheckResult[]): boolean {
  return results.some((r) => r.status === "fail");
}

const MARK: Record<CheckStatus, string> = {
  pass: "ok  ",
  warn: "WARN",
  fail: "FAIL",
  skip: "skip",
};

/** The readable checklist: one line per check, the fix indented under it. */
export function renderChecklist(results: readonly CheckResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    lines.push(`[${MARK[r.status]}] ${r.title}: ${r.detail}`);
    if (r.fix !== undefined && r.status !== "pass") lines.push(`       fix: ${r.fix}`);
  }
  const n = (s: CheckStatus) => results.filter((r) => r.status === s).length;
  lines.push(
    `${n("pass")} passed, ${n("fail")} failed, ${n("warn")} warnings, ${n("skip")} skipped`,
  );
  return `${lines.join("\n")}\n`;
}

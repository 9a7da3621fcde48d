/**
 * IMDS mode's Node.js (V8) flags, applied however nthd was started. The
 * chart's DaemonSet passes them on node's command line; a manifest that runs
 * the image's plain entrypoint (kOps' own, keeping kOps' manifest and only
 * swapping the image) does not, and IMDS mode, which runs on every node,
 * would then use several times the memory. So IMDS mode checks its own
 * command line at start-up and, when the flags are missing, replaces itself
 * (execve: same PID, no second process) with node plus the flags.
 *
 * The list is charts/nthd/files/imds-node-flags.txt's (a unit test keeps the
 * two equal); the reasons for each flag are written there.
 */
export const IMDS_NODE_FLAGS = [
  "--max-semi-space-size=1",
  "--no-maglev",
  "--no-turbofan",
  "--liftoff-only",
  "--wasm-wrapper-tiering-budget=2147483647",
  "--optimize-for-size",
  "--expose-gc",
] as const;

/** Set in the environment of the re-executed process, so it never loops. */
export const FLAGS_APPLIED_ENV = "NTHD_IMDS_NODE_FLAGS_APPLIED";

export interface ProcessFacts {
  readonly execPath: string;
  readonly execArgv: readonly string[];
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * The command line to re-execute with, or undefined when nothing needs to
 * change (flags present, or already re-executed once). Pure.
 */
export function reexecWithFlags(
  p: ProcessFacts,
): { file: string; args: string[]; env: Record<string, string> } | undefined {
  if (p.env[FLAGS_APPLIED_ENV] !== undefined) return undefined;
  const missing = IMDS_NODE_FLAGS.filter((f) => !p.execArgv.includes(f));
  if (missing.length === 0) return undefined;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.env)) if (v !== undefined) env[k] = v;
  env[FLAGS_APPLIED_ENV] = "1";
  return {
    file: p.execPath,
    args: [p.execPath, ...p.execArgv, ...missing, ...p.argv.slice(1)],
    env,
  };
}

/** Replaces this process with one that has the flags; returns only if nothing is needed or possible. */
export function applyImdsNodeFlags(): void {
  const plan = reexecWithFlags({
    execPath: process.execPath,
    execArgv: process.execArgv,
    argv: process.argv,
    env: process.env,
  });
  const execve = (process as { execve?: (file: string, args: string[], env: object) => never })
    .execve;
  if (plan === undefined || execve === undefined) return;
  execve(plan.file, plan.args, plan.env);
}

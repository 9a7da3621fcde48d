// The test ground for one bench run: started once, stopped on exit (also on
// Ctrl-C). A bench run uses its own state file so it never stops a ground
// that an integration test run on the same machine is using.
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import type { GroundState } from "../../test/env/ground-up.ts";
import { repoRoot } from "./results.ts";

export interface BenchGround {
  readonly state: GroundState;
  /** Admin client (client certificate, system:masters). */
  readonly kc: KubeConfig;
  /** The ground's PKI directory (ca.crt, admin.crt, admin.key). */
  readonly pki: string;
  readonly apiserverPort: number;
  /** test/env/ground.ts helpers, loaded after the state file location is fixed. */
  readonly helpers: typeof import("../../test/env/ground.ts");
}

const cleanups: (() => Promise<void> | void)[] = [];

/** Registers work to undo when the run ends, however it ends (last registered runs first). */
export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

async function runCleanups(): Promise<void> {
  while (cleanups.length > 0) {
    const fn = cleanups.pop();
    try {
      await fn?.();
    } catch (err) {
      process.stderr.write(`[bench] cleanup failed: ${(err as Error).message}\n`);
    }
  }
}

let signalsHooked = false;
function hookSignals(): void {
  if (signalsHooked) return;
  signalsHooked = true;
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.once(sig, () => {
      process.stderr.write(`[bench] ${sig}: cleaning up\n`);
      void runCleanups().finally(() => process.exit(130));
    });
  }
}

/** Starts the ground, runs `body`, then undoes everything registered with onCleanup. */
export async function withGround<T>(body: (g: BenchGround) => Promise<T>): Promise<T> {
  // Must be set before test/env/ground-up.ts is first evaluated (it reads it once).
  // One file per bench process: two benches run from one tree must not stop each other's ground.
  process.env.NTHD_GROUND_STATE ??= join(
    repoRoot,
    ".nthd-ground",
    `bench-state-${process.pid}.json`,
  );
  hookSignals();
  const up = await import("../../test/env/ground-up.ts");
  const helpers = await import("../../test/env/ground.ts");
  process.stderr.write("[bench] starting the test ground\n");
  const state = await up.startGround();
  onCleanup(() => up.stopGround(state));
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(state.kubeconfig);
    const g: BenchGround = {
      state,
      kc,
      pki: join(state.runDir, "pki"),
      apiserverPort: Number(new URL(state.apiserverUrl).port),
      helpers,
    };
    return await body(g);
  } finally {
    await runCleanups();
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` until it returns a value other than undefined; bounded by `timeoutMs`. */
export async function pollUntil<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  intervalMs = 250,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    // A check whose request never answers (a dead keep-alive connection) must not outlast the timeout.
    let timer: NodeJS.Timeout | undefined;
    const value = await Promise.race([
      Promise.resolve(check()),
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), Math.max(0, until - Date.now()));
      }),
    ]).finally(() => clearTimeout(timer));
    if (value !== undefined) return value;
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Runs `fn` over `items` with at most `limit` calls in flight. */
export async function mapLimit<I, O>(
  items: readonly I[],
  limit: number,
  fn: (item: I, index: number) => Promise<O>,
): Promise<O[]> {
  const out: O[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as I, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

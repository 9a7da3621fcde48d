// Starts the test ground once for the whole integration suite and stops it
// afterwards, also on Ctrl-C or SIGTERM.
import { join } from "node:path";
import { type GroundState, startGround, stopGround } from "./ground-up.ts";

let state: GroundState | undefined;

async function stopOnSignal(signal: NodeJS.Signals): Promise<void> {
  if (state !== undefined) await stopGround(state);
  process.kill(process.pid, signal);
}

export async function globalSetup(): Promise<void> {
  const started = Date.now();
  // A state file of this run's own; test processes inherit the variable.
  process.env.NTHD_GROUND_STATE ??= join(
    new URL("../../.nthd-ground", import.meta.url).pathname,
    `state-${process.pid}.json`,
  );
  state = await startGround();
  process.stderr.write(`[ground] ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  for (const signal of ["SIGINT", "SIGTERM"] as const)
    process.once(signal, () => void stopOnSignal(signal));
}

export async function globalTeardown(): Promise<void> {
  if (state !== undefined) await stopGround(state);
  state = undefined;
}

import type { ModeContext } from "../daemon.ts";

export async function runQueueMode(_ctx: ModeContext): Promise<void> {
  throw new Error("queue mode is not wired yet");
}

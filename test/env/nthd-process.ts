// Runs the real nthd program (src/main.ts) as a child process for end-to-end tests.
import { type ChildProcess, spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";

const repo = new URL("../../", import.meta.url).pathname;

export interface NthdProcess {
  readonly child: ChildProcess;
  /** Everything it printed so far (logs), for failure messages. */
  output(): string;
  /** SIGTERM, then SIGKILL after 10 s; resolves the exit code (null when killed). */
  stop(): Promise<number | null>;
  exited(): Promise<number | null>;
}

export function startNthd(env: Record<string, string>, args: readonly string[] = []): NthdProcess {
  let output = "";
  const child = spawn(process.execPath, ["src/main.ts", ...args], {
    cwd: repo,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const collect = (d: Buffer) => {
    output += d.toString();
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    output: () => output,
    exited: () => exit,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill("SIGTERM");
      const killLater = sleep(10_000).then(() => {
        child.kill("SIGKILL");
        return null;
      });
      return Promise.race([exit, killLater]);
    },
  };
}

export { eventually } from "./eventually.ts";

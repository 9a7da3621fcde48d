// Real process faults for a peer a test starts for itself: freeze it
// (SIGSTOP: connections are accepted by the kernel and never answered),
// thaw it (SIGCONT), kill it (SIGKILL: its port refuses connections) and
// start it again with the same arguments on the same port. Output goes
// straight to a log file (no pipe through the test process), so a peer
// never stalls on a full pipe while the test is busy.
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, readdirSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { isAlive, reapPids } from "./peers.ts";

export interface RestartableSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly logFile: string;
  /** True once the peer answers; polled after every start. */
  readonly ready: () => Promise<boolean>;
  readonly readyTimeoutMs?: number;
}

export interface RestartablePeer {
  readonly name: string;
  /** The running process's id (changes on restart). */
  pid(): number;
  /** SIGSTOP. */
  freeze(): Promise<void>;
  /** SIGCONT. */
  thaw(): void;
  /** SIGKILL, and waits until it is gone. */
  kill(): Promise<void>;
  /** Starts it again (same command, arguments and port) and waits until ready. */
  start(): Promise<void>;
  /** Kill, then start. */
  restart(): Promise<void>;
  /** Stops it for good (SIGTERM, then SIGKILL); also thaws a frozen one. */
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
// A test process that dies leaves no peer of its own behind.
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

export async function startRestartable(spec: RestartableSpec): Promise<RestartablePeer> {
  let child: ChildProcess | undefined;

  const spawnOnce = () => {
    const fd = openSync(spec.logFile, "a");
    try {
      child = spawn(spec.command, spec.args, {
        env: spec.env ?? process.env,
        stdio: ["ignore", fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    const c = child;
    running.add(c);
    c.once("exit", () => running.delete(c));
  };

  const waitReady = async () => {
    const until = Date.now() + (spec.readyTimeoutMs ?? 60_000);
    while (Date.now() < until) {
      if (child?.exitCode !== null && child?.exitCode !== undefined) {
        throw new Error(`${spec.name} exited with ${child.exitCode}; see ${spec.logFile}`);
      }
      try {
        if (await spec.ready()) return;
      } catch {
        // not up yet
      }
      await sleep(200);
    }
    throw new Error(
      `${spec.name} not ready after ${spec.readyTimeoutMs ?? 60_000} ms; see ${spec.logFile}`,
    );
  };

  const signal = (sig: NodeJS.Signals) => {
    if (child?.pid !== undefined && isAlive(child.pid)) process.kill(child.pid, sig);
  };

  const peer: RestartablePeer = {
    name: spec.name,
    pid: () => child?.pid ?? -1,
    async freeze() {
      signal("SIGSTOP");
      // A signal to a process with many threads takes effect thread by thread:
      // wait until every thread is stopped, or a request sent right after
      // could still be answered.
      const pid = child?.pid;
      if (pid !== undefined) await allThreadsStopped(pid, 2000);
    },
    thaw: () => signal("SIGCONT"),
    async kill() {
      const pid = child?.pid;
      if (pid === undefined) return;
      signal("SIGKILL");
      await reapPids([pid], 5000);
      // The port is free once the process is gone; give the kernel a moment.
      await sleep(100);
    },
    async start() {
      spawnOnce();
      await waitReady();
    },
    async restart() {
      await peer.kill();
      await peer.start();
    },
    async stop() {
      const pid = child?.pid;
      if (pid === undefined || !isAlive(pid)) return;
      signal("SIGCONT");
      signal("SIGTERM");
      await reapPids([pid], 5000);
    },
  };
  await peer.start();
  return peer;
}

/** Resolves once every thread of `pid` is stopped (state T in /proc), or after `timeoutMs`. */
async function allThreadsStopped(pid: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      const tasks = readdirSync(`/proc/${pid}/task`);
      const states = tasks.map((t) => {
        const stat = readFileSync(`/proc/${pid}/task/${t}/stat`, "utf8");
        return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
      });
      if (states.every((st) => st === "T" || st === "t")) return;
    } catch {
      return; // gone: nothing left to answer
    }
    await sleep(5);
  }
}

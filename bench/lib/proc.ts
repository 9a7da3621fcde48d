// Spawns the handler under test and samples its memory and CPU from /proc.
// Figures come from the kernel (VmRSS/VmHWM in /proc/<pid>/status, utime+stime
// in /proc/<pid>/stat), so nthd (Node) and NTH (Go) are measured the same way.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createWriteStream, readFileSync, type WriteStream } from "node:fs";

export interface Sample {
  /** Milliseconds since the process was spawned. */
  readonly tMs: number;
  readonly rssBytes: number;
  /** The anonymous part of the RSS (heap, buffers, stacks; not the executable). */
  readonly anonBytes: number;
  /** User + system CPU time used so far, in seconds. */
  readonly cpuSeconds: number;
}

let clockTicks: number | undefined;
export function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/**
 * Current RSS, its anonymous part (what the process allocated, as opposed
 * to mapped files such as its executable) and peak RSS (high-water mark),
 * in bytes, or undefined once the process is gone.
 */
export function readMemory(pid: number): { rss: number; anon: number; hwm: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0);
    return { rss: kb("VmRSS") * 1024, anon: kb("RssAnon") * 1024, hwm: kb("VmHWM") * 1024 };
  } catch {
    return undefined;
  }
}

/** User + system CPU seconds of the whole process (all threads), or undefined once gone. */
export function readCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // After the name: field 3 (state) is index 0, so utime (14) and stime (15) are 11 and 12.
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
  } catch {
    return undefined;
  }
}

/** Samples a process at a fixed interval until stopped or the process exits. */
export class ProcSampler {
  readonly samples: Sample[] = [];
  #peakHwm = 0;
  readonly #timer: NodeJS.Timeout;
  readonly pid: number;
  readonly startedAt: number;

  constructor(pid: number, startedAt: number, intervalMs = 200) {
    this.pid = pid;
    this.startedAt = startedAt;
    this.#timer = setInterval(() => this.sample(), intervalMs);
    this.#timer.unref();
    this.sample();
  }

  sample(): Sample | undefined {
    const mem = readMemory(this.pid);
    const cpu = readCpuSeconds(this.pid);
    if (mem === undefined || cpu === undefined) return undefined;
    this.#peakHwm = Math.max(this.#peakHwm, mem.hwm);
    const s = {
      tMs: Date.now() - this.startedAt,
      rssBytes: mem.rss,
      anonBytes: mem.anon,
      cpuSeconds: cpu,
    };
    this.samples.push(s);
    return s;
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Peak RSS as the kernel recorded it (VmHWM), which also catches spikes between samples. */
  peakRssBytes(): number {
    return Math.max(this.#peakHwm, ...this.samples.map((s) => s.rssBytes), 0);
  }

  /** Highest anonymous RSS sampled. */
  peakAnonBytes(): number {
    return Math.max(0, ...this.samples.map((s) => s.anonBytes));
  }

  /** Median RSS of the samples taken at or after `fromMs` (process-relative). */
  steadyRssBytes(fromMs = 0): number {
    const rss = this.samples
      .filter((s) => s.tMs >= fromMs)
      .map((s) => s.rssBytes)
      .sort((a, b) => a - b);
    return rss[Math.floor(rss.length / 2)] ?? Number.NaN;
  }

  /** Mean CPU use (% of one core) between two process-relative instants. */
  cpuPercent(fromMs = 0, toMs = Number.POSITIVE_INFINITY): number {
    const inWindow = this.samples.filter((s) => s.tMs >= fromMs && s.tMs <= toMs);
    const first = inWindow[0];
    const last = inWindow[inWindow.length - 1];
    if (first === undefined || last === undefined || last.tMs === first.tMs) return Number.NaN;
    return ((last.cpuSeconds - first.cpuSeconds) / ((last.tMs - first.tMs) / 1000)) * 100;
  }

  /** CPU seconds used between two process-relative instants. */
  cpuSecondsBetween(fromMs = 0, toMs = Number.POSITIVE_INFINITY): number {
    const inWindow = this.samples.filter((s) => s.tMs >= fromMs && s.tMs <= toMs);
    const first = inWindow[0];
    const last = inWindow[inWindow.length - 1];
    return first === undefined || last === undefined
      ? Number.NaN
      : last.cpuSeconds - first.cpuSeconds;
  }
}

export interface SpawnedProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Date.now() just before spawn. */
  readonly startedAt: number;
  readonly sampler: ProcSampler;
  readonly logFile: string;
  /** Resolves with the time (Date.now()) the first output line matching `re` appeared. */
  waitForOutput(re: RegExp, timeoutMs: number): Promise<number>;
  exited(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts a process with exactly the given environment (nothing inherited, so
 * a KUBECONFIG or AWS variable of the caller cannot leak into the measurement);
 * stdout and stderr go to `logFile`.
 */
export function spawnMeasured(
  command: string,
  args: readonly string[],
  env: Record<string, string>,
  logFile: string,
  sampleIntervalMs = 200,
): SpawnedProcess {
  const log: WriteStream = createWriteStream(logFile);
  const startedAt = Date.now();
  const child = spawn(command, [...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  const pid = child.pid;
  const sampler = new ProcSampler(pid, startedAt, sampleIntervalMs);
  const waiters: { re: RegExp; resolve: (t: number) => void }[] = [];
  let partial = "";
  const onData = (chunk: Buffer) => {
    log.write(chunk);
    if (waiters.length === 0) return;
    const text = partial + chunk.toString("utf8");
    const lines = text.split("\n");
    partial = lines.pop() ?? "";
    const now = Date.now();
    for (const line of lines) {
      for (let i = waiters.length - 1; i >= 0; i--) {
        const w = waiters[i];
        if (w?.re.test(line)) {
          waiters.splice(i, 1);
          w.resolve(now);
        }
      }
    }
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  let exitedFlag = false;
  const exit = new Promise<void>((resolve) => {
    child.on("exit", () => {
      exitedFlag = true;
      sampler.stop();
      log.end();
      resolve();
    });
  });
  return {
    child,
    pid,
    startedAt,
    sampler,
    logFile,
    exited: () => exitedFlag,
    waitForOutput: (re, timeoutMs) =>
      new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`no output matching ${re} within ${timeoutMs} ms (see ${logFile})`));
        }, timeoutMs);
        waiters.push({
          re,
          resolve: (t) => {
            clearTimeout(timer);
            resolve(t);
          },
        });
      }),
    stop: async (graceMs = 5000) => {
      sampler.stop();
      if (exitedFlag) return;
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exit;
      clearTimeout(killer);
    },
  };
}

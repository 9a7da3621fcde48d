// Where the machine's CPU went during a scenario: the handler, each process
// of the test ground (API server, etcd, controllers, kwok, moto) and
// everything else the machine ran at the time (other work shares these
// cores). Read from the kernel: utime + stime per process, the busy
// counters of /proc/stat for the machine.
import { readFileSync } from "node:fs";
import { readCpuSeconds, ticksPerSecond } from "./proc.ts";

export interface CpuSnapshot {
  readonly atMs: number;
  /** CPU seconds used so far, per named process. */
  readonly processes: Readonly<Record<string, number>>;
  /** Busy CPU seconds of the whole machine (all cores) since boot. */
  readonly machineBusy: number;
}

/** Busy time (everything but idle and iowait) of all cores, in seconds. */
export function machineBusySeconds(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const [, ...fields] = line.trim().split(/\s+/);
  const n = fields.map(Number);
  // user nice system idle iowait irq softirq steal (guest time is inside user)
  const busy = (n[0] ?? 0) + (n[1] ?? 0) + (n[2] ?? 0) + (n[5] ?? 0) + (n[6] ?? 0) + (n[7] ?? 0);
  return busy / ticksPerSecond();
}

export function cpuSnapshot(pids: Readonly<Record<string, number>>): CpuSnapshot {
  const processes: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) {
    const s = readCpuSeconds(pid);
    if (s !== undefined) processes[name] = s;
  }
  return { atMs: Date.now(), processes, machineBusy: machineBusySeconds() };
}

export interface CpuShare {
  readonly wallSeconds: number;
  /** CPU seconds per named process between the snapshots. */
  readonly processes: Readonly<Record<string, number>>;
  /** The machine's busy seconds not used by any named process. */
  readonly other: number;
  readonly machineBusy: number;
}

export function cpuShare(before: CpuSnapshot, after: CpuSnapshot): CpuShare {
  const processes: Record<string, number> = {};
  for (const [name, end] of Object.entries(after.processes)) {
    const start = before.processes[name];
    if (start !== undefined) processes[name] = end - start;
  }
  const machineBusy = after.machineBusy - before.machineBusy;
  const named = Object.values(processes).reduce((a, b) => a + b, 0);
  return {
    wallSeconds: (after.atMs - before.atMs) / 1000,
    processes,
    other: Math.max(0, machineBusy - named),
    machineBusy,
  };
}

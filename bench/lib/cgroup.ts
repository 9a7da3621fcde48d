// A real memory cgroup for the handler under test, set to a limit (the
// chart's default, say), so "fits in its limit" is decided by the kernel:
// the process is charged, reclaimed and OOM-killed as in a pod. Needs root.
//
// Both cgroup versions: v2 (`memory.max`, `memory.peak`, `memory.events`)
// and v1 (`memory.limit_in_bytes`, `memory.max_usage_in_bytes`,
// `memory.oom_control`). The cgroup is a child of the one the bench runs in.
//
// Shared file pages: v1 charges a page of the page cache to the cgroup that
// read it first, so a Node binary other processes had already read would not
// be charged to the handler at all (v2 does the same for pages already
// cached). The handler therefore runs from a private copy of its executable
// and its code, read by no one else: their pages are charged to it as they
// would be in a container. The anonymous memory (what the process itself
// allocated) is reported on its own too.
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = "/sys/fs/cgroup";

export interface MemoryCgroup {
  readonly path: string;
  readonly version: 1 | 2;
  readonly limitBytes: number;
  /** Runs `command args` inside the cgroup: returns the wrapper (a shell that joins, then execs). */
  wrap(command: string, args: readonly string[]): { command: string; args: string[] };
  /** What the kernel recorded so far, with the peaks sampled since creation. */
  read(): CgroupFigures;
  /** Removes the cgroup (its processes must have exited). */
  remove(): void;
}

export interface CgroupFigures {
  /** Highest memory charged to the cgroup (anonymous, page cache, kernel). */
  readonly peakBytes: number;
  readonly currentBytes: number;
  /** Anonymous memory charged right now (v1 `rss`, v2 `anon`). */
  readonly anonBytes: number;
  /** Highest anonymous memory seen by the sampler (every 100 ms). */
  readonly peakAnonBytes: number;
  /**
   * Highest working set seen by the sampler: usage minus inactive file
   * pages, the figure the kubelet and `kubectl top` report. The rest of the
   * usage is page cache the kernel reclaims before it OOM-kills.
   */
  readonly peakWorkingSetBytes: number;
  /** Times the kernel's OOM killer killed a process of the cgroup. */
  readonly oomKills: number;
  /** Times the usage hit the limit (v1 failcnt, v2 `max` events). */
  readonly limitHits: number;
}

export function cgroupVersion(): 1 | 2 {
  return existsSync(join(ROOT, "cgroup.controllers")) ? 2 : 1;
}

/** The directory of this process's memory cgroup. */
function ownCgroupDir(version: 1 | 2): string {
  const lines = readFileSync("/proc/self/cgroup", "utf8").split("\n");
  if (version === 2) {
    const rel = lines.find((l) => l.startsWith("0::"))?.slice(3) ?? "/";
    return join(ROOT, rel);
  }
  const line = lines.find((l) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(l));
  const rel = line?.split(":")[2] ?? "/";
  return join(ROOT, "memory", rel);
}

const readNumber = (file: string): number => {
  const text = readFileSync(file, "utf8").trim();
  return text === "max" ? Number.POSITIVE_INFINITY : Number(text);
};

const keyed = (file: string): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) out[k] = Number(v);
  }
  return out;
};

export function createMemoryCgroup(name: string, limitBytes: number): MemoryCgroup {
  const version = cgroupVersion();
  const parent = ownCgroupDir(version);
  const path = join(parent, name);
  mkdirSync(path, { recursive: true });
  if (version === 2) {
    writeFileSync(join(path, "memory.max"), String(limitBytes));
    writeFileSync(join(path, "memory.swap.max"), "0");
  } else {
    writeFileSync(join(path, "memory.limit_in_bytes"), String(limitBytes));
    // No swap on these machines, but say so: the limit covers memory alone.
    try {
      writeFileSync(join(path, "memory.memsw.limit_in_bytes"), String(limitBytes));
    } catch {
      // memsw accounting may be off; then there is no swap to limit.
    }
  }
  const procs = join(path, "cgroup.procs");
  let peakAnon = 0;
  let peakWorkingSet = 0;
  const now = (): CgroupFigures => {
    if (version === 2) {
      const events = keyed(join(path, "memory.events"));
      const stat = keyed(join(path, "memory.stat"));
      const current = readNumber(join(path, "memory.current"));
      return {
        peakBytes: existsSync(join(path, "memory.peak"))
          ? readNumber(join(path, "memory.peak"))
          : Number.NaN,
        currentBytes: current,
        anonBytes: stat.anon ?? Number.NaN,
        peakAnonBytes: peakAnon,
        peakWorkingSetBytes: Math.max(peakWorkingSet, current - (stat.inactive_file ?? 0)),
        oomKills: events.oom_kill ?? 0,
        limitHits: events.max ?? 0,
      };
    }
    const stat = keyed(join(path, "memory.stat"));
    const oom = keyed(join(path, "memory.oom_control"));
    const current = readNumber(join(path, "memory.usage_in_bytes"));
    return {
      peakBytes: readNumber(join(path, "memory.max_usage_in_bytes")),
      currentBytes: current,
      anonBytes: stat.rss ?? Number.NaN,
      peakAnonBytes: peakAnon,
      peakWorkingSetBytes: Math.max(peakWorkingSet, current - (stat.total_inactive_file ?? 0)),
      oomKills: oom.oom_kill ?? 0,
      limitHits: readNumber(join(path, "memory.failcnt")),
    };
  };
  const sample = () => {
    try {
      const f = now();
      peakAnon = Math.max(peakAnon, f.anonBytes || 0);
      peakWorkingSet = Math.max(peakWorkingSet, f.peakWorkingSetBytes || 0);
    } catch {
      // Removed meanwhile.
    }
  };
  const timer = setInterval(sample, 100);
  timer.unref();
  return {
    path,
    version,
    limitBytes,
    wrap(command, args) {
      // The shell writes its own pid, then becomes the command: same pid, in the cgroup from its first instruction.
      return {
        command: "/bin/sh",
        args: ["-c", `echo $$ > '${procs}' && exec "$@"`, "nthd-cgroup", command, ...args],
      };
    },
    read() {
      sample();
      return now();
    },
    remove() {
      clearInterval(timer);
      try {
        rmdirSync(path);
      } catch {
        // Still busy (a process that outlived its stop): leave it for the next run to see.
      }
    },
  };
}

/**
 * A private copy of the Node executable and of the bundle the handler runs
 * (`dist/`), written, flushed to disk and dropped from the page cache, so
 * that the handler is the first to read them and their pages are charged to
 * its cgroup, as a container's image files are. Removed by `dispose`.
 */
export function privateRuntime(
  nodeBinary: string,
  bundleDir: string,
): { node: string; bundleDir: string; dispose(): void } {
  const dir = mkdtempSync(join(tmpdir(), "nthd-cgroup-runtime-"));
  const node = join(dir, "node");
  copyFileSync(nodeBinary, node);
  chmodSync(node, statSync(nodeBinary).mode);
  const copy = join(dir, "dist");
  cpSync(bundleDir, copy, { recursive: true });
  const files = [node, ...listFiles(copy)];
  // Written pages are cached, and charged to the writer (this process):
  // write them out, then ask the kernel to drop them (dd's nocache is
  // posix_fadvise DONTNEED).
  execFileSync("sync", files);
  for (const file of files) {
    execFileSync("dd", [`if=${file}`, "iflag=nocache", "count=0", "status=none"]);
  }
  return { node, bundleDir: copy, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

/** "256Mi", "1Gi", "200M", "134217728" (bytes) -> bytes. */
export function parseQuantity(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)?$/.exec(text.trim());
  if (!m) throw new Error(`not a memory quantity: ${text}`);
  const unit = m[2] ?? "";
  const factor: Record<string, number> = {
    "": 1,
    Ki: 1024,
    Mi: 1024 ** 2,
    Gi: 1024 ** 3,
    K: 1000,
    M: 1000 ** 2,
    G: 1000 ** 3,
  };
  return Math.round(Number(m[1]) * (factor[unit] ?? 1));
}

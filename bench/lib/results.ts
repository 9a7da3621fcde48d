// Results files: bench/results/<name>-<date>.json, with the machine and the
// versions the figures came from, so a reader can tell whether two files compare.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, release, totalmem } from "node:os";
import { join } from "node:path";
import { pinnedVersions } from "../../test/env/peers.ts";

export const repoRoot = join(new URL(".", import.meta.url).pathname, "..", "..");
export const resultsDir = join(repoRoot, "bench", "results");

export interface MachineFacts {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryBytes: number;
  readonly kernel: string;
  readonly nodeVersion: string;
  readonly kubeVersion: string;
  readonly peers: Record<string, string>;
  readonly nthdVersion: string;
  readonly gitCommit: string | undefined;
  /** Load average when the run started: other work on the machine skews figures. */
  readonly loadAverage: readonly number[];
}

function gitCommit(): string | undefined {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], {
      cwd: repoRoot,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], {
      cwd: repoRoot,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    return dirty === "" ? head : `${head}+dirty`;
  } catch {
    return undefined;
  }
}

export function machineFacts(kubeVersion?: string): MachineFacts {
  const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as {
    version: string;
  };
  const loadavg = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).map(Number);
  const peers = pinnedVersions();
  return {
    cpuModel: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memoryBytes: totalmem(),
    kernel: release(),
    nodeVersion: process.version,
    kubeVersion: kubeVersion ?? peers.kube ?? "unknown",
    peers,
    nthdVersion: pkg.version,
    gitCommit: gitCommit(),
    loadAverage: loadavg,
  };
}

/** One line describing the machine, printed under every table. */
export function machineLine(m: MachineFacts): string {
  return `${m.cpuModel}, ${m.cores} cores, ${(m.memoryBytes / 2 ** 30).toFixed(1)} GiB, Linux ${m.kernel}, Node ${m.nodeVersion}, Kubernetes ${m.kubeVersion}, load ${m.loadAverage.join(" ")}`;
}

// One stamp per bench run, shared by its JSON and plot files.
const stamp = new Date().toISOString().replace(/:/g, "-").replace(/\..*$/, "");

/** Writes bench/results/<name>-<YYYY-MM-DDTHH-MM-SS>.json and returns its path. */
export function writeResults(name: string, payload: Record<string, unknown>): string {
  return writeArtifact(
    name,
    "json",
    `${JSON.stringify({ name, date: new Date().toISOString(), ...payload }, null, 2)}\n`,
  );
}

/** Writes another file of the run (a plot) beside the JSON; returns its path. */
export function writeArtifact(name: string, ext: string, content: string): string {
  mkdirSync(resultsDir, { recursive: true });
  const path = join(resultsDir, `${name}-${stamp}.${ext}`);
  writeFileSync(path, content);
  return path;
}

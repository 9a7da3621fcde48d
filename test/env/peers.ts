// Locating, starting and health-checking the real peers of the test ground.
// Every peer listens on 127.0.0.1 only.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createWriteStream, existsSync, readFileSync } from "node:fs";
import { get as httpsGet } from "node:https";
import { createServer } from "node:net";
import { homedir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const here = new URL(".", import.meta.url).pathname;

/** Versions pinned in versions.sh (the one place they are written). */
export function pinnedVersions(): Record<string, string> {
  const text = readFileSync(join(here, "versions.sh"), "utf8");
  const versions: Record<string, string> = {};
  for (const match of text.matchAll(/^([A-Z_]+)_VERSION=(\S+)$/gm)) {
    versions[(match[1] as string).toLowerCase()] = match[2] as string;
  }
  return versions;
}

export function cacheDir(): string {
  return process.env.NTHD_CACHE ?? join(homedir(), ".cache", "nthd");
}

const BINARY_VERSION_KEY: Record<string, string> = {
  "kube-apiserver": "kube",
  "kube-controller-manager": "kube",
  "kube-scheduler": "kube",
  kubectl: "kube",
  etcd: "etcd",
  kwok: "kwok",
  "ec2-metadata-mock": "aemm",
  helm: "helm",
  promtool: "promtool",
  prometheus: "prometheus",
  actionlint: "actionlint",
  kubeconform: "kubeconform",
  "toxiproxy-server": "toxiproxy",
};

/** Path of a peer binary built by install-peers.sh. */
export function peerBinary(name: keyof typeof BINARY_VERSION_KEY | string): string {
  const key = BINARY_VERSION_KEY[name];
  if (key === undefined) throw new Error(`unknown peer binary ${name}`);
  const version = pinnedVersions()[key];
  const path = join(cacheDir(), "bin", `${name}-${version}`);
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: run test/env/install-peers.sh (npm run peers)`);
  }
  return path;
}

export function motoPython(): string {
  return join(cacheDir(), `moto-${pinnedVersions().moto}`, "bin", "python");
}

/** A free TCP port on 127.0.0.1 (the kernel picks it; a tiny race is acceptable here). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface RunningPeer {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  readonly logFile: string;
}

/** Starts a peer with its output in logDir/name.log. */
export function startPeer(
  name: string,
  command: string,
  args: readonly string[],
  logDir: string,
  env: NodeJS.ProcessEnv = process.env,
): RunningPeer {
  const logFile = join(logDir, `${name}.log`);
  const out = createWriteStream(logFile, { flags: "a" });
  const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`);
  return { name, pid: child.pid, child, logFile };
}

/** Polls `check` until it returns true, or fails naming the peer and its log. */
export async function waitFor(
  peer: RunningPeer | { name: string; logFile: string; child?: ChildProcess },
  check: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (peer.child && peer.child.exitCode !== null) {
      throw new Error(
        `${peer.name} exited with ${peer.child.exitCode}; see ${peer.logFile}:\n${tail(peer.logFile)}`,
      );
    }
    try {
      if (await check()) return;
    } catch {
      // not up yet
    }
    await sleep(200);
  }
  throw new Error(
    `${peer.name} not ready after ${timeoutMs} ms; see ${peer.logFile}:\n${tail(peer.logFile)}`,
  );
}

function tail(file: string): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-15).join("\n");
  } catch {
    return "(no log)";
  }
}

export async function httpOk(url: string, init?: RequestInit): Promise<boolean> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(2000) });
  await response.arrayBuffer();
  return response.ok;
}

/** Health check of a peer that serves a self-signed certificate (controllers, scheduler). */
export function selfSignedOk(url: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const req = httpsGet(url, { rejectUnauthorized: false, timeout: 2000 }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode === 200));
    });
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("timeout")));
  });
}

export function stopPids(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
}

/** Waits for pids to exit, then SIGKILLs what is left. */
export async function reapPids(pids: readonly number[], graceMs = 5000): Promise<void> {
  const until = Date.now() + graceMs;
  let alive = pids.filter(isAlive);
  while (alive.length > 0 && Date.now() < until) {
    await sleep(100);
    alive = alive.filter(isAlive);
  }
  for (const pid of alive) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function runScript(script: string, args: readonly string[]): void {
  execFileSync("bash", [join(here, script), ...args], { stdio: ["ignore", "inherit", "inherit"] });
}

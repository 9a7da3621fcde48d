// Runs the real nthd program (src/main.ts) as a child process for end-to-end tests.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { type AddressInfo, connect, createServer, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";

const repo = new URL("../../", import.meta.url).pathname;
const runFile = promisify(execFile);

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
      // Cancelled once it exits, so no timer keeps the test process alive.
      const cancel = new AbortController();
      const killLater = sleep(10_000, undefined, { signal: cancel.signal }).then(
        () => {
          child.kill("SIGKILL");
          return null;
        },
        () => null,
      );
      try {
        return await Promise.race([exit, killLater]);
      } finally {
        cancel.abort();
      }
    },
  };
}

export { eventually } from "../support/eventually.ts";

export interface NthdRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs one nthd command (`explain`, `select`...) to its end with exactly
 * `env`, `input` on its standard input: its exit code and what it printed.
 * Never rejects for a non-zero exit; that is the test's to check.
 */
export async function runNthd(
  args: readonly string[],
  opts: { env: NodeJS.ProcessEnv; input?: string },
): Promise<NthdRun> {
  // process.execPath is the pinned Node this suite runs on (npx node --test).
  const child = runFile(process.execPath, ["src/main.ts", ...args], {
    cwd: repo,
    maxBuffer: 64 * 1024 * 1024,
    env: opts.env,
  });
  if (opts.input !== undefined) child.child.stdin?.end(opts.input);
  try {
    const { stdout, stderr } = await child;
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

/**
 * A loopback TCP relay in front of a metadata emulator. The nthd process reads
 * INSTANCE_METADATA_URL once; pointing the relay at another emulator changes
 * what "IMDS" serves mid-run, and `hang` / `cut` make it fail the way a real
 * metadata service can (no answer, dropped connections). It only moves bytes:
 * every answer nthd reads comes from the emulator behind it. It also notes
 * request lines and response status lines, so a test can count polls instead
 * of sleeping.
 */
export interface ImdsRelay {
  readonly url: string;
  /** Forwards new connections to `targetUrl`; open ones are dropped so keep-alive pools reconnect. */
  point(targetUrl: string): void;
  /** Accepts connections and never answers (a hung metadata service). */
  hang(): void;
  /** Accepts connections and closes them at once. */
  cut(): void;
  /** "METHOD /path" of every request seen (forwarded or hung), in order. */
  readonly requests: string[];
  /** Status code of every forwarded response, in order. */
  readonly statuses: number[];
  /** How many requests for `path` (any method when omitted) were seen. */
  count(path: string, method?: string): number;
  close(): Promise<void>;
}

type RelayMode =
  | { kind: "forward"; host: string; port: number }
  | { kind: "hang" }
  | { kind: "cut" };

/**
 * Calls `onMatch` for each match of `pattern` (global) in what a socket reads.
 * Searching the stream, not splitting it into lines, because a response body
 * need not end with a newline: the next status line then follows it directly.
 */
function scan(socket: Socket, pattern: RegExp, onMatch: (m: RegExpExecArray) => void): void {
  let pending = "";
  socket.on("data", (d: Buffer) => {
    pending += d.toString("latin1");
    pattern.lastIndex = 0;
    let consumed = 0;
    for (let m = pattern.exec(pending); m !== null; m = pattern.exec(pending)) {
      onMatch(m);
      consumed = pattern.lastIndex;
    }
    // Keep a tail long enough to hold a match cut in two by the chunking.
    pending = pending.slice(Math.max(consumed, pending.length - 512));
  });
}

export async function startImdsRelay(targetUrl: string): Promise<ImdsRelay> {
  const toMode = (url: string): RelayMode => {
    const u = new URL(url);
    return { kind: "forward", host: u.hostname, port: Number(u.port) };
  };
  let mode: RelayMode = toMode(targetUrl);
  const open = new Set<Socket>();
  const requests: string[] = [];
  const statuses: number[] = [];
  const track = (s: Socket) => {
    open.add(s);
    s.on("close", () => open.delete(s));
    s.on("error", () => {}); // resets are expected when the relay switches
  };
  const server = createServer((client) => {
    track(client);
    if (mode.kind === "cut") {
      client.destroy();
      return;
    }
    scan(client, /([A-Z]{3,7}) (\/\S*) HTTP\/1\.[01]\r\n/g, (m) => {
      requests.push(`${m[1]} ${m[2]}`);
    });
    if (mode.kind === "hang") return; // read everything, answer nothing
    const upstream = connect(mode.port, mode.host);
    track(upstream);
    scan(upstream, /HTTP\/1\.[01] (\d{3}) /g, (m) => {
      statuses.push(Number(m[1]));
    });
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const switchTo = (next: RelayMode) => {
    mode = next;
    for (const s of open) s.destroy();
  };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    statuses,
    point: (url) => switchTo(toMode(url)),
    hang: () => switchTo({ kind: "hang" }),
    cut: () => switchTo({ kind: "cut" }),
    count: (path, method) =>
      requests.filter((r) => {
        const [m, p] = r.split(" ");
        return p === path && (method === undefined || m === method);
      }).length,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of open) s.destroy();
      await closed;
    },
  };
}

/**
 * Sum of the samples of metric `name` (Prometheus text format) whose labels
 * include all of `labels`; 0 when there is none.
 */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = new Map<string, string>();
    for (const pair of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      have.set(pair[1] as string, pair[2] as string);
    }
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) sum += Number(m[3]);
  }
  return sum;
}

/** GET /metrics from an nthd listening on 127.0.0.1:`port`. */
export async function scrapeMetrics(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, {
    signal: AbortSignal.timeout(5000),
  });
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return res.text();
}

/**
 * Starts the moto server through launcher.py (which fills in the Auto Scaling
 * lifecycle-action calls moto lacks) on 127.0.0.1 and a free port, and waits
 * until it answers. Used by the shared global setup and by tests that need a
 * moto of their own.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, motoPython } from "../peers.ts";
import { type RestartablePeer, startRestartable } from "../restartable.ts";

export interface MotoServer {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

// The moto venv and free ports come from the test ground's one place for
// peers, so the pinned moto version lives only in versions.sh.
export { freePort, motoPython } from "../peers.ts";

async function waitUntilUp(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`moto exited with code ${child.exitCode}`);
    try {
      const res = await fetch(`${url}/moto-api/lifecycle-actions`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`moto did not answer on ${url} within ${timeoutMs} ms`);
}

export async function startMoto(
  opts: { callLog?: string; env?: Record<string, string> } = {},
): Promise<MotoServer> {
  const python = motoPython();
  if (!existsSync(python)) {
    throw new Error(`moto is not installed at ${python}; run: npm run peers -- moto`);
  }
  const port = await freePort();
  const launcher = join(dirname(fileURLToPath(import.meta.url)), "launcher.py");
  const env = { ...process.env, ...opts.env };
  if (opts.callLog !== undefined) env.NTHD_MOTO_CALL_LOG = opts.callLog;
  const child = spawn(python, [launcher, String(port)], {
    env,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilUp(url, child, 30_000);
  } catch (err) {
    child.kill("SIGKILL");
    throw new Error(`${(err as Error).message}\n${stderr}`);
  }
  return {
    url,
    pid: child.pid ?? -1,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

/** Clears moto's state, including the lifecycle actions and recorded calls. */
export async function resetMoto(url: string): Promise<void> {
  const res = await fetch(`${url}/moto-api/reset`, { method: "POST" });
  if (!res.ok) throw new Error(`moto reset answered ${res.status}`);
}

export interface LifecycleAction {
  AutoScalingGroupName: string;
  LifecycleHookName: string;
  LifecycleTransition: string;
  HeartbeatTimeout: number;
  InstanceId: string;
  LifecycleActionToken: string;
  State: "Pending" | "Completed";
  Result?: "CONTINUE" | "ABANDON";
  Heartbeats: number;
}

export interface LifecycleCall {
  Operation: "CompleteLifecycleAction" | "RecordLifecycleActionHeartbeat";
  Time: string;
  AutoScalingGroupName?: string;
  LifecycleHookName?: string;
  LifecycleActionToken?: string;
  InstanceId?: string;
  LifecycleActionResult?: string;
  Outcome: "ok" | "error";
  ErrorCode?: string;
  ErrorMessage?: string;
}

/** Opens a lifecycle action, as Auto Scaling does when an instance enters a hook's wait state. */
export async function openLifecycleAction(
  url: string,
  action: {
    AutoScalingGroupName: string;
    LifecycleHookName: string;
    InstanceId: string;
    LifecycleActionToken?: string;
    Region?: string;
  },
): Promise<LifecycleAction> {
  const res = await fetch(`${url}/moto-api/lifecycle-actions`, {
    method: "POST",
    body: JSON.stringify(action),
  });
  const body = (await res.json()) as unknown;
  if (!res.ok) throw new Error(`opening lifecycle action: ${JSON.stringify(body)}`);
  return body as LifecycleAction;
}

export async function lifecycleState(
  url: string,
): Promise<{ actions: LifecycleAction[]; calls: LifecycleCall[] }> {
  const res = await fetch(`${url}/moto-api/lifecycle-actions`);
  if (!res.ok) throw new Error(`reading lifecycle actions answered ${res.status}`);
  return (await res.json()) as { actions: LifecycleAction[]; calls: LifecycleCall[] };
}

/** The lifecycle action opened with this token, as moto holds it now. */
export async function lifecycleActionOf(
  url: string,
  token: string,
): Promise<LifecycleAction | undefined> {
  return (await lifecycleState(url)).actions.find((a) => a.LifecycleActionToken === token);
}

/**
 * A moto of the test's own that can be frozen, killed and started again on
 * the same port (see restartable.ts). moto keeps its state in memory: a
 * restarted moto has no queues, instances or groups until the test makes them again.
 */
export async function startRestartableMoto(
  opts: { callLog?: string } = {},
): Promise<RestartablePeer & { readonly url: string; readonly logFile: string }> {
  const python = motoPython();
  if (!existsSync(python)) {
    throw new Error(`moto is not installed at ${python}; run: npm run peers -- moto`);
  }
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), "nthd-moto-"));
  const logFile = join(dir, "moto.log");
  const env = { ...process.env, ...(opts.callLog ? { NTHD_MOTO_CALL_LOG: opts.callLog } : {}) };
  const peer = await startRestartable({
    name: "moto (private)",
    command: python,
    args: [join(dirname(fileURLToPath(import.meta.url)), "launcher.py"), String(port)],
    env,
    logFile,
    ready: async () => (await fetch(`${url}/moto-api/lifecycle-actions`)).ok,
    readyTimeoutMs: 30_000,
  });
  return { ...peer, url, logFile };
}

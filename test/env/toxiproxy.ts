// TCP-level faults with Toxiproxy (built by install-peers.sh): a loopback
// proxy per peer that refuses connections, resets them, hangs them (accepts
// and never answers) or delays them, on command from the test. It moves
// bytes only, so it works in front of TLS (kube-apiserver) as well as plain
// HTTP (moto, the metadata emulator). HTTP-level faults (status codes per
// operation) are http-faults.ts.
import { type ChildProcess, spawn } from "node:child_process";
import { freePort, peerBinary, reapPids, stopPids } from "./peers.ts";

export interface TcpFaults {
  /** Where clients connect instead of the peer. */
  readonly port: number;
  readonly url: (scheme: "http" | "https") => string;
  /** Closes the listener: new connections are refused; open ones are dropped. */
  refuse(): Promise<void>;
  /** Every connection, open or new, is reset (RST) at once. */
  reset(): Promise<void>;
  /** Connections are accepted and nothing comes back (a frozen peer, a black hole). */
  hang(): Promise<void>;
  /** Every chunk in either direction is delayed by `ms`. */
  delay(ms: number): Promise<void>;
  /** Removes every fault: the peer is reachable again on the same port. */
  heal(): Promise<void>;
}

export interface Toxiproxy {
  /** A proxy to 127.0.0.1:`targetPort` on a port of its own. */
  proxy(name: string, targetPort: number): Promise<TcpFaults>;
  /** The end of what the server logged (connections, upstream failures), for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

export async function startToxiproxy(): Promise<Toxiproxy> {
  const apiPort = await freePort();
  const api = `http://127.0.0.1:${apiPort}`;
  const child: ChildProcess = spawn(
    peerBinary("toxiproxy-server"),
    ["-host", "127.0.0.1", "-port", String(apiPort)],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  // Never keep the test process alive on its own account.
  child.unref();
  process.once("exit", () => child.kill("SIGKILL"));
  (child.stderr as { unref?: () => void } | null)?.unref?.();
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-20_000);
  });
  const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${api}${path}`, {
      method,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(5000),
    });
    const text = await res.text();
    if (!res.ok && res.status !== 404)
      throw new Error(`toxiproxy ${method} ${path}: ${res.status} ${text}`);
    try {
      return text === "" ? undefined : JSON.parse(text);
    } catch {
      return text; // /version answers plain text
    }
  };
  const until = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`toxiproxy exited ${child.exitCode}: ${stderr}`);
    try {
      await call("GET", "/version");
      break;
    } catch (err) {
      if (Date.now() > until) {
        child.kill("SIGKILL");
        throw new Error(`toxiproxy did not start: ${String(err)} ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  return {
    async proxy(name, targetPort) {
      const created = (await call("POST", "/proxies", {
        name,
        listen: "127.0.0.1:0",
        upstream: `127.0.0.1:${targetPort}`,
        enabled: true,
      })) as { listen: string };
      const port = Number(created.listen.split(":").pop());
      const toxics = new Set<string>();
      const toxic = async (
        type: string,
        attributes: Record<string, number>,
        stream = "upstream",
      ) => {
        const toxicName = `${type}-${stream}`;
        await call("POST", `/proxies/${name}/toxics`, {
          name: toxicName,
          type,
          stream,
          attributes,
        });
        toxics.add(toxicName);
      };
      const heal = async () => {
        for (const t of toxics) await call("DELETE", `/proxies/${name}/toxics/${t}`);
        toxics.clear();
        await call("POST", `/proxies/${name}`, { enabled: true });
      };
      return {
        port,
        url: (scheme) => `${scheme}://127.0.0.1:${port}`,
        refuse: () => call("POST", `/proxies/${name}`, { enabled: false }).then(() => {}),
        async reset() {
          await heal();
          await toxic("reset_peer", { timeout: 0 });
        },
        async hang() {
          await heal();
          // timeout 0: data is held and the connection never closed.
          await toxic("timeout", { timeout: 0 });
        },
        async delay(ms) {
          await heal();
          await toxic("latency", { latency: ms, jitter: 0 }, "downstream");
          await toxic("latency", { latency: ms, jitter: 0 }, "upstream");
        },
        heal,
      };
    },
    log: () => stderr,
    async stop() {
      if (child.pid !== undefined && child.exitCode === null) {
        stopPids([child.pid]);
        await reapPids([child.pid], 3000);
      }
    },
  };
}

// Several real nthd processes in queue mode on one queue and API server,
// each as a replica of a Deployment would run: its own pod name (its
// Lease's), the namespace its Leases live in, the shared settings. Stopped
// the ways a cluster stops pods: SIGTERM (rolling update, scale-down) or
// SIGKILL (a lost node, the OOM killer).
import { ground } from "./ground.ts";
import { motoEnv } from "./moto/aws.ts";
import { type NthdProcess, startNthd } from "./nthd-process.ts";
import type { World } from "./replica-world.ts";

export interface FleetSettings {
  readonly leaseSeconds: number;
  /** NODE_TERMINATION_GRACE_PERIOD: the deadline of notices without their own. */
  readonly nodeGraceSeconds: number;
  readonly extraEnv?: Record<string, string>;
}

export interface Fleet {
  /** Starts a replica named `name` (its Lease is nthd-<name>). */
  start(name: string): NthdProcess;
  /** SIGTERM, and waits for it to exit. */
  stop(name: string): Promise<number | null>;
  /** SIGKILL: no hand-back, its Lease expires. */
  kill(name: string): Promise<void>;
  running(): string[];
  /** Every replica's output so far, for failure messages. */
  output(): string;
  stopAll(): Promise<void>;
}

/** The Lease (and record owner) name of a replica. */
export const leaseOf = (replica: string) => `nthd-${replica}`;

export function startFleet(world: World, settings: FleetSettings): Fleet {
  const procs = new Map<string, NthdProcess>();
  const past: string[] = [];
  const env = (name: string): Record<string, string> => ({
    ENABLE_SQS_TERMINATION_DRAINING: "true",
    QUEUE_URL: world.queueUrl,
    ...motoEnv(ground().motoUrl),
    KUBECONFIG: ground().kubeconfig,
    POD_NAME: name,
    NAMESPACE: world.namespace,
    NTHD_LEASE_DURATION_SECONDS: String(settings.leaseSeconds),
    NODE_TERMINATION_GRACE_PERIOD: String(settings.nodeGraceSeconds),
    CHECK_TAG_BEFORE_DRAINING: "false",
    EMIT_KUBERNETES_EVENTS: "true",
    // The default visibility timeout (20 s), not a short one: a stopped or
    // killed replica's long polls go on in SQS for up to 20 s and take
    // messages no one will see, each taking a receive; with 5 s they could
    // take the same message four times and send it to the dead-letter queue.
    LOG_LEVEL: "debug",
    ...settings.extraEnv,
  });
  const take = (name: string): NthdProcess => {
    const p = procs.get(name);
    if (p === undefined) throw new Error(`no replica ${name}`);
    procs.delete(name);
    return p;
  };
  const remember = (name: string, p: NthdProcess) =>
    past.push(`----- ${name} -----\n${p.output()}`);
  return {
    start(name) {
      if (procs.has(name)) throw new Error(`replica ${name} already runs`);
      const p = startNthd(env(name));
      procs.set(name, p);
      return p;
    },
    async stop(name) {
      const p = take(name);
      const code = await p.stop();
      remember(name, p);
      return code;
    },
    async kill(name) {
      const p = take(name);
      p.child.kill("SIGKILL");
      await p.exited();
      remember(name, p);
    },
    running: () => [...procs.keys()],
    output: () =>
      [...past, ...[...procs].map(([n, p]) => `----- ${n} -----\n${p.output()}`)].join("\n"),
    async stopAll() {
      await Promise.all([...procs.keys()].map((n) => this.stop(n)));
    },
  };
}

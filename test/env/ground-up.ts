// Starts and stops the whole test ground: etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler, kwok and moto, on 127.0.0.1.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { apiStatus, apiserverArgs, kubeconfigYaml } from "./apiserver.ts";
import {
  cacheDir,
  freePort,
  httpOk,
  isAlive,
  motoPython,
  peerBinary,
  pinnedVersions,
  type RunningPeer,
  reapPids,
  runScript,
  selfSignedOk,
  startPeer,
  stopPids,
  waitFor,
} from "./peers.ts";

export interface GroundState {
  readonly runDir: string;
  readonly kubeconfig: string;
  readonly apiserverUrl: string;
  readonly motoUrl: string;
  readonly motoCallLog: string;
  /**
   * The API server's audit log (JSON lines): every pods/eviction request
   * with its answer, so tests count accepted evictions as the server saw them.
   */
  readonly auditLog: string;
  readonly etcdUrl: string;
  readonly pids: Readonly<Record<string, number>>;
  readonly kubeVersion: string;
  /** The process that started the ground; while it lives, nobody else stops it. */
  readonly ownerPid?: number;
}

const repoRoot = join(new URL(".", import.meta.url).pathname, "..", "..");
const stateDir = join(repoRoot, ".nthd-ground");

/**
 * Where the running ground is described for test processes and the demo.
 * Each run sets NTHD_GROUND_STATE to a file of its own, so several runs on
 * one machine never stop each other's ground.
 */
export function stateFile(): string {
  return process.env.NTHD_GROUND_STATE ?? join(stateDir, "state.json");
}

const log = (message: string) => process.stderr.write(`[ground] ${message}\n`);

/**
 * Audit only what tests and benches count: evictions (the Eviction API is
 * the one way nthd removes a pod), with their answer, and every request of
 * the benches' handler identity (bench/lib/identity.ts), so a bench can say
 * what its API requests were. Everything else is left out so the log stays
 * small and the server fast.
 */
const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: Metadata
    verbs: ["create"]
    resources:
      - group: ""
        resources: ["pods/eviction"]
  - level: Metadata
    users: ["system:serviceaccount:nthd-bench-system:termination-handler"]
  - level: None
`;

/** Stops grounds left behind by interrupted runs (their owner process is gone). */
export async function stopStaleGround(): Promise<void> {
  if (!existsSync(stateDir)) return;
  for (const name of readdirSync(stateDir)) {
    const file = join(stateDir, name);
    try {
      const stale = JSON.parse(readFileSync(file, "utf8")) as GroundState;
      if (stale.ownerPid !== undefined && stale.ownerPid !== process.pid && isAlive(stale.ownerPid))
        continue;
      const pids = Object.values(stale.pids).filter(isAlive);
      if (pids.length > 0) {
        log(`stopping ${pids.length} processes left by an earlier run`);
        stopPids(pids);
        await reapPids(pids);
      }
      rmSync(stale.runDir, { recursive: true, force: true });
    } catch {
      // unreadable state: nothing we can stop
    }
    rmSync(file, { force: true });
  }
}

/** kwok's stage documents: fast node start-up and pod readiness, graceful pod deletion. */
function kwokStages(runDir: string): string {
  const stages = join(cacheDir(), `kwok-stages-${pinnedVersions().kwok}`);
  const files = [
    "node/fast/node-initialize.yaml",
    "node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
    "pod/fast/pod-ready.yaml",
    "pod/fast/pod-complete.yaml",
    // Deletes a pod after a delay bounded by its grace period, as a kubelet would.
    "pod/general/pod-delete.yaml",
  ];
  const body = files.map((f) => readFileSync(join(stages, f), "utf8").trim()).join("\n---\n");
  const path = join(runDir, "kwok-stages.yaml");
  writeFileSync(path, `${body}\n`);
  return path;
}

export async function startGround(): Promise<GroundState> {
  await stopStaleGround();
  runScript("install-peers.sh", ["moto", "aemm", "kwok", "etcd", "toxiproxy", "kube"]);
  const runDir = mkdtempSync(join(tmpdir(), "nthd-ground-"));
  const logDir = join(runDir, "logs");
  const pki = join(runDir, "pki");
  mkdirSync(logDir, { recursive: true });
  runScript("certs.sh", [pki]);
  const peers: RunningPeer[] = [];
  const pids = () => Object.fromEntries(peers.map((p) => [p.name, p.pid]));
  const writeState = (state: GroundState) => {
    mkdirSync(dirname(stateFile()), { recursive: true });
    writeFileSync(stateFile(), JSON.stringify({ ...state, ownerPid: process.pid }, null, 2));
  };
  const partial = {
    runDir,
    kubeconfig: "",
    apiserverUrl: "",
    motoUrl: "",
    motoCallLog: "",
    auditLog: "",
    etcdUrl: "",
  };
  try {
    // etcd
    const [etcdPort, etcdPeerPort] = [await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const etcd = startPeer(
      "etcd",
      peerBinary("etcd"),
      [
        `--data-dir=${join(runDir, "etcd")}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
        `--initial-cluster=default=http://127.0.0.1:${etcdPeerPort}`,
        "--unsafe-no-fsync",
        "--log-level=warn",
      ],
      logDir,
    );
    peers.push(etcd);
    writeState({ ...partial, etcdUrl, pids: pids(), kubeVersion: "" });

    // moto (with the lifecycle actions it lacks, when the launcher is present)
    const motoPort = await freePort();
    const motoUrl = `http://127.0.0.1:${motoPort}`;
    const motoCallLog = join(runDir, "moto-calls.jsonl");
    const launcher = join(repoRoot, "test", "env", "moto", "launcher.py");
    const motoArgs = existsSync(launcher)
      ? [launcher, "127.0.0.1", String(motoPort)]
      : ["-m", "moto.server", "-H", "127.0.0.1", "-p", String(motoPort)];
    const moto = startPeer("moto", motoPython(), motoArgs, logDir, {
      ...process.env,
      NTHD_MOTO_CALL_LOG: motoCallLog,
    });
    peers.push(moto);
    await waitFor(etcd, () => httpOk(`${etcdUrl}/health`));
    log("etcd ready");

    // kube-apiserver
    const apiPort = await freePort();
    const auditLog = join(runDir, "audit.jsonl");
    const auditPolicy = join(runDir, "audit-policy.yaml");
    writeFileSync(auditPolicy, AUDIT_POLICY);
    const apiserverUrl = `https://127.0.0.1:${apiPort}`;
    const apiserver = startPeer(
      "kube-apiserver",
      peerBinary("kube-apiserver"),
      [
        ...apiserverArgs({ etcdUrl, port: apiPort, pki, certDir: join(runDir, "apiserver-certs") }),
        `--audit-policy-file=${auditPolicy}`,
        `--audit-log-path=${auditLog}`,
        "--audit-log-format=json",
        // Written as each request completes, so a test reads what happened so far.
        "--audit-log-mode=blocking",
      ],
      logDir,
    );
    peers.push(apiserver);
    writeState({ ...partial, etcdUrl, pids: pids(), kubeVersion: "" });
    await waitFor(
      apiserver,
      async () => (await apiStatus(apiPort, "/readyz", pki)) === 200,
      120_000,
    );
    log(`kube-apiserver ready at ${apiserverUrl}`);
    const kubeconfig = join(runDir, "kubeconfig");
    writeFileSync(kubeconfig, kubeconfigYaml(apiserverUrl, pki), { mode: 0o600 });

    // controllers, scheduler, kwok
    const kcmPort = await freePort();
    const kcm = startPeer(
      "kube-controller-manager",
      peerBinary("kube-controller-manager"),
      [
        `--kubeconfig=${kubeconfig}`,
        "--bind-address=127.0.0.1",
        `--secure-port=${kcmPort}`,
        "--leader-elect=false",
        "--controllers=*",
        `--service-account-private-key-file=${join(pki, "sa.key")}`,
        `--root-ca-file=${join(pki, "ca.crt")}`,
        "--use-service-account-credentials=false",
        "--concurrent-deployment-syncs=20",
        "--concurrent-replicaset-syncs=20",
        "--kube-api-qps=500",
        "--kube-api-burst=1000",
      ],
      logDir,
    );
    peers.push(kcm);
    const schedulerPort = await freePort();
    const scheduler = startPeer(
      "kube-scheduler",
      peerBinary("kube-scheduler"),
      [
        `--kubeconfig=${kubeconfig}`,
        "--bind-address=127.0.0.1",
        `--secure-port=${schedulerPort}`,
        "--leader-elect=false",
        "--kube-api-qps=500",
        "--kube-api-burst=1000",
      ],
      logDir,
    );
    peers.push(scheduler);
    const kwokPort = await freePort();
    const kwok = startPeer(
      "kwok",
      peerBinary("kwok"),
      [
        `--kubeconfig=${kubeconfig}`,
        `--config=${kwokStages(runDir)}`,
        "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
        "--node-lease-duration-seconds=40",
        `--server-address=127.0.0.1:${kwokPort}`,
        "--node-ip=127.0.0.1",
      ],
      logDir,
    );
    peers.push(kwok);
    const state: GroundState = {
      runDir,
      kubeconfig,
      apiserverUrl,
      motoUrl,
      motoCallLog,
      auditLog,
      etcdUrl,
      pids: pids(),
      kubeVersion: pinnedVersions().kube ?? "",
    };
    writeState(state);
    await waitFor(kcm, () => selfSignedOk(`https://127.0.0.1:${kcmPort}/healthz`));
    await waitFor(scheduler, () => selfSignedOk(`https://127.0.0.1:${schedulerPort}/healthz`));
    await waitFor(kwok, () => httpOk(`http://127.0.0.1:${kwokPort}/healthz`));
    await waitFor(moto, () => httpOk(`${motoUrl}/moto-api/`));
    log("controllers, scheduler, kwok and moto ready");
    return state;
  } catch (err) {
    await stopGround({ runDir, pids: pids() });
    throw err;
  }
}

export async function stopGround(state: Pick<GroundState, "pids" | "runDir">): Promise<void> {
  // Stop dependants before etcd so nothing logs errors about a vanished store.
  const order = Object.entries(state.pids).sort(([a], [b]) =>
    a === "etcd" ? 1 : b === "etcd" ? -1 : 0,
  );
  const pids = order.map(([, pid]) => pid);
  stopPids(pids.filter((p) => p !== state.pids.etcd));
  await reapPids(pids.filter((p) => p !== state.pids.etcd));
  if (state.pids.etcd !== undefined) {
    stopPids([state.pids.etcd]);
    await reapPids([state.pids.etcd]);
  }
  if (process.env.NTHD_KEEP_GROUND_LOGS === undefined)
    rmSync(state.runDir, { recursive: true, force: true });
  rmSync(stateFile(), { force: true });
}

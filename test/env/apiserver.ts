// kube-apiserver on 127.0.0.1: its arguments (one list for the ground's own
// and for the private ones fault tests start), its kubeconfig and readiness,
// and a private API server a test may kill, freeze and restart without
// touching the ground's (the one kwok, the controllers and other tests use).
// A private one shares the ground's etcd and certificates, so it serves the
// same cluster: what nthd writes through it, the rest of the ground sees.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ground } from "./ground.ts";
import { freePort, peerBinary } from "./peers.ts";
import { type RestartablePeer, startRestartable } from "./restartable.ts";

export function apiserverArgs(o: {
  etcdUrl: string;
  port: number;
  pki: string;
  certDir: string;
}): string[] {
  const { etcdUrl, port, pki, certDir } = o;
  return [
    `--etcd-servers=${etcdUrl}`,
    "--bind-address=127.0.0.1",
    "--advertise-address=127.0.0.1",
    `--secure-port=${port}`,
    `--cert-dir=${certDir}`,
    `--tls-cert-file=${join(pki, "apiserver.crt")}`,
    `--tls-private-key-file=${join(pki, "apiserver.key")}`,
    `--client-ca-file=${join(pki, "ca.crt")}`,
    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
    `--service-account-key-file=${join(pki, "sa.pub")}`,
    `--service-account-signing-key-file=${join(pki, "sa.key")}`,
    "--authorization-mode=RBAC",
    "--service-cluster-ip-range=10.0.0.0/24",
    "--endpoint-reconciler-type=none",
    // Pods are created by tests in fresh namespaces before the controller
    // creates the default ServiceAccount; kwok pods mount nothing anyway.
    "--disable-admission-plugins=ServiceAccount",
    "--allow-privileged=true",
    "--profiling=false",
    "--max-requests-inflight=2000",
    "--max-mutating-requests-inflight=1000",
  ];
}

export function kubeconfigYaml(server: string, pki: string): string {
  const b64 = (file: string) => readFileSync(join(pki, file)).toString("base64");
  return `apiVersion: v1
kind: Config
clusters:
- name: nthd-test
  cluster:
    server: ${server}
    certificate-authority-data: ${b64("ca.crt")}
users:
- name: admin
  user:
    client-certificate-data: ${b64("admin.crt")}
    client-key-data: ${b64("admin.key")}
contexts:
- name: nthd-test
  context: { cluster: nthd-test, user: admin }
current-context: nthd-test
`;
}

/** GET on the apiserver with the admin certificate; resolves the status code. */
export function apiStatus(port: number, path: string, pki: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        ca: readFileSync(join(pki, "ca.crt")),
        cert: readFileSync(join(pki, "admin.crt")),
        key: readFileSync(join(pki, "admin.key")),
        timeout: 2000,
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.end();
  });
}

export interface PrivateApiServer extends RestartablePeer {
  readonly url: string;
  readonly port: number;
  /** A kubeconfig (admin) for this API server. */
  readonly kubeconfig: string;
  /** A kubeconfig (admin) for another address, e.g. a proxy in front of this one. */
  kubeconfigFor(server: string): string;
  /** The ground's certificates: TLS material for a proxy in front of it. */
  readonly pki: string;
  /** Stops it and removes its files. */
  close(): Promise<void>;
}

/** A kube-apiserver of the test's own on the ground's etcd (ready in 10-30 s). */
export async function startPrivateApiServer(): Promise<PrivateApiServer> {
  const g = ground();
  const pki = join(g.runDir, "pki");
  const dir = mkdtempSync(join(tmpdir(), "nthd-apiserver-"));
  const port = await freePort();
  const peer = await startRestartable({
    name: "kube-apiserver (private)",
    command: peerBinary("kube-apiserver"),
    args: apiserverArgs({ etcdUrl: g.etcdUrl, port, pki, certDir: join(dir, "certs") }),
    logFile: join(dir, "kube-apiserver.log"),
    ready: async () => (await apiStatus(port, "/readyz", pki)) === 200,
    readyTimeoutMs: 120_000,
  });
  const url = `https://127.0.0.1:${port}`;
  let n = 0;
  const kubeconfigFor = (server: string) => {
    const file = join(dir, `kubeconfig-${n++}`);
    writeFileSync(file, kubeconfigYaml(server, pki), { mode: 0o600 });
    return file;
  };
  return {
    ...peer,
    url,
    port,
    pki,
    kubeconfig: kubeconfigFor(url),
    kubeconfigFor,
    async close() {
      await peer.stop();
      if (process.env.NTHD_KEEP_GROUND_LOGS === undefined)
        rmSync(dir, { recursive: true, force: true });
    },
  };
}

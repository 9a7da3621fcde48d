// The identity the handler under test uses: a ServiceAccount token, as in a
// real cluster. Both nthd (through a kubeconfig) and NTH (through the
// in-cluster files it insists on) authenticate with the same token, so the
// API server's flow-control metrics for that ServiceAccount count exactly the
// requests the handler made (the ground's own components use an admin
// certificate and land in another flow schema).
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CoreV1Api, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import type { BenchGround } from "./ground.ts";
import { onCleanup } from "./ground.ts";

export const BENCH_NAMESPACE = "nthd-bench-system";
const SA_NAME = "termination-handler";

export interface HandlerIdentity {
  readonly token: string;
  /** A kubeconfig that authenticates with the token (for nthd). */
  readonly kubeconfig: string;
  readonly caFile: string;
}

export async function createHandlerIdentity(g: BenchGround, dir: string): Promise<HandlerIdentity> {
  const core = g.kc.makeApiClient(CoreV1Api);
  const rbac = g.kc.makeApiClient(RbacAuthorizationV1Api);
  await core.createNamespace({ body: { metadata: { name: BENCH_NAMESPACE } } });
  await core.createNamespacedServiceAccount({
    namespace: BENCH_NAMESPACE,
    body: { metadata: { name: SA_NAME } },
  });
  // Broad rights: the bench measures speed, not least privilege (the chart's
  // ClusterRole is checked by the integration tests).
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name: "nthd-bench-handler" },
      roleRef: {
        apiGroup: "rbac.authorization.k8s.io",
        kind: "ClusterRole",
        name: "cluster-admin",
      },
      subjects: [{ kind: "ServiceAccount", name: SA_NAME, namespace: BENCH_NAMESPACE }],
    },
  });
  const tr = await core.createNamespacedServiceAccountToken({
    name: SA_NAME,
    namespace: BENCH_NAMESPACE,
    body: { spec: { audiences: [], expirationSeconds: 6 * 3600 } },
  });
  const token = tr.status?.token;
  if (!token) throw new Error("TokenRequest returned no token");
  const caFile = join(g.pki, "ca.crt");
  const kubeconfig = join(dir, "handler.kubeconfig");
  const ca = readFileSync(caFile).toString("base64");
  writeFileSync(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters:
- name: ground
  cluster: { server: "${g.state.apiserverUrl}", certificate-authority-data: ${ca} }
users:
- name: handler
  user: { token: "${token}" }
contexts:
- name: ground
  context: { cluster: ground, user: handler }
current-context: ground
`,
    { mode: 0o600 },
  );
  return { token, kubeconfig, caFile };
}

/** Where client-go's in-cluster configuration reads its credentials (fixed path). */
export const IN_CLUSTER_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/**
 * NTH reads its Kubernetes credentials only in-cluster: the token and CA from
 * IN_CLUSTER_DIR and the address from KUBERNETES_SERVICE_HOST/PORT. Writes
 * those files for the run and removes them afterwards. Refuses when the
 * directory already exists (a real pod's credentials must not be replaced).
 */
export function installInClusterFiles(id: HandlerIdentity): void {
  if (existsSync(IN_CLUSTER_DIR)) {
    throw new Error(
      `${IN_CLUSTER_DIR} already exists; NTH would read those credentials instead of the bench's`,
    );
  }
  const created: string[] = [];
  // Remember the highest directory we create so cleanup removes only ours.
  for (const dir of ["/var/run/secrets", "/var/run/secrets/kubernetes.io", IN_CLUSTER_DIR]) {
    if (!existsSync(dir)) {
      mkdirSync(dir);
      created.push(dir);
    }
  }
  writeFileSync(join(IN_CLUSTER_DIR, "token"), id.token, { mode: 0o600 });
  writeFileSync(join(IN_CLUSTER_DIR, "ca.crt"), readFileSync(id.caFile));
  writeFileSync(join(IN_CLUSTER_DIR, "namespace"), BENCH_NAMESPACE);
  const top = created[0];
  onCleanup(() => {
    if (top !== undefined) rmSync(top, { recursive: true, force: true });
  });
}

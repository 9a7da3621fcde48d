// Renders the Helm chart with the ground's own helm binary and creates its RBAC
// objects (ServiceAccount, ClusterRole, ClusterRoleBinding, and in queue mode
// the Role and RoleBinding for the replicas' Leases) in the ground, so
// tests can act under exactly the identity the chart gives nthd: a kubeconfig
// with a bound token of the chart's ServiceAccount.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AuthenticationV1Api,
  CoreV1Api,
  KubeConfig,
  loadYaml,
  RbacAuthorizationV1Api,
  type V1ClusterRole,
  type V1ClusterRoleBinding,
  type V1Role,
  type V1RoleBinding,
  type V1ServiceAccount,
} from "@kubernetes/client-node";
import { kubeConfig, peerBinary } from "./ground.ts";

export const CHART_DIR = join(new URL(".", import.meta.url).pathname, "..", "..", "charts", "nthd");
/** The version helm renders for: the ground's apiserver minor (capabilities checks). */
export const CHART_KUBE_VERSION = "1.35.4";

export interface RenderedObject {
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
  readonly [field: string]: unknown;
}

/** `helm template` of the chart; throws with helm's stderr when rendering fails. */
export function renderChart(
  release: string,
  namespace: string,
  args: readonly string[] = [],
): RenderedObject[] {
  const run = spawnSync(
    peerBinary("helm"),
    [
      "template",
      release,
      CHART_DIR,
      "--namespace",
      namespace,
      "--kube-version",
      CHART_KUBE_VERSION,
      ...args,
    ],
    { encoding: "utf8" },
  );
  if (run.status !== 0) throw new Error(`helm template failed (${run.status}): ${run.stderr}`);
  return run.stdout
    .split(/^---\s*$/m)
    .filter((text) => /^kind:/m.test(text))
    .map((text) => JSON.parse(JSON.stringify(loadYaml(text))) as RenderedObject);
}

/** The one object of a kind the chart rendered (throws when there is none or several). */
export function renderedOne<T>(objects: readonly RenderedObject[], kind: string): T {
  const found = objects.filter((o) => o.kind === kind);
  if (found.length !== 1) throw new Error(`the chart rendered ${found.length} ${kind} objects`);
  return found[0] as T;
}

export interface ChartRbac {
  readonly serviceAccount: V1ServiceAccount;
  readonly clusterRole: V1ClusterRole;
  readonly clusterRoleBinding: V1ClusterRoleBinding;
  /** Queue mode: the Leases in the release namespace. */
  readonly role?: V1Role;
  readonly roleBinding?: V1RoleBinding;
}

/** The RBAC part of a rendering, as client-node objects. */
export function chartRbac(objects: readonly RenderedObject[]): ChartRbac {
  const namespaced = objects.some((o) => o.kind === "Role");
  return {
    serviceAccount: renderedOne<V1ServiceAccount>(objects, "ServiceAccount"),
    clusterRole: renderedOne<V1ClusterRole>(objects, "ClusterRole"),
    clusterRoleBinding: renderedOne<V1ClusterRoleBinding>(objects, "ClusterRoleBinding"),
    ...(namespaced
      ? {
          role: renderedOne<V1Role>(objects, "Role"),
          roleBinding: renderedOne<V1RoleBinding>(objects, "RoleBinding"),
        }
      : {}),
  };
}

/**
 * Creates the ServiceAccount (its namespace must exist), ClusterRole and
 * ClusterRoleBinding (and Role and RoleBinding, when rendered) as the
 * ground's admin. Returns a function deleting the two cluster-scoped objects
 * (the namespaced ones go with their namespace).
 */
export async function createChartRbac(
  rbac: ChartRbac,
  kc: KubeConfig = kubeConfig(),
): Promise<() => Promise<void>> {
  const namespace = rbac.serviceAccount.metadata?.namespace;
  if (!namespace) throw new Error("the rendered ServiceAccount has no namespace");
  const api = kc.makeApiClient(RbacAuthorizationV1Api);
  await kc
    .makeApiClient(CoreV1Api)
    .createNamespacedServiceAccount({ namespace, body: rbac.serviceAccount });
  await api.createClusterRole({ body: rbac.clusterRole });
  await api.createClusterRoleBinding({ body: rbac.clusterRoleBinding });
  if (rbac.role) await api.createNamespacedRole({ namespace, body: rbac.role });
  if (rbac.roleBinding) {
    await api.createNamespacedRoleBinding({ namespace, body: rbac.roleBinding });
  }
  return async () => {
    const bindingName = rbac.clusterRoleBinding.metadata?.name ?? "";
    const roleName = rbac.clusterRole.metadata?.name ?? "";
    await api.deleteClusterRoleBinding({ name: bindingName }).catch(() => undefined);
    await api.deleteClusterRole({ name: roleName }).catch(() => undefined);
  };
}

export interface ChartIdentity {
  /** The username the API server knows it by (system:serviceaccount:NS:NAME). */
  readonly user: string;
  /** A kubeconfig holding only a bound token of the chart's ServiceAccount. */
  readonly kubeconfig: string;
  /** Deletes the ClusterRole, ClusterRoleBinding and the kubeconfig. */
  cleanup(): Promise<void>;
}

/**
 * Renders the chart, creates its RBAC objects (the namespace must exist) and
 * writes a kubeconfig that authenticates as the chart's ServiceAccount with a
 * token from the TokenRequest API: server and CA come from the admin
 * kubeconfig, nothing else does. `editRole` changes the ClusterRole before it
 * is created (negative controls).
 */
export async function chartIdentity(
  release: string,
  namespace: string,
  helmArgs: readonly string[] = [],
  editRole?: (role: V1ClusterRole) => V1ClusterRole,
  kc: KubeConfig = kubeConfig(),
): Promise<ChartIdentity> {
  const rbac = chartRbac(renderChart(release, namespace, helmArgs));
  const clusterRole = editRole ? editRole(rbac.clusterRole) : rbac.clusterRole;
  const deleteRbac = await createChartRbac({ ...rbac, clusterRole }, kc);
  const name = rbac.serviceAccount.metadata?.name ?? "";
  try {
    const sa = await serviceAccountKubeconfig(namespace, name, kc);
    return {
      user: sa.user,
      kubeconfig: sa.kubeconfig,
      cleanup: async () => {
        await deleteRbac();
        sa.cleanup();
      },
    };
  } catch (err) {
    await deleteRbac();
    throw err;
  }
}

/**
 * A kubeconfig holding only a bound token (TokenRequest API) of an existing
 * ServiceAccount: server and CA come from the admin kubeconfig, nothing else
 * does, so a program using it acts exactly under that ServiceAccount's RBAC.
 */
export async function serviceAccountKubeconfig(
  namespace: string,
  name: string,
  kc: KubeConfig = kubeConfig(),
): Promise<{ user: string; kubeconfig: string; cleanup(): void }> {
  const dir = mkdtempSync(join(tmpdir(), "nthd-rbac-"));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  try {
    const minted = await kc.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
      name,
      namespace,
      body: { spec: { audiences: [], expirationSeconds: 3600 } },
    });
    const token = minted.status?.token;
    if (!token) throw new Error(`TokenRequest for ${namespace}/${name} returned no token`);
    const cluster = kc.getCurrentCluster();
    if (!cluster?.caData) throw new Error("the admin kubeconfig has no certificate-authority-data");
    const kubeconfig = join(dir, "kubeconfig");
    writeFileSync(
      kubeconfig,
      `apiVersion: v1
kind: Config
clusters:
- name: ground
  cluster:
    server: ${cluster.server}
    certificate-authority-data: ${cluster.caData}
users:
- name: ${name}
  user:
    token: ${token}
contexts:
- name: nthd
  context: { cluster: ground, user: ${name} }
current-context: nthd
`,
      { mode: 0o600 },
    );
    return { user: `system:serviceaccount:${namespace}:${name}`, kubeconfig, cleanup };
  } catch (err) {
    cleanup();
    throw err;
  }
}

/** Who the API server says a kubeconfig's user is (SelfSubjectReview). */
export async function whoAmI(kubeconfigPath: string): Promise<string | undefined> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const review = await kc
    .makeApiClient(AuthenticationV1Api)
    .createSelfSubjectReview({ body: { apiVersion: "authentication.k8s.io/v1" } });
  return review.status?.userInfo?.username;
}

/**
 * The calls RBAC refused, as "verb resource[.group]" (sorted, unique), read from
 * the API server's messages in a program's logs; quotes may arrive escaped once
 * or more (JSON logs quoting a response body).
 */
export function refusedCalls(output: string): string[] {
  const refusal = /cannot (\w+) resource \\*"([^"\\]+)\\*" in API group \\*"([^"\\]*)\\*"/g;
  const calls = [...output.matchAll(refusal)].map(
    ([, verb, resource, group]) => `${verb} ${resource}${group ? `.${group}` : ""}`,
  );
  return [...new Set(calls)].sort();
}

/**
 * Doctor's Kubernetes checks: RBAC allows every call nthd makes (one
 * SelfSubjectAccessReview each, so the answer is the apiserver's own) and
 * the nodes carry provider IDs nthd can map to instances.
 */
import { AuthorizationV1Api, CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import { instanceIdFromProviderId } from "../../aws-ids.ts";
import { type CheckResult, errored, fail, pass, warn } from "./check.ts";

export interface KubePermission {
  readonly group: string;
  readonly resource: string;
  readonly subresource?: string;
  readonly verb: string;
  /** Asked in this namespace only (the replicas' Leases); absent: cluster-wide. */
  readonly namespace?: string;
  /** What nthd uses it for, shown when it is missing. */
  readonly why: string;
}

/** Every Kubernetes call nthd makes (the Helm chart's ClusterRole grants exactly these). */
export const NTHD_PERMISSIONS: readonly KubePermission[] = [
  ...["get", "list", "watch", "patch"].map((verb) => ({
    group: "",
    resource: "nodes",
    verb,
    why: "find, cordon, taint and label nodes",
  })),
  ...["list", "watch"].map((verb) => ({
    group: "",
    resource: "pods",
    verb,
    why: "list the pods of a node being drained",
  })),
  {
    group: "",
    resource: "pods",
    subresource: "eviction",
    verb: "create",
    why: "evict pods (PodDisruptionBudgets hold)",
  },
  {
    group: "policy",
    resource: "poddisruptionbudgets",
    verb: "list",
    why: "plan drains around PodDisruptionBudgets",
  },
  { group: "", resource: "events", verb: "create", why: "record Kubernetes Events" },
];

/** Queue mode's replica Leases (the chart's Role grants exactly these, in the release namespace). */
export function leasePermissions(namespace: string): KubePermission[] {
  return ["get", "list", "watch", "create", "update", "delete"].map((verb) => ({
    group: "coordination.k8s.io",
    resource: "leases",
    verb,
    namespace,
    why: `hold and watch the replicas' Leases in namespace ${namespace}`,
  }));
}

export function permissionName(p: KubePermission): string {
  const resource = p.subresource ? `${p.resource}/${p.subresource}` : p.resource;
  return `${p.verb} ${p.group ? `${p.group}/` : ""}${resource}`;
}

export async function checkRbac(
  kc: KubeConfig,
  permissions = NTHD_PERMISSIONS,
): Promise<CheckResult> {
  const title = "RBAC allows every call nthd makes";
  const api = kc.makeApiClient(AuthorizationV1Api);
  const missing: KubePermission[] = [];
  try {
    for (const p of permissions) {
      const review = await api.createSelfSubjectAccessReview({
        body: {
          apiVersion: "authorization.k8s.io/v1",
          kind: "SelfSubjectAccessReview",
          spec: {
            resourceAttributes: {
              group: p.group,
              resource: p.resource,
              verb: p.verb,
              ...(p.subresource ? { subresource: p.subresource } : {}),
              ...(p.namespace ? { namespace: p.namespace } : {}),
            },
          },
        },
      });
      if (review.status?.allowed !== true) missing.push(p);
    }
  } catch (err) {
    return errored(
      "rbac",
      title,
      err,
      "check the kubeconfig / service account token",
      "SelfSubjectAccessReview failed",
    );
  }
  if (missing.length === 0) return pass("rbac", title, `${permissions.length} permissions allowed`);
  const names = missing.map(permissionName);
  return fail(
    "rbac",
    title,
    `denied: ${names.join(", ")} (${[...new Set(missing.map((m) => m.why))].join("; ")})`,
    "add the missing verbs to nthd's ClusterRole, and in queue mode its Role for leases (the Helm chart's rbac.create=true grants them all)",
  );
}

const PRIVATE_DNS = /^ip-\d+-\d+-\d+-\d+\.[a-z0-9.-]*(compute\.internal|ec2\.internal)$/;

/**
 * Nodes nthd can map: a provider ID `aws:///<zone>/<instance-id>`, or a
 * private DNS name (nthd then asks EC2). Others are never drained from
 * queue events; that is a warning, since such nodes may not be EC2 at all.
 */
export async function checkNodes(kc: KubeConfig): Promise<CheckResult> {
  const title = "nodes map to EC2 instances";
  try {
    const nodes = (await kc.makeApiClient(CoreV1Api).listNode({ limit: 5000 })).items;
    const unmapped = nodes.filter(
      (n) =>
        // The node index's own reading, so doctor passes exactly the nodes nthd maps.
        instanceIdFromProviderId(n.spec?.providerID) === undefined &&
        !PRIVATE_DNS.test(n.metadata?.name ?? ""),
    );
    if (unmapped.length === 0) return pass("nodes", title, `${nodes.length} nodes, all mappable`);
    const sample = unmapped
      .slice(0, 5)
      .map((n) => `${n.metadata?.name} (providerID ${JSON.stringify(n.spec?.providerID ?? "")})`);
    return warn(
      "nodes",
      title,
      `${unmapped.length} of ${nodes.length} nodes have no aws:///<zone>/<instance-id> provider ID nor a private DNS name: ${sample.join(", ")}`,
      "nodes not on EC2 are fine; EC2 nodes need the AWS cloud provider (or kubelet --provider-id)",
    );
  } catch (err) {
    return errored("nodes", title, err, "grant list on nodes");
  }
}

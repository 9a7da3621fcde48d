// Maps a kOps Cluster's spec.nodeTerminationHandler onto nthd chart values: the part of kOps'
// wiring that depends on the cluster (mode, queue URL, region, replicas, host networking unless
// IRSA, resources, the drain switches). The fixed part (kube-system, control-plane placement,
// system-cluster-critical, PDB maxUnavailable 1, kOps' environment) is values-kops.yaml.
// Pure: no I/O.

/** The kOps fields read here (kops.k8s.io/v1alpha2 NodeTerminationHandlerSpec). */
export interface KopsNthSpec {
  enabled?: boolean;
  enableSQSTerminationDraining?: boolean;
  enableSpotInterruptionDraining?: boolean;
  enableScheduledEventDraining?: boolean;
  enableRebalanceMonitoring?: boolean;
  enableRebalanceDraining?: boolean;
  enableOutOfServiceTaint?: boolean;
  prometheusEnable?: boolean;
  excludeFromLoadBalancers?: boolean;
  managedASGTag?: string;
  podTerminationGracePeriod?: number;
  taintNode?: boolean;
  deleteSQSMsgIfNodeNotFound?: boolean;
  cpuRequest?: string;
  memoryRequest?: string;
  memoryLimit?: string;
  version?: string;
  webhookURL?: string;
  webhookTemplate?: string;
}

export interface KopsCluster {
  metadata?: { name?: string };
  spec?: {
    nodeTerminationHandler?: KopsNthSpec;
    subnets?: { zone?: string; region?: string }[];
    etcdClusters?: { etcdMembers?: unknown[] }[];
    iam?: { useServiceAccountExternalPermissions?: boolean };
    serviceAccountIssuerDiscovery?: { enableAWSOIDCProvider?: boolean };
  };
}

export interface RenderOptions {
  /** AWS account id for the queue URL; a placeholder is written when absent. */
  accountId?: string;
  /** nthd image repository (the chart's default when absent). */
  imageRepository?: string;
  /** nthd image tag (the chart's appVersion when absent). */
  imageTag?: string;
}

export const ACCOUNT_PLACEHOLDER = "ACCOUNT_ID";
export const REGION_PLACEHOLDER = "REGION";

export type MapResult =
  | {
      ok: true;
      values: Record<string, unknown>;
      mode: "queue" | "imds";
      /** Fields of the spec that were read but not used, and why (for stderr). */
      notes: string[];
    }
  | { ok: false; reason: string };

/** kOps' own defaults for the fields above (nodeTerminationHandler in the cluster spec). */
const KOPS_DEFAULTS = {
  enabled: true,
  enableSQSTerminationDraining: true,
  enableSpotInterruptionDraining: true,
  enableScheduledEventDraining: true,
  enableRebalanceMonitoring: false,
  enableRebalanceDraining: false,
  enableOutOfServiceTaint: false,
  prometheusEnable: false,
  excludeFromLoadBalancers: true,
  managedASGTag: "aws-node-termination-handler/managed",
  podTerminationGracePeriod: -1,
  taintNode: false,
  deleteSQSMsgIfNodeNotFound: false,
  cpuRequest: "50m",
  memoryRequest: "64Mi",
} as const satisfies KopsNthSpec;

/** The region kOps derives from the first subnet (zone "eu-west-1a" -> "eu-west-1"). */
export function clusterRegion(cluster: KopsCluster): string | undefined {
  const subnet = cluster.spec?.subnets?.[0];
  if (subnet?.region) return subnet.region;
  const zone = subnet?.zone;
  return zone ? zone.replace(/[a-z]$/, "") : undefined;
}

/** kOps names the queue after the cluster with dots replaced by dashes. */
export function queueUrl(cluster: KopsCluster, opts: RenderOptions): string {
  const name = (cluster.metadata?.name ?? "CLUSTER_NAME").replaceAll(".", "-");
  const region = clusterRegion(cluster) ?? REGION_PLACEHOLDER;
  return `https://sqs.${region}.amazonaws.com/${opts.accountId ?? ACCOUNT_PLACEHOLDER}/${name}-nth`;
}

/** An HA control plane has more than one etcd member; kOps then runs two replicas. */
function isHaControlPlane(cluster: KopsCluster): boolean {
  return (cluster.spec?.etcdClusters?.[0]?.etcdMembers?.length ?? 1) > 1;
}

function usesIrsa(cluster: KopsCluster): boolean {
  return cluster.spec?.iam?.useServiceAccountExternalPermissions === true;
}

export function kopsValues(cluster: KopsCluster, opts: RenderOptions = {}): MapResult {
  const spec: KopsNthSpec = { ...KOPS_DEFAULTS, ...cluster.spec?.nodeTerminationHandler };
  if (spec.enabled === false) {
    return { ok: false, reason: "spec.nodeTerminationHandler.enabled is false: nothing to render" };
  }
  const queue = spec.enableSQSTerminationDraining === true;
  const notes: string[] = [];
  // kOps copies `version` into aws-node-termination-handler's image tag: it names an NTH
  // release (v1.25.x), which no nthd image has.
  if (spec.version) {
    notes.push(
      `spec.nodeTerminationHandler.version ${spec.version} names an aws-node-termination-handler release and is not used as nthd's image tag; pass --tag to choose one`,
    );
  }
  const resources = {
    requests: { cpu: spec.cpuRequest, memory: spec.memoryRequest },
    ...(spec.memoryLimit ? { limits: { memory: spec.memoryLimit } } : {}),
  };
  // Only what depends on the cluster spec; kOps' fixed wiring is in values-kops.yaml.
  const values: Record<string, unknown> = {
    image: {
      ...(opts.imageRepository ? { repository: opts.imageRepository } : {}),
      ...(opts.imageTag ? { tag: opts.imageTag } : {}),
    },
    resources,
    enablePrometheusServer: spec.prometheusEnable,
    enableRebalanceMonitoring: spec.enableRebalanceMonitoring,
    enableRebalanceDraining: spec.enableRebalanceDraining,
    enableOutOfServiceTaint: spec.enableOutOfServiceTaint,
    excludeFromLoadBalancers: spec.excludeFromLoadBalancers,
    podTerminationGracePeriod: spec.podTerminationGracePeriod,
    taintNode: spec.taintNode,
    ...(spec.webhookURL ? { webhookURL: spec.webhookURL } : {}),
    ...(spec.webhookTemplate ? { webhookTemplate: spec.webhookTemplate } : {}),
  };
  if (!queue) {
    Object.assign(values, {
      // values-kops.yaml's control-plane placement is the queue processor's: the DaemonSet
      // runs on every node (null drops it, so the chart's daemonset* placement applies).
      nodeSelector: null,
      tolerations: null,
      enableSqsTerminationDraining: false,
      enableSpotInterruptionDraining: spec.enableSpotInterruptionDraining,
      enableScheduledEventDraining: spec.enableScheduledEventDraining,
    });
    return { ok: true, values, mode: "imds", notes };
  }
  const irsa = usesIrsa(cluster);
  Object.assign(values, {
    enableSqsTerminationDraining: true,
    queueURL: queueUrl(cluster, opts),
    awsRegion: clusterRegion(cluster) ?? REGION_PLACEHOLDER,
    replicas: isHaControlPlane(cluster) ? 2 : 1,
    // Without IRSA the handler borrows the control-plane instance role through IMDS.
    deploymentHostNetwork: !irsa,
    // On the host network a pod's ports are host ports: a surge pod cannot land on the node
    // the old one holds, and a single control-plane node would stall every rollout
    // (replacing kOps' pod included). Replace pods one at a time instead.
    ...(irsa ? {} : { strategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } } }),
    managedTag: spec.managedASGTag,
    deleteSqsMsgIfNodeNotFound: spec.deleteSQSMsgIfNodeNotFound,
  });
  if (irsa) Object.assign(values, irsaValues(cluster, opts));
  return { ok: true, values, mode: "queue", notes };
}

/**
 * kOps' IRSA: the pod gets a projected token for audience amazonaws.com and the role
 * kOps creates, named <serviceaccount>.<namespace>.sa.<cluster>.
 */
function irsaValues(cluster: KopsCluster, opts: RenderOptions): Record<string, unknown> {
  const account = opts.accountId ?? ACCOUNT_PLACEHOLDER;
  // Check the name against the role kOps created (IAM console) if yours differs.
  const roleName = `aws-node-termination-handler.kube-system.sa.${cluster.metadata?.name ?? "CLUSTER_NAME"}`;
  const tokenDir = "/var/run/secrets/amazonaws.com";
  return {
    // With IRSA kOps no longer pins the handler to control-plane nodes; null removes
    // values-kops.yaml's placement (Helm drops a key set to null by a later values file).
    nodeSelector: null,
    tolerations: null,
    extraEnv: [
      { name: "AWS_ROLE_ARN", value: `arn:aws:iam::${account}:role/${roleName}` },
      { name: "AWS_WEB_IDENTITY_TOKEN_FILE", value: `${tokenDir}/token` },
    ],
    extraVolumes: [
      {
        name: "token-amazonaws-com",
        projected: {
          sources: [
            {
              serviceAccountToken: {
                audience: "amazonaws.com",
                expirationSeconds: 86400,
                path: "token",
              },
            },
          ],
        },
      },
    ],
    extraVolumeMounts: [{ name: "token-amazonaws-com", mountPath: tokenDir, readOnly: true }],
  };
}

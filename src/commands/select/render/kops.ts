/**
 * kOps InstanceGroup manifests (kops.k8s.io/v1alpha2), one document per
 * group, for `kops create -f`. Fields used (all from the v1alpha2
 * InstanceGroupSpec): role, machineType, minSize, maxSize, subnets,
 * capacityRebalance, mixedInstancesPolicy.{instances, onDemandBase, onDemandAboveBase,
 * spotAllocationStrategy}, cloudLabels, nodeLabels. kOps fills the rest
 * (image, root volume) from the cluster's channel when the group is created.
 */
import { groupTags, nodeLabels, type RenderContext, typeNames } from "./context.ts";
import { toYamlStream, type YamlValue } from "./yaml.ts";

export function renderKops(ctx: RenderContext): string {
  const o = ctx.options;
  const docs: YamlValue[] = ctx.plan.groups.map((group) => {
    const types = typeNames(group);
    return {
      apiVersion: "kops.k8s.io/v1alpha2",
      kind: "InstanceGroup",
      metadata: {
        name: group.name,
        labels: { "kops.k8s.io/cluster": o.clusterName },
      },
      spec: {
        role: "Node",
        machineType: types[0] ?? null,
        minSize: o.nodeCountMin,
        maxSize: o.nodeCountMax,
        subnets: o.subnets.length > 0 ? [...o.subnets] : undefined,
        // Auto Scaling replaces a Spot instance at a rebalance recommendation;
        // queue mode drains the old one through the termination lifecycle hook.
        capacityRebalance: o.usageClass === "spot" ? true : undefined,
        mixedInstancesPolicy: {
          instances: types,
          onDemandBase: o.onDemandBase,
          onDemandAboveBase: o.onDemandAboveBase,
          spotAllocationStrategy: o.usageClass === "spot" ? o.spotAllocationStrategy : undefined,
        },
        cloudLabels: groupTags(ctx),
        nodeLabels: { "kops.k8s.io/instancegroup": group.name, ...nodeLabels(ctx) },
      },
    };
  });
  return toYamlStream(docs);
}

/**
 * An eksctl ClusterConfig (eksctl.io/v1alpha5) with one self-managed node
 * group per group: self-managed groups take an instancesDistribution with a
 * Spot allocation strategy, and their Auto Scaling events are what nthd's
 * queue mode handles (managed node groups drain themselves).
 */
import { groupTags, nodeLabels, type RenderContext, typeNames } from "./context.ts";
import { toYaml } from "./yaml.ts";

export function renderEksctl(ctx: RenderContext): string {
  const o = ctx.options;
  return toYaml({
    apiVersion: "eksctl.io/v1alpha5",
    kind: "ClusterConfig",
    metadata: { name: o.clusterName, region: o.region },
    nodeGroups: ctx.plan.groups.map((group) => ({
      name: group.name,
      minSize: o.nodeCountMin,
      maxSize: o.nodeCountMax,
      availabilityZones:
        ctx.subnetIds.length === 0 && ctx.zones.length > 0 ? [...ctx.zones] : undefined,
      subnets: ctx.subnetIds.length > 0 ? [...ctx.subnetIds] : undefined,
      instancesDistribution: {
        instanceTypes: typeNames(group),
        onDemandBaseCapacity: o.onDemandBase,
        onDemandPercentageAboveBaseCapacity: o.onDemandAboveBase,
        spotAllocationStrategy: o.usageClass === "spot" ? o.spotAllocationStrategy : undefined,
      },
      capacityRebalance: o.usageClass === "spot",
      labels: nodeLabels(ctx),
      tags: groupTags(ctx),
      propagateASGTags: true,
    })),
  });
}

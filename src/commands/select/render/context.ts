/**
 * What every renderer gets, and the labels and tags they share, so the kOps,
 * Auto Scaling, CloudFormation and eksctl outputs mark nodes the same way.
 */
import type { SelectOptions } from "../options.ts";
import type { Plan, PlannedGroup } from "../plan.ts";

export interface RenderContext {
  readonly options: SelectOptions;
  readonly plan: Plan;
  /** Zones named by --subnets (kOps "utility-" prefixes removed), resolved from subnet ids too. */
  readonly zones: readonly string[];
  /** Subnet ids given in --subnets (subnet-...). */
  readonly subnetIds: readonly string[];
}

export type Renderer = (ctx: RenderContext) => string;

/**
 * Node label saying the capacity type. A widely used key that neither
 * Karpenter nor EKS owns, so it is safe on self-managed groups.
 */
export const CAPACITY_LABEL = "node.kubernetes.io/lifecycle";

export function nodeLabels(ctx: RenderContext): Record<string, string> {
  return { [CAPACITY_LABEL]: ctx.options.usageClass };
}

/**
 * Tags for the Auto Scaling group, propagated to its instances:
 * - the managed tag queue mode requires before it drains an instance;
 * - Cluster Autoscaler auto-discovery (`--node-group-auto-discovery=asg:tag=
 *   k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/<cluster>`,
 *   keys only) and the node-template label it needs to scale a group up
 *   from zero for pods that select the capacity label.
 */
export function groupTags(ctx: RenderContext): Record<string, string> {
  const o = ctx.options;
  const tags: Record<string, string> = { [o.managedTag]: "true" };
  if (o.clusterAutoscaler) {
    tags["k8s.io/cluster-autoscaler/enabled"] = "true";
    tags[`k8s.io/cluster-autoscaler/${o.clusterName}`] = "owned";
    tags[`k8s.io/cluster-autoscaler/node-template/label/${CAPACITY_LABEL}`] = o.usageClass;
  }
  return tags;
}

export function typeNames(group: PlannedGroup): string[] {
  return group.types.map((t) => t.name);
}

/** Auto Scaling's InstancesDistribution, shared by the asg and cloudformation outputs. */
export function instancesDistribution(ctx: RenderContext): Record<string, string | number> {
  const o = ctx.options;
  return {
    OnDemandBaseCapacity: o.onDemandBase,
    OnDemandPercentageAboveBaseCapacity: o.onDemandAboveBase,
    SpotAllocationStrategy: o.spotAllocationStrategy,
  };
}

/**
 * Auto Scaling CreateAutoScalingGroup inputs, one per group, as a JSON array:
 * `jq '.[0]' > g.json && aws autoscaling create-auto-scaling-group --cli-input-json file://g.json`.
 * Shape: https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_CreateAutoScalingGroup.html
 */
import { groupTags, instancesDistribution, type RenderContext, typeNames } from "./context.ts";

export function renderAsg(ctx: RenderContext): string {
  const o = ctx.options;
  const groups = ctx.plan.groups.map((group) => ({
    AutoScalingGroupName: group.name,
    MinSize: o.nodeCountMin,
    MaxSize: o.nodeCountMax,
    ...(ctx.subnetIds.length > 0
      ? { VPCZoneIdentifier: ctx.subnetIds.join(",") }
      : ctx.zones.length > 0
        ? { AvailabilityZones: [...ctx.zones] }
        : {}),
    MixedInstancesPolicy: {
      LaunchTemplate: {
        LaunchTemplateSpecification: { LaunchTemplateName: o.launchTemplate, Version: "$Latest" },
        Overrides: typeNames(group).map((InstanceType) => ({ InstanceType })),
      },
      InstancesDistribution: instancesDistribution(ctx),
    },
    CapacityRebalance: o.usageClass === "spot",
    Tags: Object.entries(groupTags(ctx)).map(([Key, Value]) => ({
      Key,
      Value,
      PropagateAtLaunch: true,
    })),
  }));
  return `${JSON.stringify(groups, null, 2)}\n`;
}

/**
 * A CloudFormation template with one AWS::AutoScaling::AutoScalingGroup per
 * group. The launch template and subnets are parameters: they belong to the
 * rest of the user's stack.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-autoscaling-autoscalinggroup.html
 */
import { groupTags, instancesDistribution, type RenderContext, typeNames } from "./context.ts";
import { toYaml } from "./yaml.ts";

/** "spot-a1" → "SpotA1": logical ids are alphanumeric. */
export function logicalId(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter((p) => p !== "")
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join("");
}

export function renderCloudFormation(ctx: RenderContext): string {
  const o = ctx.options;
  const resources: Record<string, unknown> = {};
  for (const group of ctx.plan.groups) {
    resources[`${logicalId(group.name)}AutoScalingGroup`] = {
      Type: "AWS::AutoScaling::AutoScalingGroup",
      Properties: {
        // CloudFormation types MinSize and MaxSize as strings.
        MinSize: String(o.nodeCountMin),
        MaxSize: String(o.nodeCountMax),
        VPCZoneIdentifier: { Ref: "Subnets" },
        CapacityRebalance: o.usageClass === "spot",
        MixedInstancesPolicy: {
          LaunchTemplate: {
            LaunchTemplateSpecification: {
              LaunchTemplateId: { Ref: "LaunchTemplateId" },
              Version: { Ref: "LaunchTemplateVersion" },
            },
            Overrides: typeNames(group).map((InstanceType) => ({ InstanceType })),
          },
          InstancesDistribution: instancesDistribution(ctx),
        },
        Tags: Object.entries(groupTags(ctx)).map(([Key, Value]) => ({
          Key,
          Value,
          PropagateAtLaunch: true,
        })),
      },
    };
  }
  const subnetDefault = ctx.subnetIds.length > 0 ? { Default: ctx.subnetIds.join(",") } : {};
  return toYaml({
    AWSTemplateFormatVersion: "2010-09-09",
    Description: `Instance groups ${ctx.plan.groups.map((g) => g.name).join(", ")} (nthd select)`,
    Parameters: {
      LaunchTemplateId: {
        Type: "String",
        Description: "Launch template the groups start instances from",
      },
      LaunchTemplateVersion: { Type: "String", Default: "$Latest" },
      Subnets: { Type: "List<AWS::EC2::Subnet::Id>", ...subnetDefault },
    },
    Resources: resources as Record<string, never>,
  });
}

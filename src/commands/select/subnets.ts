/**
 * --subnets accepts what kOps users write (zone names, "utility-<zone>"
 * subnet names) and what Auto Scaling needs (subnet ids). Pure split; subnet
 * ids are resolved to zones by the AWS reader.
 */
export interface SubnetSpec {
  readonly zones: readonly string[];
  readonly subnetIds: readonly string[];
}

export function splitSubnets(subnets: readonly string[]): SubnetSpec {
  const zones: string[] = [];
  const subnetIds: string[] = [];
  for (const s of subnets) {
    if (/^subnet-[0-9a-f]+$/.test(s)) subnetIds.push(s);
    else {
      const zone = s.replace(/^utility-/, "");
      if (!zones.includes(zone)) zones.push(zone);
    }
  }
  return { zones, subnetIds };
}

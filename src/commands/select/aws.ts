/**
 * Everything `nthd select` reads from EC2. Only reads: Describe* and
 * GetSpotPlacementScores. The optional calls (Spot prices, placement scores)
 * degrade to a note when the endpoint lacks them, so the selection still works
 * on AWS-compatible servers and in regions without those APIs.
 */
import {
  DescribeSpotPriceHistoryCommand,
  DescribeSubnetsCommand,
  type EC2Client,
  GetSpotPlacementScoresCommand,
  paginateDescribeInstanceTypeOfferings,
  paginateDescribeInstanceTypes,
} from "@aws-sdk/client-ec2";
import { errorMessage, NthdError } from "../../errors.ts";
import { fromDescribe, type InstanceTypeRecord } from "./records.ts";

/** First line of an SDK error, with the HTTP status when there was one: fit for a one-line note. */
function brief(err: unknown): string {
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const line = (errorMessage(err).split("\n")[0] ?? "").slice(0, 120);
  return status !== undefined ? `HTTP ${status}: ${line}` : line;
}

export async function readInstanceTypes(ec2: EC2Client): Promise<InstanceTypeRecord[]> {
  const records: InstanceTypeRecord[] = [];
  try {
    for await (const page of paginateDescribeInstanceTypes({ client: ec2, pageSize: 100 }, {})) {
      for (const info of page.InstanceTypes ?? []) {
        const r = fromDescribe(info);
        if (r !== undefined) records.push(r);
      }
    }
  } catch (err) {
    throw new NthdError("AWS_API", `describing instance types: ${errorMessage(err)}`, {
      cause: err,
    });
  }
  return records;
}

/** Instance type → zones it is offered in, for the given zones only. */
export async function readOfferings(
  ec2: EC2Client,
  zones: readonly string[],
): Promise<Map<string, Set<string>>> {
  const offered = new Map<string, Set<string>>();
  try {
    const input = {
      LocationType: "availability-zone" as const,
      Filters: [{ Name: "location", Values: [...zones] }],
    };
    for await (const page of paginateDescribeInstanceTypeOfferings({ client: ec2 }, input)) {
      for (const o of page.InstanceTypeOfferings ?? []) {
        if (o.InstanceType === undefined || o.Location === undefined) continue;
        const set = offered.get(o.InstanceType) ?? new Set<string>();
        set.add(o.Location);
        offered.set(o.InstanceType, set);
      }
    }
  } catch (err) {
    throw new NthdError("AWS_API", `describing instance type offerings: ${errorMessage(err)}`, {
      cause: err,
    });
  }
  return offered;
}

export async function zonesOfSubnets(
  ec2: EC2Client,
  subnetIds: readonly string[],
): Promise<string[]> {
  try {
    const out = await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [...subnetIds] }));
    return [
      ...new Set(
        (out.Subnets ?? []).flatMap((s) => (s.AvailabilityZone ? [s.AvailabilityZone] : [])),
      ),
    ];
  } catch (err) {
    throw new NthdError(
      "AWS_API",
      `describing subnets ${subnetIds.join(", ")}: ${errorMessage(err)}`,
      {
        cause: err,
      },
    );
  }
}

/**
 * Latest Linux Spot price per vCPU-hour for each type, averaged over the
 * zones that report one. Undefined (with the reason) when the API fails.
 */
export async function readSpotPricePerVcpu(
  ec2: EC2Client,
  types: readonly InstanceTypeRecord[],
  zones: readonly string[],
): Promise<{ prices?: Map<string, number>; note?: string }> {
  const vcpus = new Map(types.map((t) => [t.name, t.vcpus]));
  const latest = new Map<string, { at: number; price: number }>();
  try {
    const names = [...vcpus.keys()];
    // The API takes a bounded list of types per call; batches keep requests small.
    for (let i = 0; i < names.length; i += 100) {
      let token: string | undefined;
      do {
        const out = await ec2.send(
          new DescribeSpotPriceHistoryCommand({
            InstanceTypes: names.slice(i, i + 100) as never[],
            ProductDescriptions: ["Linux/UNIX", "Linux/UNIX (Amazon VPC)"],
            StartTime: new Date(),
            NextToken: token,
          }),
        );
        for (const p of out.SpotPriceHistory ?? []) {
          if (!p.InstanceType || !p.AvailabilityZone || p.SpotPrice === undefined) continue;
          if (zones.length > 0 && !zones.includes(p.AvailabilityZone)) continue;
          const key = `${p.InstanceType} ${p.AvailabilityZone}`;
          const at = p.Timestamp?.getTime() ?? 0;
          const price = Number(p.SpotPrice);
          if (Number.isFinite(price) && (latest.get(key)?.at ?? -1) < at)
            latest.set(key, { at, price });
        }
        token = out.NextToken || undefined;
      } while (token !== undefined);
    }
  } catch (err) {
    return {
      note: `Spot prices unavailable (${brief(err)}); ranking without them`,
    };
  }
  const sums = new Map<string, { total: number; n: number }>();
  for (const [key, { price }] of latest) {
    const type = key.slice(0, key.indexOf(" "));
    const s = sums.get(type) ?? { total: 0, n: 0 };
    sums.set(type, { total: s.total + price, n: s.n + 1 });
  }
  const prices = new Map<string, number>();
  for (const [type, { total, n }] of sums) prices.set(type, total / n / (vcpus.get(type) ?? 1));
  return { prices };
}

/** Spot placement score (1-10) of a whole group in the region, or a note why not. */
export async function readPlacementScore(
  ec2: EC2Client,
  region: string,
  types: readonly string[],
  targetCapacity: number,
): Promise<{ score?: number; note?: string }> {
  try {
    const out = await ec2.send(
      new GetSpotPlacementScoresCommand({
        InstanceTypes: [...types],
        TargetCapacity: Math.max(1, targetCapacity),
        RegionNames: [region],
      }),
    );
    const score = out.SpotPlacementScores?.find((s) => s.Region === region)?.Score;
    return score === undefined ? { note: "no placement score returned" } : { score };
  } catch (err) {
    return { note: `Spot placement scores unavailable (${brief(err)})` };
  }
}

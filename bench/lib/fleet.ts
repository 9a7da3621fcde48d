// A fleet for queue-mode scenarios: moto instances with kwok nodes named by
// their private DNS name (as on EKS) and carrying their provider ID, plus
// spare nodes that take the replacement pods once the fleet is cordoned.
import type { EC2Client } from "@aws-sdk/client-ec2";
import { type BenchInstance, launchInstances } from "./aws.ts";
import { createNodes } from "./cluster.ts";
import type { BenchGround } from "./ground.ts";

export async function createInstanceNodes(
  g: BenchGround,
  ec2: EC2Client,
  pool: string,
  count: number,
  maxPods: number,
): Promise<BenchInstance[]> {
  const instances = await launchInstances(ec2, count);
  await createNodes(
    g,
    pool,
    instances.map((i) => ({
      name: i.privateDnsName,
      instanceId: i.instanceId,
      zone: i.zone,
      maxPods,
    })),
  );
  return instances;
}

/** Nodes no notice targets (their instance ids are unknown to EC2). */
export async function createSpareNodes(
  g: BenchGround,
  pool: string,
  count: number,
  maxPods: number,
): Promise<string[]> {
  const names = Array.from({ length: count }, (_, i) => `spare-${pool}-${i}`);
  await createNodes(
    g,
    pool,
    names.map((name) => ({ name, instanceId: g.helpers.randomInstanceId(), maxPods })),
  );
  return names;
}

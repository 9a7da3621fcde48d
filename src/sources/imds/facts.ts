/**
 * What IMDS mode learns about its own instance at start-up. The instance id
 * is required (every notice carries it); the rest only enriches notice
 * detail, webhooks and logs, so its absence never stops start-up.
 */
import { isInstanceId } from "../../aws-ids.ts";
import { errorMessage, isNthdError, NthdError } from "../../errors.ts";
import { type MetadataReader, UNREACHABLE_HINT } from "./client.ts";

export interface InstanceFacts {
  readonly instanceId: string;
  readonly instanceType?: string;
  readonly availabilityZone?: string;
  readonly region?: string;
}

/**
 * Reads the instance id and the optional facts. Throws NthdError
 * IMDS_UNREACHABLE (with the usual cause and fix) when IMDS does not answer.
 */
export async function readInstanceFacts(
  client: MetadataReader,
  signal?: AbortSignal,
): Promise<InstanceFacts> {
  let instanceId: string;
  try {
    const answer = await client.get("/latest/meta-data/instance-id", signal);
    if (!answer.found) {
      throw new NthdError(
        "IMDS_BAD_RESPONSE",
        `instance metadata has no instance-id (status ${answer.status}): is this an EC2 instance?`,
      );
    }
    instanceId = answer.body.trim();
  } catch (err) {
    if (isNthdError(err, "IMDS_UNREACHABLE") || !isNthdError(err)) {
      const message = errorMessage(err);
      throw new NthdError(
        "IMDS_UNREACHABLE",
        message.includes(UNREACHABLE_HINT)
          ? `no instance identity from IMDS yet: ${message}`
          : `no instance identity from IMDS yet: ${message}. ${UNREACHABLE_HINT}`,
        { cause: err },
      );
    }
    throw err;
  }
  if (!isInstanceId(instanceId)) {
    throw new NthdError(
      "IMDS_BAD_RESPONSE",
      `instance metadata instance-id is not an instance id: ${JSON.stringify(instanceId.slice(0, 40))}`,
    );
  }

  const [instanceType, availabilityZone, region] = await Promise.all([
    optional(client, "/latest/meta-data/instance-type", signal),
    optional(client, "/latest/meta-data/placement/availability-zone", signal),
    optional(client, "/latest/meta-data/placement/region", signal),
  ]);
  const regionName = region ?? regionOfZone(availabilityZone);
  return {
    instanceId,
    ...(instanceType ? { instanceType } : {}),
    ...(availabilityZone ? { availabilityZone } : {}),
    ...(regionName ? { region: regionName } : {}),
  };
}

async function optional(
  client: MetadataReader,
  path: string,
  signal: AbortSignal | undefined,
): Promise<string | undefined> {
  try {
    const answer = await client.get(path, signal);
    const value = answer.found ? answer.body.trim() : "";
    // Plain short values only; an HTML page or a blob is not a fact.
    return value !== "" && value.length <= 64 && /^[\w.:-]+$/.test(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** "us-east-1a" → "us-east-1" for IMDS versions without placement/region. */
export function regionOfZone(zone: string | undefined): string | undefined {
  const m = zone ? /^([a-z]{2}(?:-[a-z]+)+-\d+)[a-z]$/.exec(zone) : null;
  return m?.[1];
}

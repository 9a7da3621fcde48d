/**
 * What setup wants (DesiredState, computed from the options) and what it
 * found (ObservedState, read from AWS). The planner compares the two; both
 * are plain data so the planner is tested without I/O.
 */
import { deadLetterQueueName, GROUP_ADDED_TAG, hookName, OWNER_TAG, queueName } from "./names.ts";
import { queuePolicy } from "./policy.ts";
import { desiredRules, type RuleSpec } from "./rules.ts";

export interface SetupOptions {
  readonly cluster: string;
  readonly rebalance: boolean;
  readonly deadLetterQueue: boolean;
  /** Auto Scaling groups that get the terminate hook and the managed tag. */
  readonly groups: readonly string[];
  readonly managedTag: string;
  readonly heartbeatTimeoutSeconds: number;
}

/** Messages older than this are useless: the instance is gone (kOps uses the same). */
export const RETENTION_SECONDS = 300;
/** Long enough to inspect what nthd could not parse. */
export const DLQ_RETENTION_SECONDS = 1_209_600;
export const MAX_RECEIVE_COUNT = 5;

export interface QueueSpec {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
}

export interface GroupSpec {
  readonly name: string;
  readonly hookName: string;
  readonly heartbeatTimeoutSeconds: number;
  readonly managedTag: string;
}

export interface DesiredState {
  readonly cluster: string;
  readonly ownerTags: Readonly<Record<string, string>>;
  readonly queue: QueueSpec;
  readonly deadLetterQueue?: QueueSpec;
  readonly rules: readonly RuleSpec[];
  readonly groups: readonly GroupSpec[];
}

/**
 * ARNs are known once the queues exist. Until then the policy and the
 * redrive policy that name them are left out; the next pass adds them.
 */
export interface QueueArns {
  readonly queue?: string;
  readonly deadLetterQueue?: string;
}

export function desiredState(options: SetupOptions, arns: QueueArns): DesiredState {
  const cluster = options.cluster;
  const redrive: Record<string, string> =
    options.deadLetterQueue && arns.deadLetterQueue !== undefined
      ? {
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: arns.deadLetterQueue,
            maxReceiveCount: MAX_RECEIVE_COUNT,
          }),
        }
      : {};
  return {
    cluster,
    ownerTags: { [OWNER_TAG]: cluster },
    queue: {
      name: queueName(cluster),
      attributes: {
        MessageRetentionPeriod: String(RETENTION_SECONDS),
        SqsManagedSseEnabled: "true",
        ...(arns.queue !== undefined ? { Policy: JSON.stringify(queuePolicy(arns.queue)) } : {}),
        ...redrive,
      },
    },
    ...(options.deadLetterQueue
      ? {
          deadLetterQueue: {
            name: deadLetterQueueName(cluster),
            attributes: {
              MessageRetentionPeriod: String(DLQ_RETENTION_SECONDS),
              SqsManagedSseEnabled: "true",
            },
          },
        }
      : {}),
    rules: desiredRules(cluster, { rebalance: options.rebalance }),
    groups: options.groups.map((name) => ({
      name,
      hookName: hookName(name),
      heartbeatTimeoutSeconds: options.heartbeatTimeoutSeconds,
      managedTag: options.managedTag,
    })),
  };
}

export interface ObservedQueue {
  readonly name: string;
  readonly url: string;
  readonly arn: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly tags: Readonly<Record<string, string>>;
}

export interface ObservedRule {
  readonly name: string;
  readonly pattern?: string;
  readonly state?: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly targets: readonly { readonly id: string; readonly arn: string }[];
}

export interface ObservedHook {
  readonly name: string;
  readonly transition?: string;
  readonly heartbeatTimeoutSeconds?: number;
  readonly defaultResult?: string;
}

export interface ObservedGroup {
  readonly name: string;
  readonly tags: Readonly<Record<string, { value: string; propagateAtLaunch: boolean }>>;
  readonly hooks: readonly ObservedHook[];
}

export interface ObservedState {
  readonly queue?: ObservedQueue;
  readonly deadLetterQueue?: ObservedQueue;
  readonly rules: readonly ObservedRule[];
  readonly groups: readonly ObservedGroup[];
  /** Groups named on the command line that do not exist. */
  readonly missingGroups: readonly string[];
}

export function ownedBy(tags: Readonly<Record<string, string>>, cluster: string): boolean {
  return tags[OWNER_TAG] === cluster;
}

export function groupOwnedBy(group: ObservedGroup, cluster: string): boolean {
  return group.tags[OWNER_TAG]?.value === cluster;
}

export function groupAdded(group: ObservedGroup): string | undefined {
  return group.tags[GROUP_ADDED_TAG]?.value;
}

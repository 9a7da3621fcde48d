/**
 * Names and ownership tags of everything `nthd setup` manages, derived from
 * the cluster name the way kOps derives them, so setup adopts an existing
 * kOps installation instead of creating duplicates: queue
 * `<cluster, dots as dashes>-nth`, rules `<cluster>-<Event>`, hooks
 * `<group>-NTHLifecycleHook`.
 */
import { NthdError } from "../../errors.ts";

/** Every resource setup creates carries this tag (value: the cluster name). */
export const OWNER_TAG = "nthd.io/cluster";
/**
 * Lifecycle hooks cannot be tagged, so on each Auto Scaling group setup
 * records what it added there (space-separated words from GROUP_ADDITIONS).
 */
export const GROUP_ADDED_TAG = "nthd.io/added";
/** The key of the managed tag setup added, so teardown removes that tag and no other. */
export const MANAGED_TAG_KEY_TAG = "nthd.io/managed-tag-key";
export const GROUP_ADDITIONS = ["lifecycle-hook", "managed-tag"] as const;
export type GroupAddition = (typeof GROUP_ADDITIONS)[number];

export const DEFAULT_MANAGED_TAG = "aws-node-termination-handler/managed";
export const HOOK_TRANSITION = "autoscaling:EC2_INSTANCE_TERMINATING";

// EventBridge rule names: 1..64 of [.-_A-Za-z0-9]; the longest suffix is
// "-CapacityReservationInterruption" (32 characters).
const CLUSTER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const MAX_CLUSTER_NAME = 32;

export function validateClusterName(cluster: string): string {
  if (!CLUSTER_NAME.test(cluster) || cluster.length > MAX_CLUSTER_NAME) {
    throw new NthdError(
      "USAGE",
      `--cluster-name ${JSON.stringify(cluster)}: use 1..${MAX_CLUSTER_NAME} letters, digits, dots, dashes or underscores (it names the queue and the EventBridge rules)`,
    );
  }
  return cluster;
}

export function queueName(cluster: string): string {
  return `${cluster.replaceAll(".", "-")}-nth`;
}

export function deadLetterQueueName(cluster: string): string {
  return `${queueName(cluster)}-dlq`;
}

export function ruleName(cluster: string, event: string): string {
  return `${cluster}-${event}`;
}

export function hookName(group: string): string {
  return `${group}-NTHLifecycleHook`;
}

/** The target id setup gives the queue on each rule. */
export const RULE_TARGET_ID = "nthd-queue";

/** Parses the GROUP_ADDED_TAG value; unknown words are dropped. */
export function parseAdded(value: string | undefined): Set<GroupAddition> {
  const words = (value ?? "").split(/\s+/);
  return new Set(GROUP_ADDITIONS.filter((a) => words.includes(a)));
}

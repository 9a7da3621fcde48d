/**
 * Instance → node. First the Node informer's index on spec.providerID
 * (`aws:///<az>/<instance-id>`, no API call); for clusters whose nodes are
 * named by private DNS and carry no usable provider ID, EC2's private DNS name
 * of the instance (batched DescribeInstances) is matched against node names.
 * Also the managed-tag check (NTH's CHECK_TAG_BEFORE_DRAINING / MANAGED_TAG).
 */
import type { V1Node } from "@kubernetes/client-node";
import { sleep } from "../../async/sleep.ts";
import type { Config } from "../../config/index.ts";
import { errorMessage } from "../../errors.ts";
import type { NoticeTarget } from "./disposition.ts";
import { isAwsOutage } from "./health-gate.ts";
import type { InstanceDirectory, InstanceFacts } from "./instances.ts";

/** What queue mode needs from the cluster's Node informer. */
export interface NodeLookup {
  /** Name of the node whose spec.providerID names this instance. */
  nodeForInstance(instanceId: string): string | undefined;
  /** Whether a node of this name exists. */
  hasNode(name: string): boolean;
  /** Whether the node's Ready condition is True. */
  isReady(name: string): boolean;
}

/** The Node informer's index (src/kube/node-index.ts) seen as a NodeLookup. */
export function nodeLookupFrom(index: {
  byInstanceId(instanceId: string): V1Node | undefined;
  byName(name: string): V1Node | undefined;
}): NodeLookup {
  return {
    nodeForInstance: (instanceId) => index.byInstanceId(instanceId)?.metadata?.name,
    hasNode: (name) => index.byName(name) !== undefined,
    isReady: (name) =>
      index
        .byName(name)
        ?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false,
  };
}

type ResolveConfig = Pick<Config, "checkTagBeforeDraining" | "managedTag">;

export async function resolveTarget(
  instanceId: string,
  nodes: NodeLookup,
  instances: InstanceDirectory,
  config: ResolveConfig,
): Promise<NoticeTarget> {
  let nodeName = nodes.nodeForInstance(instanceId);
  let facts: InstanceFacts | undefined;
  if (nodeName === undefined || config.checkTagBeforeDraining) {
    try {
      facts = await instances.lookup(instanceId);
    } catch (err) {
      return {
        kind: "error",
        reason: "aws-api-error",
        message: `DescribeInstances: ${errorMessage(err)}`,
        outage: isAwsOutage(err),
      };
    }
  }
  nodeName ??= nodeByPrivateDns(facts, nodes);
  if (nodeName === undefined) {
    // An instance EC2 does not know, or (when the tag check is on) one without the tag, is not ours.
    const managed =
      facts !== undefined && (!config.checkTagBeforeDraining || facts.tags.has(config.managedTag));
    return { kind: "not-in-cluster", managed, launchedAtMs: facts?.launchedAtMs };
  }
  // An instance EC2 does not know carries no tag either.
  if (config.checkTagBeforeDraining && !facts?.tags.has(config.managedTag)) {
    return { kind: "not-managed" };
  }
  return { kind: "node", nodeName };
}

function nodeByPrivateDns(facts: InstanceFacts | undefined, nodes: NodeLookup): string | undefined {
  const dns = facts?.privateDnsName;
  return dns !== undefined && nodes.hasNode(dns) ? dns : undefined;
}

/**
 * Waits until the instance's node exists and is Ready (a launch hook's
 * condition for CONTINUE), or only exists with `ready: false` (a node that
 * registers while its instance is already being terminated). Undefined when
 * `timeoutMs` passes or `signal` aborts. Polls the informer's cache, so
 * waiting costs no API calls (DNS fallback aside).
 */
export async function waitForReadyNode(
  instanceId: string,
  nodes: NodeLookup,
  instances: InstanceDirectory,
  opts: { timeoutMs: number; pollMs?: number; signal: AbortSignal; ready?: boolean },
): Promise<string | undefined> {
  const until = Date.now() + opts.timeoutMs;
  for (;;) {
    let name = nodes.nodeForInstance(instanceId);
    if (name === undefined) {
      try {
        name = nodeByPrivateDns(await instances.lookup(instanceId), nodes);
      } catch {
        // EC2 hiccup: the next poll tries again.
      }
    }
    if (name !== undefined && (opts.ready === false || nodes.isReady(name))) return name;
    const left = until - Date.now();
    if (left <= 0) return undefined;
    if (!(await sleep(Math.min(opts.pollMs ?? 2000, left), opts.signal))) return undefined;
  }
}

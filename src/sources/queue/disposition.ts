/**
 * Pure decisions about one queue message: what each notice of it needs and
 * whether the message is deleted or left for redelivery. No I/O here; the
 * handler carries the decisions out.
 *
 * The rule behind every choice: a message is deleted only when nothing more
 * can come of it (handled and durably recorded on the node, or irrelevant);
 * anything that may succeed on a later try leaves it, and the queue's redrive
 * policy moves a message that never succeeds to the dead-letter queue.
 */
import type { Config } from "../../config/index.ts";
import type { Notice } from "../../notice.ts";
import type { QueueDeleteReason, QueueLeaveReason } from "../../observe/labels.ts";

/** What resolving one notice's instance found. */
export type NoticeTarget =
  | { readonly kind: "node"; readonly nodeName: string }
  | {
      readonly kind: "not-in-cluster";
      /** EC2 knows the instance and (with check-tag-before-draining) it carries the managed tag. */
      readonly managed: boolean;
      /** When EC2 says the instance was launched, if it said. */
      readonly launchedAtMs?: number | undefined;
    }
  | { readonly kind: "not-managed" }
  | {
      readonly kind: "error";
      readonly reason: "aws-api-error";
      readonly message: string;
      /** The lookup failed because EC2 was unavailable (throttled, 5xx, no answer): worth holding. */
      readonly outage: boolean;
    };

export type Disposition =
  | { readonly delete: true; readonly reason: QueueDeleteReason }
  | { readonly delete: false; readonly reason: QueueLeaveReason };

export const deleteFor = (reason: QueueDeleteReason): Disposition => ({ delete: true, reason });
export const leaveFor = (reason: QueueLeaveReason): Disposition => ({ delete: false, reason });

/**
 * The message's fate once every notice found on a node has been recorded.
 * A transient lookup error wins (retry later); then an instance of no node
 * here (kept unless delete-sqs-msg-if-node-not-found: on a queue shared
 * between clusters it belongs to another cluster's handler); then the rest.
 */
export function messageDisposition(
  targets: readonly NoticeTarget[],
  config: Pick<Config, "deleteSqsMsgIfNodeNotFound">,
): Disposition {
  const has = (kind: NoticeTarget["kind"]) => targets.some((t) => t.kind === kind);
  if (has("error")) return leaveFor("aws-api-error");
  if (has("not-in-cluster") && !config.deleteSqsMsgIfNodeNotFound)
    return leaveFor("not-in-cluster");
  if (has("node")) return deleteFor("handled");
  if (has("not-in-cluster")) return deleteFor("not-in-cluster");
  return deleteFor("not-managed");
}

/** How a notice with a node is carried out. */
export type NoticePath =
  /** Hand it to the drain engine; delete once the engine recorded it on the node. */
  | "record"
  /** Drain, then complete the terminate lifecycle action; delete after completing. */
  | "drain-then-complete"
  /** Wait for the node to be Ready, then complete the launch lifecycle action. */
  | "complete-launch"
  /** Nothing to do for this notice (configuration says so). */
  | "ignore";

export function noticePath(
  notice: Notice,
  hasLifecycleAction: boolean,
  config: Pick<Config, "completeLaunchLifecycleAction">,
): NoticePath {
  if (notice.kind === "asg-launch") {
    if (!config.completeLaunchLifecycleAction || !hasLifecycleAction) return "ignore";
    // A launch into the warm pool is stopped right after its hooks: it never
    // becomes a Ready node, so waiting for one would only time out.
    if (notice.detail.destination === "WarmPool") return "ignore";
    return "complete-launch";
  }
  if (notice.kind === "asg-terminate" && hasLifecycleAction) return "drain-then-complete";
  if (notice.action === "complete-launch") return "ignore";
  return "record";
}

/** When a terminate hook is completed after the drain: never before, plus the configured delay. */
export function completionDelayMs(config: Pick<Config, "completeLifecycleActionDelaySeconds">) {
  return Math.max(0, config.completeLifecycleActionDelaySeconds) * 1000;
}

/** What a terminate lifecycle action for an instance with no node gets. */
export type NoNodeVerdict =
  /** Complete it with CONTINUE now: the instance never joined (or left), nothing to drain. */
  | { readonly kind: "complete" }
  /** Wait for the node to register until `untilMs`, then decide again. */
  | { readonly kind: "wait"; readonly untilMs: number }
  /** Leave it alone (the message's disposition decides what happens to it). */
  | { readonly kind: "leave" };

/**
 * A terminate hook for an instance that has no node: without this the Auto
 * Scaling group waits out the hook's whole timeout (often an hour) before
 * terminating it. Completed only for an instance this cluster manages (the
 * queue is this cluster's alone and the tag check passed); an instance
 * launched moments ago may still be registering its node, so it gets until
 * `nodeRegistrationWaitSeconds` after its launch (after receipt when EC2 did
 * not say when it launched).
 */
export function noNodeVerdict(
  target: Extract<NoticeTarget, { kind: "not-in-cluster" }>,
  config: Pick<
    Config,
    | "completeLifecycleActionWithoutNode"
    | "deleteSqsMsgIfNodeNotFound"
    | "nodeRegistrationWaitSeconds"
  >,
  nowMs: number,
  receivedAtMs: number,
): NoNodeVerdict {
  if (!config.completeLifecycleActionWithoutNode || !config.deleteSqsMsgIfNodeNotFound) {
    return { kind: "leave" };
  }
  if (!target.managed) return { kind: "leave" };
  const untilMs = (target.launchedAtMs ?? receivedAtMs) + config.nodeRegistrationWaitSeconds * 1000;
  return untilMs > nowMs ? { kind: "wait", untilMs } : { kind: "complete" };
}

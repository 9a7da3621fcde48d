/**
 * The first step of one node's work: cordon, taint, labels and nthd's record
 * in one patch guarded by the node's resourceVersion, and in queue mode the
 * decision of whose work it is (ownership.ts): this replica's, or another
 * live replica's that the notice only joins through the record.
 */
import type { V1Node } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { NthdError } from "../errors.ts";
import type { EngineContext, Work } from "./context.ts";
import { ownerPatch, ownershipOf } from "./ownership.ts";
import {
  isScheduled,
  joinPatch,
  markPatch,
  type NodeRecord,
  readRecord,
  readState,
} from "./record.ts";
import { updateNode } from "./record-write.ts";

export type Marked =
  | {
      readonly state: "marked" | "already-drained";
      /** The notice was not on the node's record before (not a redelivery, not scheduled earlier). */
      readonly fresh: boolean;
      /** The node as read or patched (its labels name the capacity pool). */
      readonly node: V1Node;
    }
  | {
      /** Scheduled work whose record left the node before its start: cancelled elsewhere. */
      readonly state: "withdrawn";
      readonly reason: string;
    }
  | {
      /**
       * Another live replica owns the node's work: the notice was added to
       * its record (the owner picks it up from there) and nothing else done.
       */
      readonly state: "held";
      readonly owner: string;
    };

/**
 * Writes cordon, taint, labels and record in one patch, naming this replica
 * as the owner (queue mode). Scheduled work (`w.drainAt` set) only goes
 * ahead while the node's record still holds its notice: a cancel handled
 * elsewhere, or an operator, may have removed it. Work a live replica owns
 * is joined through its record instead; work of a replica that is gone is
 * taken over by the same guarded patch.
 */
export async function mark(ctx: EngineContext, w: Work, log: Logger): Promise<Marked> {
  const me = ctx.replicas?.me;
  const alive = (owner: string) => ctx.replicas?.alive(owner) ?? false;
  let record: NodeRecord | undefined;
  let alreadyDrained = false;
  let fresh = true;
  let withdrawn = false;
  let held: string | undefined;
  const result = await updateNode(
    ctx.kube,
    w.nodeName,
    (node) => {
      record = undefined;
      alreadyDrained = false;
      held = undefined;
      const existing = readRecord(node);
      if (!existing.ok) log.warn({ err: existing.error }, "replacing a damaged nthd record");
      const previous = existing.ok ? existing.record : undefined;
      // A scheduled record holds the notice but nthd has not cordoned yet.
      const scheduled = previous !== undefined && isScheduled(previous);
      fresh = !previous?.notices.some((n) => n.id === w.notice.id);
      withdrawn = w.drainAt !== undefined && fresh;
      if (withdrawn) return null;
      const own = ownershipOf(previous, me, alive);
      if (own.kind === "held" && previous !== undefined) {
        held = own.owner;
        record = previous;
        return fresh ? joinPatch(node, previous, w.notice, w.deadlineAt) : null;
      }
      // Writing ourselves in as the owner, when the record names someone else (or nobody).
      const claim = me !== undefined && previous !== undefined && previous.owner !== me;
      const base = previous && me !== undefined ? { ...previous, owner: me } : previous;
      const joinOrClaim = (prev: NodeRecord) =>
        joinPatch(node, base ?? prev, w.notice) ??
        (claim ? ownerPatch(node, prev, me as string) : null);
      if (previous && !fresh && !scheduled && node.spec?.unschedulable) {
        // Redelivered notice, already recorded (by this process before a
        // restart, or by a replica that is gone).
        record = base;
        alreadyDrained = readState(node) === "drained";
        return claim ? ownerPatch(node, previous, me as string) : null;
      }
      if (previous && !scheduled && w.action === "cordon") {
        // Work already recorded on the node (a drain, say): add this notice to it.
        record = base;
        return joinOrClaim(previous);
      }
      if (
        previous &&
        !scheduled &&
        previous.action === "drain" &&
        readState(node) === "drained" &&
        node.spec?.unschedulable
      ) {
        // Drained already (a Spot warning, then the Auto Scaling hook): the
        // notice joins the record; draining an empty node again would only
        // repeat Events and webhooks.
        record = base;
        alreadyDrained = true;
        return joinOrClaim(previous);
      }
      const built = markPatch(
        node,
        w.notice,
        w.action,
        w.deadlineAt,
        ctx.config,
        ctx.clock(),
        previous,
        me,
      );
      record = built.record;
      return built.patch;
    },
    { lane: "urgent", signal: w.cancel.signal, cached: ctx.nodeCache?.byName(w.nodeName) },
  );
  if (!result.found) {
    throw new NthdError("KUBE_NODE_NOT_FOUND", `node ${w.nodeName} not found`, {
      context: { node: w.nodeName },
    });
  }
  if (withdrawn) {
    return {
      state: "withdrawn",
      reason: `the scheduled record for ${w.notice.id} was removed from the node before the drain started`,
    };
  }
  if (held !== undefined) return { state: "held", owner: held };
  w.claimedVersion = result.node.metadata?.resourceVersion;
  // The record as written (the node as patched holds it; without a patch, as read).
  const written = readRecord(result.node);
  w.record = written.ok && written.record ? written.record : record;
  if (w.record) w.deadlineAt = new Date(w.record.deadline);
  return { state: alreadyDrained ? "already-drained" : "marked", fresh, node: result.node };
}

/**
 * Work another live replica owns. This replica's notice is already joined
 * to the node's record (its facts reach the owner through it); what is left
 * here is to wait, reading the informer's copy of the node (no API calls),
 * until the record shows the work over and every joined notice that needed
 * finishing finished, and to take the work over if its owner goes away
 * first: its Lease expired (a replica killed or scaled away) or was deleted
 * (a replica stopped with SIGTERM hands its work back at once).
 *
 * Taking over is a compare-and-swap: the owner field is patched with the
 * node's resourceVersion as a precondition, so of two replicas that saw the
 * owner go, one wins and the other follows it instead.
 */
import type { V1Node } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { NthdError } from "../errors.ts";
import { type EngineContext, makeReport, type Replicas, type Work } from "./context.ts";
import { followVerdict, ownerPatch, ownershipOf } from "./ownership.ts";
import { type NodeRecord, readRecord, readState } from "./record.ts";
import { updateNode } from "./record-write.ts";
import type { DrainReport, DrainResult } from "./report.ts";
import type { Wakeups } from "./wakeups.ts";

export type FollowEnd =
  | { readonly kind: "over"; readonly report: DrainReport }
  /** This replica owns the work now; `node` and `record` as taken. */
  | { readonly kind: "taken"; readonly node: V1Node; readonly record: NodeRecord };

const RESULT_OF: Readonly<Record<"drained" | "incomplete" | "cordoned", DrainResult>> = {
  drained: "drained",
  incomplete: "deadline-exceeded",
  cordoned: "cordoned",
};

export async function followOwner(
  ctx: EngineContext & { readonly replicas: Replicas },
  w: Work,
  wakeups: Wakeups,
  log: Logger,
): Promise<FollowEnd> {
  const { replicas } = ctx;
  const alive = (owner: string) => replicas.alive(owner);
  const signal = w.cancel.signal;
  for (;;) {
    signal.throwIfAborted();
    const node = ctx.nodeCache?.byName(w.nodeName) ?? (await ctx.kube.getNode(w.nodeName));
    const current = node ? readRecord(node) : undefined;
    const record = current?.ok ? current.record : undefined;
    const verdict = followVerdict(
      record,
      node ? readState(node) : undefined,
      w.ids,
      replicas.me,
      alive,
    );
    switch (verdict.kind) {
      case "gone":
        return {
          kind: "over",
          report: makeReport(ctx, w, w.action, "cancelled", {
            message: "the record of the work this notice joined left the node",
          }),
        };
      case "over":
        return {
          kind: "over",
          report: makeReport(ctx, w, record?.action ?? w.action, RESULT_OF[verdict.state], {
            message: `handled by replica ${w.following ?? "?"}: ${verdict.state}`,
          }),
        };
      case "take-over": {
        const taken = await takeOver(ctx, w, alive);
        if (taken !== undefined) {
          log.info({ from: w.following }, "owner of the node's work is gone; taken over");
          w.following = undefined;
          return { kind: "taken", ...taken };
        }
        break;
      }
      case "wait":
        if (w.following !== verdict.owner) {
          log.info({ owner: verdict.owner }, "following the work of another replica");
          w.following = verdict.owner;
        }
        break;
    }
    await wakeups.wait(w.nodeName, replicas.periodMs, signal);
  }
}

/** The compare-and-swap: undefined when another live replica holds it after all. */
async function takeOver(
  ctx: EngineContext & { readonly replicas: Replicas },
  w: Work,
  alive: (owner: string) => boolean,
): Promise<{ node: V1Node; record: NodeRecord } | undefined> {
  let record: NodeRecord | undefined;
  const result = await updateNode(
    ctx.kube,
    w.nodeName,
    (node) => {
      const current = readRecord(node);
      record = current.ok ? current.record : undefined;
      if (record === undefined) return null;
      const own = ownershipOf(record, ctx.replicas.me, alive);
      if (own.kind === "held") {
        record = undefined;
        return null;
      }
      record = { ...record, owner: ctx.replicas.me };
      return own.kind === "mine" ? null : ownerPatch(node, record, ctx.replicas.me);
    },
    { lane: "urgent", signal: w.cancel.signal, cached: ctx.nodeCache?.byName(w.nodeName) },
  );
  if (!result.found) {
    throw new NthdError("KUBE_NODE_NOT_FOUND", `node ${w.nodeName} not found`, {
      context: { node: w.nodeName },
    });
  }
  return record === undefined ? undefined : { node: result.node, record };
}

/**
 * Queue mode's watch over the work recorded on nodes, shared by the
 * replicas: driven by the Node informer (no API calls to look) and, for
 * Leases that expire without any event, by a tick every Lease period.
 *
 * - Work this replica owns picks up what other replicas add to its record
 *   (a notice, an earlier deadline or start, a lifecycle action to finish),
 *   and stops at once if another replica took it over.
 * - Recorded work whose owner is gone (stopped, killed, scaled away) is
 *   adopted: taken over and resumed. So is work this replica owns but no
 *   longer runs, when a notice of it still waits to be finished or a drain
 *   ended in an error (after a pause).
 * - The drain slots follow the number of live replicas, so that
 *   max-concurrent-drains holds for the deployment as a whole.
 * - Without its own Lease (renewals failing) this replica keeps its work
 *   and its lifecycle heartbeats. Renewals fail when the API server cannot
 *   be reached, and then neither can the drains: stopping them would only
 *   start them again once it answers (a second drain, a lifecycle action
 *   left open, its message back). If other replicas could reach it and took
 *   the work over, this one stops it when its informer shows the new owner,
 *   and every write it makes is guarded by the node's resourceVersion and
 *   owner meanwhile.
 */
import type { V1Node } from "@kubernetes/client-node";
import type { Semaphore } from "../async/semaphore.ts";
import { errorMessage } from "../errors.ts";
import type { EngineContext, Replicas, Work } from "./context.ts";
import type { Duties } from "./duties.ts";
import { atOrAfter, drainShare, shouldAdopt } from "./ownership.ts";
import { type NodeRecord, readRecord, readState, STATE_LABEL } from "./record.ts";
import { adoptNode } from "./resume.ts";
import type { Wakeups } from "./wakeups.ts";
import type { WorkStart } from "./work-run.ts";

/** A drain of this replica's that ended in an error is tried again after this long. */
export const FAILED_RETRY_MS = 30_000;

export interface Adopter {
  /** The informer saw the node change. */
  nodeChanged(name: string): void;
  /** Looks at every recorded node now (a Lease changed, or the period passed). */
  scan(): void;
  /** A piece of local work ended. */
  ended(w: Work): void;
  stop(): void;
}

export function createAdopter(
  ctx: EngineContext & { readonly replicas: Replicas },
  deps: {
    readonly works: ReadonlyMap<string, Work>;
    readonly start: (s: WorkStart) => Work;
    readonly duties: Duties;
    readonly wakeups: Wakeups;
    readonly slots: Semaphore;
  },
): Adopter {
  const { replicas, log } = ctx;
  const { works, duties } = deps;
  const alive = (owner: string) => replicas.alive(owner);
  const adopting = new Set<string>();
  const endedAt = new Map<string, number>();
  let lapsed = false;
  let stopped = false;
  let scanQueued = false;

  function adopt(name: string): void {
    const node = ctx.nodeCache?.byName(name);
    if (node === undefined || adopting.has(name) || works.has(name)) return;
    adopting.add(name);
    void adoptNode(ctx, node, { busy: (n) => stopped || works.has(n), start: deps.start, duties })
      .then((resumed) => {
        if (resumed.length > 0) log.info({ node: name }, "adopted recorded work");
      })
      .catch((err: unknown) =>
        log.warn({ node: name, err: errorMessage(err) }, "could not adopt recorded work"),
      )
      .finally(() => adopting.delete(name));
  }

  /** Work this replica runs: fold in what others added, or stop if it was taken over. */
  function check(w: Work, node: V1Node, record: NodeRecord | undefined): void {
    if (!w.owned || w.following !== undefined) return;
    if (!atOrAfter(node.metadata?.resourceVersion, w.claimedVersion)) return;
    if (record === undefined) {
      // A cancel handled by another replica released the node.
      log.info({ node: w.nodeName }, "nthd's record left the node; stopping the work here");
      w.cancel.abort(new Error("nthd's record was removed from the node"));
      duties.stop(w.nodeName, "record removed");
      return;
    }
    const owner = record.owner;
    // Only a live owner can have taken it: a dead one's name is an older copy of the node.
    if (owner !== undefined && owner !== replicas.me && alive(owner)) {
      log.warn({ node: w.nodeName, owner }, "work taken over by another replica; stopping here");
      w.cancel.abort(new Error(`taken over by replica ${owner}`));
      duties.stop(w.nodeName, "taken over by another replica");
      return;
    }
    if (owner !== replicas.me) return;
    foldIn(w, record);
    duties.handOut(w.nodeName, record, w.done);
  }

  function look(name: string): void {
    if (stopped) return;
    const node = ctx.nodeCache?.byName(name);
    if (node === undefined) return;
    const read = readRecord(node);
    if (!read.ok) return;
    const record = read.record;
    const w = works.get(name);
    if (w !== undefined) {
      check(w, node, record);
      return;
    }
    if (record === undefined) return;
    const state = readState(node);
    if (shouldAdopt(record, state, replicas.me, alive)) {
      adopt(name);
      return;
    }
    if (record.owner !== replicas.me) return;
    const failedAgo = Date.now() - (endedAt.get(name) ?? 0);
    if (duties.pending(record) || (state === "draining" && failedAgo >= FAILED_RETRY_MS)) {
      adopt(name);
    }
  }

  function scanNow(): void {
    scanQueued = false;
    if (stopped) return;
    const share = drainShare(ctx.config.maxConcurrentDrains, replicas.live());
    if (share !== deps.slots.size) {
      log.info({ drainSlots: share, replicas: replicas.live() }, "drain slots follow the replicas");
      deps.slots.resize(share);
    }
    if (!replicas.holding()) {
      // Nothing is adopted on a view of the others' Leases this old.
      if (!lapsed) {
        log.warn(
          { owned: [...works.values()].filter((w) => w.owned).length },
          "own lease not renewed in time: other replicas may take this replica's work over",
        );
      }
      lapsed = true;
      return;
    }
    if (lapsed) log.info("own lease renewed again");
    lapsed = false;
    for (const node of ctx.nodeCache?.nodes?.() ?? []) {
      const name = node.metadata?.name;
      if (name !== undefined && node.metadata?.labels?.[STATE_LABEL] !== undefined) look(name);
    }
  }

  const timer = setInterval(() => {
    scanNow();
    deps.wakeups.wakeAll();
  }, replicas.periodMs);
  timer.unref();

  return {
    nodeChanged(name) {
      deps.wakeups.wake(name);
      look(name);
    },
    scan() {
      deps.wakeups.wakeAll();
      if (scanQueued) return;
      scanQueued = true;
      setImmediate(scanNow);
    },
    ended(w) {
      endedAt.set(w.nodeName, Date.now());
      if (endedAt.size > 10_000) endedAt.clear();
    },
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}

/** What another replica added to the record of work this one runs. */
function foldIn(w: Work, record: NodeRecord): void {
  for (const n of record.notices) {
    if (w.ids.has(n.id)) continue;
    w.ids.add(n.id);
    w.kinds.add(n.kind);
    w.joined.push(n.id);
  }
  const deadline = new Date(record.deadline);
  if (deadline < w.deadlineAt) {
    w.deadlineAt = deadline;
    w.deadline?.tighten(deadline);
  }
  if (w.waiting && record.drainAt !== undefined) {
    const at = new Date(record.drainAt);
    if (record.action === "drain") w.action = "drain";
    if (w.drainAt === undefined || at < w.drainAt) {
      w.drainAt = at;
      w.wake?.();
    }
  }
  w.record = record;
}

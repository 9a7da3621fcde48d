/**
 * The one place where the engine's steps and outcomes become metrics,
 * Kubernetes Events, log lines and webhook notifications. The steps only say
 * what happened; what each thing means to an operator is decided here, so a
 * dashboard, an Event stream and a webhook never tell different stories.
 */
import type { V1Node } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { errorMessage, isNthdError } from "../errors.ts";
import type { Notice } from "../notice.ts";
import {
  countAction,
  countDrain,
  countInterruption,
  observeCordoned,
  observeDrained,
} from "../observe/metrics.ts";
import type { Webhook } from "../observe/webhook.ts";
import { webhookData } from "../observe/webhook-data.ts";
import type { Work } from "./context.ts";
import { type DrainEvents, STEP_REASONS } from "./events.ts";
import { poolOf } from "./pool.ts";
import { type DrainReport, podsLeft } from "./report.ts";

export interface Announcer {
  /** Cordon and record written; `fresh`: the notice was not on the node before. */
  cordoned(w: Work, fresh: boolean, node: V1Node, log: Logger): void;
  /** Scheduled work recorded; the cordon and drain start at `at`. */
  scheduled(w: Work, node: V1Node, firstTime: boolean, at: string): void;
  /** A drain ended (drained, or deadline passed / failed with pods left). */
  drainEnded(w: Work, r: DrainReport, log: Logger): void;
  /** The work stopped on an error before its drain could report. */
  failed(w: Work, err: unknown, wasRecorded: boolean): void;
  dryRun(w: Work, node: V1Node): void;
  /** Running work aborted by a cancel notice. */
  cancelled(nodeName: string, what: string, workId: string, cancelId: string): void;
  uncordon(
    notice: Notice,
    nodeName: string,
    outcome: "success" | "dry-run" | "error",
    detail?: string,
  ): void;
  /** Every notice handed to the engine, once its work is over: log line and webhook. */
  settled(notice: Notice, nodeName: string, r: DrainReport, log: Logger): void;
}

/** The node and event an action was for (NTH's actions_node_total labels). */
const on = (w: Work) => ({ nodeName: w.nodeName, eventId: w.notice.id });

export function createAnnouncer(deps: {
  events: DrainEvents;
  clock: () => Date;
  webhook?: Pick<Webhook, "notify"> | undefined;
}): Announcer {
  const { events, clock, webhook } = deps;
  return {
    cordoned(w, fresh, node, log) {
      if (fresh) countInterruption(w.notice.kind, poolOf(node, w.notice));
      if (w.action === "drain") {
        // The marks a drain starts with (record, notice taint, load-balancer exclusion)
        // are NTH's pre-drain step; nthd writes them in the cordon's patch.
        countAction(w.notice.kind, "pre-drain", "success", on(w));
        events.step(
          w.nodeName,
          STEP_REASONS.preDrain,
          `marked for ${w.notice.kind} notice ${w.notice.id}`,
        );
      }
      countAction(w.notice.kind, "cordon", "success", on(w));
      if (w.drainAt === undefined) {
        observeCordoned(w.notice, clock());
        events.notice(w.nodeName, w.notice);
      }
      events.step(
        w.nodeName,
        STEP_REASONS.cordon,
        `cordoned for ${w.notice.kind} notice ${w.notice.id}`,
      );
      log.info({ action: w.action, deadline: w.deadlineAt }, "node cordoned and recorded");
    },

    scheduled(w, node, firstTime, at) {
      if (!firstTime) return;
      countInterruption(w.notice.kind, poolOf(node, w.notice));
      const what = w.action === "drain" ? "cordon and drain" : "cordon";
      events.notice(w.nodeName, w.notice, `nthd will ${what} the node at ${at}`);
    },

    drainEnded(w, r, log) {
      const ok = r.result === "drained";
      countAction(w.notice.kind, "cordon-and-drain", ok ? "success" : "error", on(w));
      if (ok) {
        // Notice-to-drained measures reaction time; a drain scheduled days
        // after its notice would only blur that.
        if (w.drainAt === undefined) observeDrained(w.notice, clock());
        countDrain(w.notice.kind, "completed");
        events.step(w.nodeName, STEP_REASONS.drain, `node drained: ${r.message}`);
        log.info({ result: r.result }, r.message);
        return;
      }
      const blocked = r.pods.some((p) => p.outcome === "blocked");
      countDrain(
        w.notice.kind,
        r.result === "failed" ? "failed" : "deadline-exceeded",
        r.result === "failed" ? "eviction-error" : blocked ? "pdb-blocked" : "pods-not-terminated",
      );
      events.step(w.nodeName, STEP_REASONS.drainError, r.message);
      log.warn({ result: r.result, left: podsLeft(r.pods).length }, r.message);
    },

    failed(w, err, wasRecorded) {
      if (!wasRecorded && w.action === "drain") {
        countAction(w.notice.kind, "pre-drain", "error", on(w));
        events.step(w.nodeName, STEP_REASONS.preDrainError, errorMessage(err));
      }
      countAction(w.notice.kind, wasRecorded ? "cordon-and-drain" : "cordon", "error", on(w));
      countDrain(
        w.notice.kind,
        "failed",
        isNthdError(err, "KUBE_NODE_NOT_FOUND") ? "node-not-found" : "kube-api-error",
      );
      events.step(
        w.nodeName,
        wasRecorded ? STEP_REASONS.drainError : STEP_REASONS.cordonError,
        errorMessage(err),
      );
    },

    dryRun(w, node) {
      countInterruption(w.notice.kind, poolOf(node, w.notice));
      countAction(w.notice.kind, w.action === "drain" ? "cordon-and-drain" : "cordon", "dry-run");
    },

    cancelled(nodeName, what, workId, cancelId) {
      events.step(nodeName, STEP_REASONS.cancel, `${what} for ${workId} cancelled by ${cancelId}`);
    },

    uncordon(notice, nodeName, outcome, detail) {
      countAction(notice.kind, "uncordon", outcome, { nodeName, eventId: notice.id });
      if (outcome === "success") {
        events.step(
          nodeName,
          STEP_REASONS.uncordon,
          `nthd's cordon and marks removed (${notice.kind} notice ${notice.id})`,
        );
      } else if (outcome === "error") {
        events.step(nodeName, STEP_REASONS.uncordonError, detail ?? "uncordon failed");
      }
    },

    settled(notice, nodeName, r, log) {
      const fields = { result: r.result, pods: r.pods.length, resumed: r.resumed };
      if (r.result === "failed" || r.result === "deadline-exceeded") log.warn(fields, r.message);
      else log.info(fields, r.message);
      // Only now, never before: a webhook that says "drained" must be true.
      webhook?.notify(
        webhookData(
          notice,
          { action: r.action, outcome: r.result, reason: r.message },
          {
            NodeName: nodeName,
            Pods: r.pods
              .filter((p) => p.outcome === "evicted")
              .map((p) => `${p.pod.namespace}/${p.pod.name}`),
          },
        ),
      );
    },
  };
}

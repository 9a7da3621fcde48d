/**
 * Every Kubernetes Event the drain engine writes, built in one place.
 * Reasons follow aws-node-termination-handler so existing alerts match:
 * the notice's own reason (SpotInterruption, ScheduledEvent, ...,
 * UnknownInterruption for kinds NTH has no name for), then the steps
 * PreDrain, Cordon, CordonAndDrain, PostDrain, CancelDrain, Uncordon (each
 * with an ...Error variant), MonitorError when a source keeps failing, and
 * PodEviction on each evicted pod.
 * Events are best effort: a failure is logged and never fails a drain.
 * They go out in the rate limiter's background lane (after evictions) and
 * at most MAX_PENDING_EVENTS wait at once; beyond that new ones are dropped
 * and counted in a log line, as client-go's event broadcaster drops events
 * when its queue is full. A mass interruption writes one Event per evicted
 * pod, and holding ten thousand of them while the evictions use the budget
 * would make memory grow with the size of the interruption.
 */
import type { Logger } from "pino";
import type { Config } from "../config/index.ts";
import { errorMessage } from "../errors.ts";
import type { KubeClient } from "../kube/client.ts";
import { buildEvent, nodeRef, podObjectRef } from "../kube/events.ts";
import type { Notice } from "../notice.ts";
import type { PodRef } from "./planner.ts";
import { eventType, KIND_POLICY } from "./policy.ts";

export const STEP_REASONS = {
  monitorError: "MonitorError",
  preDrain: "PreDrain",
  preDrainError: "PreDrainError",
  cordon: "Cordon",
  cordonError: "CordonError",
  drain: "CordonAndDrain",
  drainError: "CordonAndDrainError",
  postDrain: "PostDrain",
  postDrainError: "PostDrainError",
  cancel: "CancelDrain",
  cancelError: "CancelDrainError",
  uncordon: "Uncordon",
  uncordonError: "UncordonError",
  podEviction: "PodEviction",
} as const;
export type StepReason = (typeof STEP_REASONS)[keyof typeof STEP_REASONS];

export interface DrainEvents {
  /** The notice itself, e.g. reason SpotInterruption; `note` is added to the message. */
  notice(nodeName: string, notice: Notice, note?: string): void;
  step(nodeName: string, reason: StepReason, message: string): void;
  podEvicted(pod: PodRef, nodeName: string, message: string): void;
  /** Waits for Events already sent (shutdown). */
  flush(): Promise<void>;
}

/** Events waiting for the rate limiter or the API server, at most. */
export const MAX_PENDING_EVENTS = 500;

const WARNING_STEPS: ReadonlySet<string> = new Set([
  STEP_REASONS.monitorError,
  STEP_REASONS.preDrainError,
  STEP_REASONS.cordonError,
  STEP_REASONS.drainError,
  STEP_REASONS.postDrainError,
  STEP_REASONS.cancelError,
  STEP_REASONS.uncordonError,
]);

export function createDrainEvents(deps: {
  kube: KubeClient;
  config: Pick<
    Config,
    | "emitKubernetesEvents"
    | "kubernetesEventsExtraAnnotations"
    | "kubernetesEventsComponent"
    | "dryRun"
    | "podName"
  >;
  log: Logger;
  clock: () => Date;
}): DrainEvents {
  const { kube, config, log, clock } = deps;
  const on = config.emitKubernetesEvents && !config.dryRun;
  const pending = new Set<Promise<void>>();
  let dropped = 0;

  function send(
    subject: ReturnType<typeof nodeRef>,
    type: "Normal" | "Warning",
    reason: string,
    message: string,
  ) {
    if (!on) return;
    if (pending.size >= MAX_PENDING_EVENTS) {
      dropped++;
      // One line for the first drop of a burst, then one per thousand.
      if (dropped % 1000 === 1) {
        log.warn(
          { dropped, pending: pending.size, reason },
          "too many Kubernetes Events waiting to be sent; dropping new ones",
        );
      }
      return;
    }
    const { namespace, event } = buildEvent(
      subject,
      {
        type,
        reason,
        message,
        annotations: config.kubernetesEventsExtraAnnotations,
        instance: config.podName,
        component: config.kubernetesEventsComponent,
      },
      clock(),
    );
    const p = kube
      .createEvent(namespace, event, { lane: "background" })
      .catch((err: unknown) =>
        log.warn({ reason, err: errorMessage(err) }, "could not record Kubernetes Event"),
      )
      .finally(() => pending.delete(p));
    pending.add(p);
  }

  return {
    notice(nodeName, notice, note) {
      const when = notice.deadline ? `; expected at ${notice.deadline.toISOString()}` : "";
      send(
        nodeRef(nodeName),
        eventType(notice.kind),
        KIND_POLICY[notice.kind].eventReason,
        `${notice.kind} notice ${notice.id} for instance ${notice.instanceId}${when}${note ? `; ${note}` : ""}`,
      );
    },
    step(nodeName, reason, message) {
      send(nodeRef(nodeName), WARNING_STEPS.has(reason) ? "Warning" : "Normal", reason, message);
    },
    podEvicted(pod, nodeName, message) {
      send(
        podObjectRef(pod.namespace, pod.name, pod.uid),
        "Normal",
        STEP_REASONS.podEviction,
        `${message} (node ${nodeName})`,
      );
    },
    async flush() {
      await Promise.allSettled([...pending]);
    },
  };
}
